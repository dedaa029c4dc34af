import { PermanentError } from '@rag/common/stage-errors';
import readXlsx from 'read-excel-file/node';
import type { Section } from './section';
import { rowsToText, type Cell } from './spreadsheet';
import { checkZipBudget } from './zip-guard';

/** XLSX (read-excel-file): one section per worksheet, headed and located by the sheet's name. */
export async function xlsxSections(content: Uint8Array, maxUnzippedBytes: number): Promise<Section[]> {
  checkZipBudget(content, maxUnzippedBytes);
  let sheets: { sheet: string; data: readonly (readonly Cell[])[] }[];
  try {
    sheets = await readXlsx(Buffer.from(content.buffer, content.byteOffset, content.byteLength));
  } catch (err) {
    throw new PermanentError(`corrupt: XLSX cannot be read (${(err as Error).message})`);
  }
  return sheets.map(({ sheet, data }) => ({ heading: sheet, sheet, text: rowsToText(data) }));
}
