import { extname } from 'node:path';
import { TEXT_CONTENT_TYPES } from './submit-document.dto';

const BY_EXTENSION: Record<string, (typeof TEXT_CONTENT_TYPES)[number]> = {
  '.txt': 'text/plain',
  '.text': 'text/plain',
  '.md': 'text/markdown',
  '.markdown': 'text/markdown',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.json': 'application/json',
};

const ALIASES: Record<string, (typeof TEXT_CONTENT_TYPES)[number]> = {
  'text/x-markdown': 'text/markdown',
  'application/xhtml+xml': 'text/html',
};

/**
 * The content type of an upload: the declared MIME type when it is one we take, otherwise
 * (generic or missing) the file extension's. Undefined means unsupported (415).
 */
export function resolveUploadContentType(
  mimetype: string | undefined,
  filename: string | undefined,
): (typeof TEXT_CONTENT_TYPES)[number] | undefined {
  const declared = (mimetype ?? '').split(';')[0].trim().toLowerCase();
  if ((TEXT_CONTENT_TYPES as readonly string[]).includes(declared)) return declared as (typeof TEXT_CONTENT_TYPES)[number];
  if (ALIASES[declared]) return ALIASES[declared];
  if (declared === '' || declared === 'application/octet-stream') return BY_EXTENSION[extname(filename ?? '').toLowerCase()];
  return undefined;
}
