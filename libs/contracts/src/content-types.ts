import { extname } from 'node:path';

/** The document formats the chunker reads (DocumentSubmitted.contentType). */
export const TEXT_CONTENT_TYPES = ['text/plain', 'text/markdown', 'text/html', 'application/json'] as const;
export type TextContentType = (typeof TEXT_CONTENT_TYPES)[number];

const BY_EXTENSION: Record<string, TextContentType> = {
  '.txt': 'text/plain',
  '.text': 'text/plain',
  '.md': 'text/markdown',
  '.markdown': 'text/markdown',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.json': 'application/json',
};

const ALIASES: Record<string, TextContentType> = {
  'text/x-markdown': 'text/markdown',
  'application/xhtml+xml': 'text/html',
};

/**
 * The content type of an upload: the declared MIME type when it is one we take, otherwise
 * (generic or missing) the file extension's. Undefined means unsupported (415).
 */
export function resolveUploadContentType(mimetype: string | undefined, filename: string | undefined): TextContentType | undefined {
  const declared = (mimetype ?? '').split(';')[0].trim().toLowerCase();
  if ((TEXT_CONTENT_TYPES as readonly string[]).includes(declared)) return declared as TextContentType;
  if (ALIASES[declared]) return ALIASES[declared];
  if (declared === '' || declared === 'application/octet-stream') return BY_EXTENSION[extname(filename ?? '').toLowerCase()];
  return undefined;
}

/** The content type of a file by its extension (the CLI's choice of what to send), or undefined. */
export function contentTypeOfFile(filename: string): TextContentType | undefined {
  return BY_EXTENSION[extname(filename).toLowerCase()];
}
