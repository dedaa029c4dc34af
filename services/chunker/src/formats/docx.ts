import { PermanentError } from '@rag/common/stage-errors';
import mammoth from 'mammoth';
import type { Section } from './section';
import { htmlSections } from './text';
import { checkZipBudget } from './zip-guard';

/**
 * DOCX through mammoth, which maps Word's heading styles to h1-h6 and keeps tables as tables:
 * the HTML path then gives heading paths and one line per table row. Images are dropped.
 */
export async function docxSections(content: Uint8Array, maxUnzippedBytes: number): Promise<Section[]> {
  checkZipBudget(content, maxUnzippedBytes);
  let html: string;
  try {
    const result = await mammoth.convertToHtml(
      { buffer: Buffer.from(content.buffer, content.byteOffset, content.byteLength) },
      { convertImage: mammoth.images.imgElement(() => Promise.resolve({ src: '' })) },
    );
    html = result.value;
  } catch (err) {
    throw new PermanentError(`corrupt: DOCX cannot be read (${(err as Error).message})`);
  }
  return htmlSections(html);
}
