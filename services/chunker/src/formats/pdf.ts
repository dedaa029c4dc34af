import { PermanentError } from '@rag/common/stage-errors';
import { getDocumentProxy } from 'unpdf';
import type { Section } from './section';

/** pdf.js's names for a malformed file. */
const PDF_FORMAT_ERRORS = new Set(['InvalidPDFException', 'FormatError', 'MissingPDFException', 'UnknownErrorException', 'AbortException']);

type PdfDocument = Awaited<ReturnType<typeof getDocumentProxy>>;
interface TextItem {
  str: string;
  hasEOL: boolean;
  transform: number[];
  height: number;
}

/**
 * PDF text layer (pdf.js through unpdf, in this thread): one section per page, so chunks
 * know their pages. Scanned (image-only), encrypted and corrupt files fail with those words.
 */
export async function pdfSections(content: Uint8Array, maxPages: number): Promise<Section[]> {
  const pdf = await openPdf(content);
  try {
    if (pdf.numPages > maxPages) {
      throw new PermanentError(`PDF has ${pdf.numPages} pages, above CHUNKER_MAX_PAGES=${maxPages}`);
    }
    const sections: Section[] = [];
    for (let page = 1; page <= pdf.numPages; page++) {
      sections.push({ heading: null, page, text: await pageText(pdf, page) });
    }
    if (sections.every((s) => s.text.trim() === '')) {
      throw new PermanentError(`no text layer (OCR not enabled): none of the PDF's ${pdf.numPages} pages holds extractable text`);
    }
    return sections;
  } finally {
    await pdf.loadingTask.destroy();
  }
}

async function openPdf(content: Uint8Array): Promise<PdfDocument> {
  try {
    // pdf.js takes ownership of (detaches) the bytes it is given: hand it a copy.
    return await getDocumentProxy(new Uint8Array(content), { verbosity: 0, disableFontFace: true });
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'PasswordException') throw new PermanentError('encrypted: the PDF needs a password to open');
    if (PDF_FORMAT_ERRORS.has(name)) throw new PermanentError(`corrupt: ${(err as Error).message || name}`);
    throw err; // not the document's fault (pdf.js failed to load, ...): retried
  }
}

/** A page's text items as lines: pdf.js marks line ends; a vertical jump larger than a line is a paragraph break. */
async function pageText(pdf: PdfDocument, pageNumber: number): Promise<string> {
  const page = await pdf.getPage(pageNumber);
  try {
    const content = await page.getTextContent();
    let text = '';
    let lastY: number | undefined;
    let lastHeight = 0;
    for (const item of content.items as TextItem[]) {
      if (typeof item.str !== 'string') continue;
      const y = item.transform[5];
      if (lastY !== undefined && item.str !== '' && Math.abs(y - lastY) > 1.8 * Math.max(lastHeight, item.height, 1)) {
        text = text.replace(/\n?$/, '\n\n');
      } else if (lastY !== undefined && item.str !== '' && Math.abs(y - lastY) > 0.5 * Math.max(item.height, 1) && !text.endsWith('\n')) {
        text += '\n';
      }
      text += item.str + (item.hasEOL ? '\n' : '');
      if (item.str !== '') {
        lastY = y;
        lastHeight = item.height;
      }
    }
    return text;
  } finally {
    page.cleanup();
  }
}
