import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitFor } from '@rag/testkit';
import { stack } from './stack';

const REPO = join(__dirname, '..', '..');

/**
 * A Kafka broker of its own (stack.sh with its own STACK_DIR and ports), for a test that stops or
 * freezes its broker while the shared stack keeps serving everyone else. Downloads come from the
 * shared cache (STACK_CACHE, default <repo>/.stack/cache), so starting one needs no network.
 */
export class PrivateKafka {
  readonly dir: string;
  private ports?: { client: number; controller: number };

  constructor(name: string) {
    this.dir = join(REPO, '.stack', `private-${name}`);
  }

  get brokers(): string[] {
    if (!this.ports) throw new Error('private Kafka not started');
    return [`127.0.0.1:${this.ports.client}`];
  }

  private env(): Record<string, string> {
    if (!this.ports) throw new Error('private Kafka not started');
    return {
      STACK_DIR: this.dir,
      STACK_CACHE: process.env.STACK_CACHE ?? join(REPO, '.stack', 'cache'),
      STACK_KAFKA_PORT: String(this.ports.client),
      STACK_KAFKA_CONTROLLER_PORT: String(this.ports.controller),
    };
  }

  /** First start: free ports, a fresh data directory (a leftover broker of an earlier run is stopped). */
  async start(): Promise<void> {
    this.ports = { client: await freePort(), controller: await freePort() };
    await stack('down', 'kafka', this.env());
    rmSync(join(this.dir, 'data'), { recursive: true, force: true });
    await this.up();
  }

  /** Starts (again) on the same ports and data, waits until healthy. */
  async up(): Promise<void> {
    await stack('up', 'kafka', this.env());
  }

  /** Stops the broker (SIGTERM, then SIGKILL after STACK_STOP_TIMEOUT); the port is closed afterwards. */
  async down(): Promise<void> {
    await stack('down', 'kafka', this.env());
  }

  /** The broker's pid from the private STACK_DIR's pid file. */
  pid(): number {
    return Number(readFileSync(join(this.dir, 'run', 'kafka.pid'), 'utf8').trim());
  }

  /** The kernel's state letter of the broker process: 'T' = stopped by a signal (frozen). */
  processState(): string {
    const stat = readFileSync(`/proc/${this.pid()}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  }

  /** SIGSTOP; resolves once the kernel reports the process stopped (the signal is asynchronous). */
  async freeze(): Promise<void> {
    process.kill(this.pid(), 'SIGSTOP');
    await waitFor('the broker to be stopped by SIGSTOP', async () => this.processState() === 'T', 10_000, 50);
  }

  thaw(): void {
    process.kill(this.pid(), 'SIGCONT');
  }

  /** Never leaves a frozen or running broker behind, whatever state the test ended in. */
  async stop(): Promise<void> {
    if (!this.ports) return;
    try {
      this.thaw();
    } catch {
      // not running
    }
    await this.down();
  }
}
