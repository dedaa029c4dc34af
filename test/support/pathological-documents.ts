/**
 * Documents under MAX_DOCUMENT_BYTES (10 MiB) that each attack the chunker's parsing in a
 * different way. Shared by the pathological-documents chaos test and the measuring script.
 */
export interface PathologicalDocument {
  /** Short name, also the document id suffix. */
  shape: string;
  contentType: string;
  /** What it attacks, for the test's names and the report. */
  attacks: string;
  content: () => Buffer;
}

const MiB = 1024 * 1024;

export const PATHOLOGICAL_DOCUMENTS: PathologicalDocument[] = [
  {
    shape: 'nested-html',
    contentType: 'text/html',
    attacks: 'memory: ~4 MiB of 400k nested elements, a DOM and formatting stack per level',
    content: () => {
      const depth = 400_000;
      return Buffer.from(`<html><body>${'<div><b>'.repeat(depth / 2)}deep${'</b></div>'.repeat(depth / 2)}</body></html>`);
    },
  },
  {
    shape: 'whitespace-run',
    contentType: 'text/plain',
    attacks: 'time: a 4 MiB run of spaces and tabs without a newline, quadratic for whitespace regexes',
    content: () => Buffer.from(`start${' \t'.repeat(2 * MiB)}end`),
  },
  {
    shape: 'heading-flood',
    contentType: 'text/markdown',
    attacks: 'memory: 1.5M one-word headings, a section and a chunk object per line',
    content: () => Buffer.from('# h\nx\n'.repeat(1_500_000)),
  },
  {
    shape: 'deep-json',
    contentType: 'application/json',
    attacks: 'stack: 2M levels of nested arrays, recursive walk of the tree',
    content: () => Buffer.from(`${'['.repeat(2_000_000)}"leaf"${']'.repeat(2_000_000)}`),
  },
  {
    shape: 'no-whitespace',
    contentType: 'text/plain',
    attacks: 'time and memory: 9 MiB on one line with no separator, hard cut by tokens of the whole text',
    content: () => {
      const alphabet = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789');
      const bytes = Buffer.alloc(9 * MiB);
      for (let i = 0; i < bytes.length; i++) bytes[i] = alphabet[(i * 7919) % alphabet.length];
      return bytes;
    },
  },
  {
    shape: 'chunk-explosion',
    contentType: 'text/plain',
    attacks: 'count: 9 MiB of short sentences, far more than CHUNK_MAX_PER_DOCUMENT chunks',
    content: () => Buffer.from('Go now. Stop. '.repeat(Math.floor((9 * MiB) / 14))),
  },
];
