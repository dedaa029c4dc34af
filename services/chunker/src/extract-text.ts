import { PermanentError } from '@rag/common';
import { convert } from 'html-to-text';

/** A run of text under one heading path ("Guide > Install"), or none before the first heading. */
export interface Section {
  heading: string | null;
  text: string;
}

export const SUPPORTED_CONTENT_TYPES = ['text/plain', 'text/markdown', 'text/html', 'application/json'] as const;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function baseContentType(contentType: string): string {
  return contentType.split(';')[0].trim().toLowerCase();
}

/**
 * Turns a document body into sections of plain text. Markdown keeps its headings as context;
 * HTML is converted to text with its h1-h6 treated like Markdown headings; JSON becomes
 * `path: value` lines of its string and number leaves. Bad bytes are a permanent error.
 */
export function extractSections(contentType: string, content: Buffer): Section[] {
  let raw: string;
  try {
    raw = utf8.decode(content);
  } catch {
    throw new PermanentError('document content is not valid UTF-8');
  }
  const type = baseContentType(contentType);
  let sections: Section[];
  switch (type) {
    case 'text/plain':
      sections = [{ heading: null, text: raw }];
      break;
    case 'text/markdown':
      sections = markdownSections(raw);
      break;
    case 'text/html':
      sections = markdownSections(htmlToMarkdownishText(raw), HTML_HEADING, false).map((s) => ({
        heading: s.heading,
        text: s.text.replaceAll(HTML_HEADING_MARK, ''), // a heading nested mid-line (e.g. in a table) stays text
      }));
      break;
    case 'application/json':
      sections = [{ heading: null, text: jsonToText(raw) }];
      break;
    default:
      throw new PermanentError(`unsupported content type "${contentType}" (supported: ${SUPPORTED_CONTENT_TYPES.join(', ')})`);
  }
  sections = sections.map((s) => ({ heading: s.heading, text: normaliseWhitespace(s.text) })).filter((s) => s.text.length > 0);
  if (sections.length === 0) throw new PermanentError('document has no text content');
  return sections;
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
  return convert(marked, {
    wordwrap: false,
    selectors: [
      ...headings,
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'nav', format: 'skip' },
      { selector: 'script', format: 'skip' },
      { selector: 'style', format: 'skip' },
    ],
  });
}

function jsonToText(raw: string): string {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new PermanentError(`document is not valid JSON: ${(err as Error).message}`);
  }
  const lines: string[] = [];
  const walk = (node: unknown, path: string) => {
    if (typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean') {
      lines.push(path ? `${path}: ${node}` : String(node));
    } else if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, `${path}[${i}]`));
    } else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) walk(v, path ? `${path}.${k}` : k);
    }
  };
  walk(value, '');
  return lines.join('\n');
}

function normaliseWhitespace(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\f\v]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
