import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { round } from './stats';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds a process has used so far, or undefined when it is gone. */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * The local stack's servers (scripts/stack/stack.sh marks each JVM with -Dstack.component and
 * -Dstack.dir), so their CPU can be charged to the run. Empty when the stack runs elsewhere.
 */
export function stackPids(stackDir: string): Record<string, number> {
  const pids: Record<string, number> = {};
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(join('/proc', entry, 'cmdline'), 'utf8').split('\0');
      if (!args.includes(`-Dstack.dir=${stackDir}`)) continue;
      const component = args.find((a) => a.startsWith('-Dstack.component='))?.split('=')[1];
      if (component) pids[component] = Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

export interface CpuUse {
  wallSeconds: number;
  /** CPU seconds per process over the window. */
  cpuSeconds: Record<string, number>;
  totalCpuSeconds: number;
  /** totalCpuSeconds ÷ wallSeconds: cores kept busy on average. */
  coresBusy: number;
}

/** CPU milliseconds per document of each process, from its CPU seconds over a run of `documents`. */
export function msPerDocument(cpuSeconds: Record<string, number>, documents: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(cpuSeconds).map(([name, seconds]) => [name, round((seconds * 1000) / Math.max(documents, 1), 2)]),
  );
}

/** CPU used by a set of processes between start() and stop(). */
export class CpuWindow {
  private readonly before = new Map<string, number>();
  private startedAt = 0;

  constructor(private readonly pids: Record<string, number>) {}

  start(): this {
    this.startedAt = Date.now();
    for (const [name, pid] of Object.entries(this.pids)) {
      const cpu = cpuSecondsOf(pid);
      if (cpu !== undefined) this.before.set(name, cpu);
    }
    return this;
  }

  stop(): CpuUse {
    const wallSeconds = (Date.now() - this.startedAt) / 1000;
    const cpuSeconds: Record<string, number> = {};
    for (const [name, start] of this.before) {
      const end = cpuSecondsOf(this.pids[name]);
      if (end !== undefined) cpuSeconds[name] = end - start;
    }
    const totalCpuSeconds = Object.values(cpuSeconds).reduce((a, b) => a + b, 0);
    return { wallSeconds, cpuSeconds, totalCpuSeconds, coresBusy: totalCpuSeconds / Math.max(wallSeconds, 0.001) };
  }
}
