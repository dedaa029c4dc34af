import { PermanentError } from '@rag/common/stage-errors';
import { baseContentType, CONTENT_TYPES, contentMismatch, DOCX, isContentType, PDF, PPTX, XLSX } from '@rag/contracts/content-types';
import type { ExtractionLimits, Section } from './section';
import { nonEmpty, textSections } from './text';

export type { ExtractionLimits, Section } from './section';

/**
 * A document body as sections of plain text, by its content type, after checking that the bytes
 * are what the type claims (a producer writing straight to Kafka is not checked by the gateway).
 * Every failure is permanent, with a reason a user can act on.
 */
export async function extractSections(contentType: string, content: Uint8Array, limits: ExtractionLimits): Promise<Section[]> {
  const type = baseContentType(contentType);
  if (!isContentType(type)) {
    throw new PermanentError(`unsupported content type "${contentType}" (supported: ${CONTENT_TYPES.join(', ')})`);
  }
  const mismatch = contentMismatch(type, content);
  if (mismatch) throw new PermanentError(`content does not match its type: ${mismatch}`);
  // The binary formats' readers (pdf.js, mammoth, read-excel-file, ~18 MiB of heap together) load
  // on their format's first document, in the isolate that parses it: a text-only stream never pays.
  switch (type) {
    case PDF:
      return nonEmpty(await (await import('./pdf')).pdfSections(content, limits.maxPages));
    case DOCX:
      return nonEmpty(await (await import('./docx')).docxSections(content, limits.maxUnzippedBytes));
    case PPTX:
      return nonEmpty((await import('./pptx')).pptxSections(content, limits.maxUnzippedBytes));
    case XLSX:
      return nonEmpty(await (await import('./xlsx')).xlsxSections(content, limits.maxUnzippedBytes));
    default:
      return textSections(type, content);
  }
}
