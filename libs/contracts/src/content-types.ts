import { extname } from 'node:path';
import { unzipSync } from 'fflate';

/** Bounds of a document's own chunkSize (tokens; 8191 is the OpenAI embedding models' input limit). */
export const MIN_CHUNK_SIZE = 16;
export const MAX_CHUNK_SIZE = 8191;

/** Text formats: UTF-8 bodies (DocumentSubmitted.contentType). */
export const TEXT_CONTENT_TYPES = ['text/plain', 'text/markdown', 'text/html', 'application/json', 'text/csv'] as const;
export type TextContentType = (typeof TEXT_CONTENT_TYPES)[number];

export const PDF = 'application/pdf';
export const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
export const PPTX = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';
export const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** Binary formats: recognised by their bytes, never decoded as text. */
export const BINARY_CONTENT_TYPES = [PDF, DOCX, PPTX, XLSX] as const;
export type BinaryContentType = (typeof BINARY_CONTENT_TYPES)[number];

export type ContentType = TextContentType | BinaryContentType;
export const CONTENT_TYPES: readonly ContentType[] = [...TEXT_CONTENT_TYPES, ...BINARY_CONTENT_TYPES];

/** Short names for messages and the README ("pdf", "docx"). */
export const FORMAT_NAMES: Record<ContentType, string> = {
  'text/plain': 'text',
  'text/markdown': 'markdown',
  'text/html': 'html',
  'application/json': 'json',
  'text/csv': 'csv',
  [PDF]: 'pdf',
  [DOCX]: 'docx',
  [PPTX]: 'pptx',
  [XLSX]: 'xlsx',
};

const BY_EXTENSION: Record<string, ContentType> = {
  '.txt': 'text/plain',
  '.text': 'text/plain',
  '.md': 'text/markdown',
  '.markdown': 'text/markdown',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.json': 'application/json',
  '.csv': 'text/csv',
  '.pdf': PDF,
  '.docx': DOCX,
  '.pptx': PPTX,
  '.xlsx': XLSX,
};

const ALIASES: Record<string, ContentType> = {
  'text/x-markdown': 'text/markdown',
  'application/xhtml+xml': 'text/html',
  'application/csv': 'text/csv',
  'application/x-pdf': PDF,
};

export function isContentType(value: string): value is ContentType {
  return (CONTENT_TYPES as readonly string[]).includes(value);
}

export function isBinaryContentType(value: string): value is BinaryContentType {
  return (BINARY_CONTENT_TYPES as readonly string[]).includes(value);
}

/** `text/html; charset=utf-8` → `text/html`. */
export function baseContentType(contentType: string): string {
  return contentType.split(';')[0].trim().toLowerCase();
}

/**
 * The content type an upload claims: the declared MIME type when it is one we take, otherwise
 * (generic or missing) the file extension's. Undefined means unsupported (415). Whether the bytes
 * agree is checkContent's question.
 */
export function resolveUploadContentType(mimetype: string | undefined, filename: string | undefined): ContentType | undefined {
  const declared = baseContentType(mimetype ?? '');
  if (isContentType(declared)) return declared;
  if (ALIASES[declared]) return ALIASES[declared];
  if (declared === '' || declared === 'application/octet-stream') return contentTypeOfFile(filename ?? '');
  return undefined;
}

/** The content type of a file by its extension (the CLI's choice of what to send), or undefined. */
export function contentTypeOfFile(filename: string): ContentType | undefined {
  return BY_EXTENSION[extname(filename).toLowerCase()];
}

/** What the bytes are, as far as the formats we read can tell: a binary format, another zip, or text. */
export type SniffedFormat = BinaryContentType | 'zip' | 'unknown-binary' | 'text';

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

/** OOXML packages are zips told apart by their main part. */
const OOXML_MAIN_PARTS: [string, BinaryContentType][] = [
  ['word/document.xml', DOCX],
  ['ppt/presentation.xml', PPTX],
  ['xl/workbook.xml', XLSX],
];

/** Readers accept a PDF header anywhere in the first KiB (after junk some writers prepend). */
function hasPdfHeader(head: Buffer): boolean {
  return head.includes('%PDF-', 0, 'latin1');
}

/**
 * Magic-byte detection: `%PDF-` at the start, a zip whose entries name an OOXML main part, or
 * else text unless the head holds NUL bytes. Listing a zip reads only its central directory;
 * nothing is inflated.
 */
export function sniffContent(content: Uint8Array): SniffedFormat {
  const head = Buffer.from(content.buffer, content.byteOffset, Math.min(content.byteLength, 1024));
  if (head.subarray(0, 5).toString('latin1') === '%PDF-') return PDF;
  if (ZIP_MAGIC.every((byte, i) => head[i] === byte)) return sniffZip(content);
  return head.includes(0) ? 'unknown-binary' : 'text';
}

function sniffZip(content: Uint8Array): SniffedFormat {
  const names = new Set<string>();
  try {
    unzipSync(content, {
      filter: (file) => {
        names.add(file.name);
        return false;
      },
    });
  } catch {
    return 'zip';
  }
  return OOXML_MAIN_PARTS.find(([part]) => names.has(part))?.[1] ?? 'zip';
}

/**
 * Why `content` is not what `contentType` claims, or undefined when it is: a binary format must
 * have its own signature; a text format must not be a binary one.
 */
export function contentMismatch(contentType: ContentType, content: Uint8Array): string | undefined {
  const sniffed = sniffContent(content);
  if (
    contentType === PDF &&
    sniffed !== PDF &&
    hasPdfHeader(Buffer.from(content.buffer, content.byteOffset, Math.min(content.byteLength, 1024)))
  ) {
    return undefined;
  }
  if (isBinaryContentType(contentType)) {
    if (sniffed === contentType) return undefined;
    return `declared ${FORMAT_NAMES[contentType]} but the content is ${describeSniffed(sniffed)}`;
  }
  if (sniffed === 'text') return undefined;
  return `declared ${FORMAT_NAMES[contentType]} but the content is ${describeSniffed(sniffed)}`;
}

function describeSniffed(sniffed: SniffedFormat): string {
  switch (sniffed) {
    case 'text':
      return 'text';
    case 'zip':
      return 'a zip archive that is not a DOCX, PPTX or XLSX package';
    case 'unknown-binary':
      return 'binary data of an unsupported format';
    default: {
      const name = FORMAT_NAMES[sniffed].toUpperCase();
      return `${name.startsWith('X') ? 'an' : 'a'} ${name} file`;
    }
  }
}
