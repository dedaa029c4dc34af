import type { DocumentSubmitted } from '@rag/contracts';
import { paragraph, seededRandom, sentence, textDocument, distinctivePhrase } from '@rag/testkit';

export interface CorpusOptions {
  documents: number;
  minBytes: number;
  maxBytes: number;
  seed: number;
}

/**
 * A seeded corpus of mixed sizes (log-uniform between minBytes and maxBytes, so small
 * documents are as common as large ones per size class) and mixed types (70 % Markdown with
 * headings, 30 % plain text). The same options always give the same bytes.
 */
export function generateCorpus(options: CorpusOptions, idPrefix = 'doc'): DocumentSubmitted[] {
  const random = seededRandom(options.seed);
  const docs: DocumentSubmitted[] = [];
  const ratio = options.maxBytes / options.minBytes;
  for (let i = 0; i < options.documents; i++) {
    const bytes = Math.round(options.minBytes * Math.pow(ratio, random()));
    const markdown = random() < 0.7;
    const body = markdown ? markdownDocument(random, bytes) : textDocument(random, bytes, distinctivePhrase(random));
    docs.push({
      documentId: `${idPrefix}-${i}`,
      version: 1,
      title: sentence(random, 4),
      contentType: markdown ? 'text/markdown' : 'text/plain',
      content: Buffer.from(body, 'utf8'),
      source: 'bench',
      metadata: { corpus: 'bench', seed: String(options.seed) },
      submittedAt: 0,
    });
  }
  return docs;
}

function markdownDocument(random: () => number, bytes: number): string {
  const parts: string[] = [`# ${sentence(random, 3).slice(0, -1)}`];
  let size = parts[0].length;
  while (size < bytes) {
    const heading = `## ${sentence(random, 3).slice(0, -1)}`;
    const section = [heading, ...Array.from({ length: 1 + Math.floor(random() * 4) }, () => paragraph(random))].join('\n\n');
    parts.push(section);
    size += section.length + 2;
  }
  return parts.join('\n\n');
}

/** A copy of `doc` under a new id, stamped with its submission time (for open-loop runs). */
export function resubmit(doc: DocumentSubmitted, documentId: string, submittedAt: number): DocumentSubmitted {
  return { ...doc, documentId, submittedAt };
}
