/** Nearest-rank percentile of unsorted values (0 for none). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

export const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Peak resident set size of a process in MiB (VmHWM), or undefined when it is gone. */
export const peakRssMiB = (pid: number | undefined) => statusMiB(pid, 'VmHWM');

/** Current resident set size of a process in MiB (VmRSS), or undefined when it is gone. */
export const rssMiB = (pid: number | undefined) => statusMiB(pid, 'VmRSS');

async function statusMiB(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): Promise<number | undefined> {
  if (!pid) return undefined;
  try {
    const { readFile } = await import('node:fs/promises');
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(status)?.[1];
    return kb ? Number(kb) / 1024 : undefined;
  } catch {
    return undefined;
  }
}
