import { PermanentError } from '@rag/common/stage-errors';
import { convert, type DomNode, type FormatCallback } from 'html-to-text';
import { normaliseWhitespace, type Section } from './section';
import { csvSections } from './spreadsheet';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export type TextFormat = 'text/plain' | 'text/markdown' | 'text/html' | 'application/json' | 'text/csv';

/**
 * Turns a UTF-8 body into sections of plain text. Markdown keeps its headings as context;
 * HTML is converted to text with its h1-h6 treated like Markdown headings and each table row on
 * one line; JSON becomes `path: value` lines of its string and number leaves; CSV rows become
 * lines. Bad bytes are a permanent error.
 */
export function textSections(type: TextFormat, content: Uint8Array): Section[] {
  let raw: string;
  try {
    raw = utf8.decode(content);
  } catch {
    throw new PermanentError('document content is not valid UTF-8');
  }
  let sections: Section[];
  switch (type) {
    case 'text/plain':
      sections = [{ heading: null, text: raw }];
      break;
    case 'text/markdown':
      sections = markdownSections(raw);
      break;
    case 'text/html':
      sections = htmlSections(raw);
      break;
    case 'application/json':
      sections = [{ heading: null, text: jsonToText(raw) }];
      break;
    case 'text/csv':
      sections = csvSections(raw);
      break;
    default:
      throw new PermanentError(`unsupported content type "${type as string}"`);
  }
  return nonEmpty(sections);
}

/** Whitespace normalised, empty sections dropped; no text at all is a permanent error. */
export function nonEmpty(sections: Section[]): Section[] {
  const kept = sections.map((s) => ({ ...s, text: normaliseWhitespace(s.text) })).filter((s) => s.text.length > 0);
  if (kept.length === 0) throw new PermanentError('document has no text content');
  return kept;
}

/** HTML (also what DOCX becomes) as sections under its h1-h6 heading paths. */
export function htmlSections(html: string): Section[] {
  return markdownSections(htmlToMarkdownishText(html), HTML_HEADING, false).map((s) => ({
    heading: s.heading,
    text: s.text.replaceAll(HTML_HEADING_MARK, ''), // a heading nested mid-line (e.g. in a table) stays text
  }));
}

const ATX_HEADING = /^(#{1,6})\s+(.+?)\s*#*\s*$/;
/** HTML headings are marked with a private-use character, so text lines starting with `#` stay text. */
const HTML_HEADING_MARK = '\uE000';
const HTML_HEADING = /^[\s>]*\uE000(#{1,6})\s*(.*?)\s*$/;

function markdownSections(markdown: string, heading = ATX_HEADING, fences = true): Section[] {
  const sections: Section[] = [];
  const path: string[] = [];
  let lines: string[] = [];
  let inFence = false;
  const flush = () => {
    sections.push({ heading: path.filter(Boolean).join(' > ') || null, text: lines.join('\n') });
    lines = [];
  };
  for (const line of markdown.split(/\r?\n/)) {
    if (fences && /^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const match = inFence ? null : heading.exec(line);
    if (!match) {
      lines.push(line);
      continue;
    }
    flush();
    const level = match[1].length;
    path.length = level - 1;
    path[level - 1] = match[2];
  }
  flush();
  return sections;
}

function htmlToMarkdownishText(html: string): string {
  // Mark headings so the Markdown sectioning applies to HTML as well.
  const marked = html
    .replaceAll(HTML_HEADING_MARK, '')
    .replace(
      /<h([1-6])(\s[^>]*)?>/gi,
      (_m, level: string, attrs = '') => `<h${level}${attrs}>${HTML_HEADING_MARK}${'#'.repeat(Number(level))} `,
    );
  const headings = [1, 2, 3, 4, 5, 6].map((n) => ({ selector: `h${n}`, options: { uppercase: false } }));
  try {
    return convertHtml(marked, headings);
  } catch (err) {
    // html-to-text walks the DOM recursively: hundreds of thousands of nested elements overflow
    // the stack. Say so; "Maximum call stack size exceeded" is no reason a user can act on.
    if (err instanceof RangeError && /call stack/i.test(err.message)) throw new PermanentError('HTML document nested too deeply to read');
    throw err;
  }
}

function convertHtml(marked: string, headings: { selector: string; options: { uppercase: boolean } }[]): string {
  return convert(marked, {
    wordwrap: false,
    formatters: { tableRows: formatTableRows },
    selectors: [
      ...headings,
      { selector: 'table', format: 'tableRows' },
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'nav', format: 'skip' },
      { selector: 'script', format: 'skip' },
      { selector: 'style', format: 'skip' },
    ],
  });
}

type Tag = DomNode & { name: string; attribs: Record<string, string> };
const isTag = (node: DomNode): node is Tag => node.type === 'tag';

/**
 * A table as one line per row, cells joined by " | ", so a row is never split from itself and
 * reads like a record (html-to-text's own table formats pad columns or put each cell on a line).
 */
const formatTableRows: FormatCallback = (elem, walk, builder) => {
  builder.openTable();
  const visit = (node: DomNode): void => {
    if (!isTag(node)) return;
    if (node.name === 'tr') {
      builder.openTableRow();
      for (const cell of node.children.filter(isTag).filter((c) => c.name === 'td' || c.name === 'th')) {
        builder.openTableCell();
        walk(cell.children, builder);
        builder.closeTableCell({ colspan: Number(cell.attribs.colspan) || 1, rowspan: 1 });
      }
      builder.closeTableRow();
    } else if (['thead', 'tbody', 'tfoot'].includes(node.name)) {
      node.children.forEach(visit);
    }
  };
  (elem as Tag).children.forEach(visit);
  builder.closeTable({
    tableToString: (rows) =>
      rows
        .map((row) =>
          row
            .map((cell) => cell.text.replace(/\s+/g, ' ').trim())
            .filter(Boolean)
            .join(' | '),
        )
        .filter(Boolean)
        .join('\n'),
    leadingLineBreaks: 2,
    trailingLineBreaks: 2,
  });
};

/** Deeper JSON is not a document but an attack on the reader (each level adds to every leaf's path). */
export const MAX_JSON_DEPTH = 512;

function jsonToText(raw: string): string {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new PermanentError(`document is not valid JSON: ${(err as Error).message}`);
  }
  // Depth first, in document order, with a stack of its own: recursion overflows on deep input.
  const lines: string[] = [];
  const pending: { node: unknown; path: string; depth: number }[] = [{ node: value, path: '', depth: 0 }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { node, path, depth } = next;
    if (typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean') {
      lines.push(path ? `${path}: ${node}` : String(node));
      continue;
    }
    if (!node || typeof node !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) throw new PermanentError(`JSON document nested deeper than ${MAX_JSON_DEPTH} levels`);
    const children = Array.isArray(node)
      ? node.map((item, i) => ({ node: item as unknown, path: `${path}[${i}]`, depth: depth + 1 }))
      : Object.entries(node).map(([k, v]) => ({ node: v as unknown, path: path ? `${path}.${k}` : k, depth: depth + 1 }));
    for (let i = children.length - 1; i >= 0; i--) pending.push(children[i]);
  }
  return lines.join('\n');
}
