import Table from 'cli-table3';
import pc from 'picocolors';

/** Colours only for a terminal (picocolors also honours NO_COLOR and FORCE_COLOR). */
export const colors = pc.createColors(process.stdout.isTTY === true && !('NO_COLOR' in process.env));

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printTable(head: string[], rows: (string | number | null)[][]): void {
  const table = new Table({ head: head.map((h) => colors.bold(h)), style: { head: [], border: [] } });
  for (const row of rows) table.push(row.map((cell) => (cell === null ? '' : String(cell))));
  process.stdout.write(`${table.toString()}\n`);
}

export function statusColor(status: string): string {
  if (status === 'indexed') return colors.green(status);
  if (status === 'failed') return colors.red(status);
  if (status === 'deleted' || status === 'superseded') return colors.dim(status);
  return colors.yellow(status);
}
