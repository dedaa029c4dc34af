import { PermanentError } from '@rag/common';
import { baseContentType, CONTENT_TYPES, contentMismatch, DOCX, isContentType, PDF, PPTX, XLSX } from '@rag/contracts';
import { docxSections } from './docx';
import { pdfSections } from './pdf';
import { pptxSections } from './pptx';
import type { ExtractionLimits, Section } from './section';
import { xlsxSections } from './spreadsheet';
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
  switch (type) {
    case PDF:
      return nonEmpty(await pdfSections(content, limits.maxPages));
    case DOCX:
      return nonEmpty(await docxSections(content, limits.maxUnzippedBytes));
    case PPTX:
      return nonEmpty(pptxSections(content, limits.maxUnzippedBytes));
    case XLSX:
      return nonEmpty(await xlsxSections(content, limits.maxUnzippedBytes));
    default:
      return textSections(type, content);
  }
}
