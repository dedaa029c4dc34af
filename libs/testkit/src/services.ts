import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { ConsumerStage } from '@rag/contracts';

/** The gateway and every consumer stage of the pipeline descriptor. */
export type ServiceName = 'gateway' | ConsumerStage;

/** The repository root: the nearest folder above with a package.json (from libs/testkit/src or its dist/ copy). */
function repositoryRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'package.json'))) return dir;
  throw new Error(`no package.json above ${from}`);
}

const ROOT = repositoryRoot(__dirname);
export const LOG_DIR = join(ROOT, '.stack', 'logs', 'test-services');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

/** A service running as its own OS process from dist/ (as in production), with its log in a file. */
export class ServiceProcess {
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  readonly url: string;
  readonly logFile: string;

  constructor(
    readonly name: ServiceName,
    readonly port: number,
    private readonly env: Record<string, string>,
    readonly instance = 0,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.logFile = join(LOG_DIR, `${env.TOPIC_PREFIX ?? 'ingest'}-${name}-${instance}.log`);
  }

  /** Spawns the process and (unless `waitReady` is false) waits until /readyz answers 200. */
  async start(waitReady = true): Promise<this> {
    mkdirSync(LOG_DIR, { recursive: true });
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'services', this.name, 'src', 'main.js')], {
      // Tests and the benchmark run the gateway open unless they pass GATEWAY_AUTH (the auth tests do).
      env: {
        ...process.env,
        ...(this.name === 'gateway' && { GATEWAY_AUTH: 'none' }),
        ...this.env,
        HTTP_PORT: String(this.port),
        HTTP_HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    if (waitReady) await this.waitReady();
    return this;
  }

  async waitReady(timeoutMs = 90_000): Promise<void> {
    let dead = false;
    void this.exited?.then(() => (dead = true));
    await waitFor(
      `${this.name} /readyz`,
      async () => {
        if (dead) throw new Error(`${this.name} exited during start-up; see ${this.logFile}`);
        // With INTERNAL_HTTP_PORT the service answers /readyz there only.
        const probe = this.env.INTERNAL_HTTP_PORT ? `http://127.0.0.1:${this.env.INTERNAL_HTTP_PORT}` : this.url;
        const res = await fetch(`${probe}/readyz`, { signal: AbortSignal.timeout(5_000) });
        return res.ok;
      },
      timeoutMs,
    );
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL: no shutdown hooks, in-flight work is lost mid-way (what chaos tests want). */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGSTOP / SIGCONT: freeze the process where it is (to inspect its state), then let it go on. */
  freeze(): void {
    if (this.running) this.child!.kill('SIGSTOP');
  }

  resume(): void {
    if (this.running) this.child!.kill('SIGCONT');
  }

  /** The last `n` structured log entries that `keep` accepts, one short line each. */
  recentLogLines(n: number, keep: (entry: Record<string, unknown>) => boolean): string[] {
    if (!existsSync(this.logFile)) return [];
    const entries: string[] = [];
    for (const line of readFileSync(this.logFile, 'utf8').split('\n')) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (!keep(entry)) continue;
      const err = entry.err as { message?: string } | undefined;
      const detail = err?.message ?? (typeof entry.error === 'string' ? entry.error : '');
      entries.push(`${String(entry.time)} ${String(entry.level)} ${String(entry.msg)}${detail ? ` (${detail.slice(0, 200)})` : ''}`);
    }
    return entries.slice(-n);
  }

  /** SIGTERM: graceful shutdown; resolves with the exit code. */
  async stop(timeoutMs = 40_000): Promise<number | null> {
    if (!this.running) return this.child?.exitCode ?? null;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    const code = await this.exited!;
    clearTimeout(timer);
    return code;
  }
}
