import { PermanentError } from '@rag/common/stage-errors';
import { parse as parseCsv } from 'csv-parse/sync';
import type { Section } from './section';

/** A cell as the readers give it: string, number, boolean, Date or empty. */
export type Cell = unknown;

/** CSV (csv-parse): one section of row lines. */
export function csvSections(raw: string): Section[] {
  let rows: string[][];
  try {
    rows = parseCsv(raw, { bom: true, relax_column_count: true, skip_empty_lines: true, relax_quotes: true });
  } catch (err) {
    throw new PermanentError(`CSV cannot be parsed: ${(err as Error).message}`);
  }
  return [{ heading: null, text: rowsToText(rows) }];
}

/**
 * A table as one line per row. When the first row is a header (distinct non-empty strings),
 * every later row is written `Header: value; …`, so a chunk cut from the middle of a long sheet
 * still says what each value is; otherwise cells are joined by " | ".
 */
export function rowsToText(rows: readonly (readonly Cell[])[]): string {
  const nonEmpty = rows.filter((row) => row.some((cell) => formatCell(cell) !== ''));
  if (nonEmpty.length === 0) return '';
  const [first, ...rest] = nonEmpty;
  const header = first.map(formatCell);
  const isHeader = rest.length > 0 && header.every((h) => h !== '' && Number.isNaN(Number(h))) && new Set(header).size === header.length;
  if (!isHeader) return nonEmpty.map((row) => row.map(formatCell).filter(Boolean).join(' | ')).join('\n');
  const lines = rest.map((row) =>
    row
      .map((cell, i) => [header[i], formatCell(cell)] as const)
      .filter(([, value]) => value !== '')
      .map(([name, value]) => (name ? `${name}: ${value}` : value))
      .join('; '),
  );
  return [header.join(' | '), ...lines].join('\n');
}

function formatCell(cell: Cell): string {
  if (cell === null || cell === undefined) return '';
  if (cell instanceof Date) return Number.isNaN(cell.getTime()) ? '' : cell.toISOString().replace(/T00:00:00\.000Z$/, '');
  return String(cell).replace(/\s+/g, ' ').trim();
}
