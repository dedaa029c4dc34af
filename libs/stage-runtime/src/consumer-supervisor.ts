import type { Consumer } from 'kafkajs';
import type { Logger } from 'pino';

/** Why a consumer looks stuck, with the figures that say so (logged). */
export interface Stall {
  reason: string;
  facts: Record<string, number>;
}

export interface ConsumerSupervisorOptions {
  /** A consumer stuck this long is rebuilt (see `findStall`); 0 turns the watchdog off. */
  stallTimeoutMs: number;
  /** Why the current consumer looks stuck for `stallTimeoutMs` now, or undefined. Checked every few seconds. */
  findStall: (stallTimeoutMs: number) => Stall | undefined;
  /**
   * Replaces the broken consumer (and whatever clients go with it) with new ones, passing the
   * new consumer to `watch`. Throws if that failed: the supervisor tries again, later.
   */
  rebuild: (broken: Consumer) => Promise<void>;
  counters: { stalls: { inc(): void }; rebuilds: { inc(): void } };
  logger: Logger;
}

/** Rebuilds in a row (1 s, 2 s, … 30 s apart: about 2 minutes) before the supervisor gives up. */
export const MAX_REBUILDS = 8;

/**
 * Keeps one kafkajs consumer group member alive, for the stages and the registry projector alike.
 *
 * kafkajs restarts its consumer after retriable errors only. After any other crash (a coordinator
 * it could not find while the broker restarted, a produce error it does not know) the consumer
 * stays down until a liveness probe restarts the process, and nothing restarts it outside
 * Kubernetes. A consumer can also hang without crashing: after a broker restart one was seen
 * joined to its group and fetching nothing, for minutes. The supervisor rebuilds it in both cases,
 * with backoff, until a group join shows the new one works; after MAX_REBUILDS failures in a row
 * it gives up and `isAlive()` fails.
 */
export class ConsumerSupervisor {
  private current?: Consumer;
  private running = false;
  private gaveUp = false;
  private rebuilds = 0;
  private rebuildTimer?: NodeJS.Timeout;
  /** A rebuild is running: failures of the clients it replaces must not schedule another. */
  private rebuildRunning = false;
  private watchdog?: NodeJS.Timeout;

  constructor(private readonly options: ConsumerSupervisorOptions) {}

  isAlive(): boolean {
    return !this.gaveUp;
  }

  /** Whether a rebuild is waiting for its backoff or running (the consumer in place is known to be broken). */
  private get rebuilding(): boolean {
    return this.rebuildTimer !== undefined || this.rebuildRunning;
  }

  start(): void {
    this.running = true;
    const timeout = this.options.stallTimeoutMs;
    if (timeout <= 0) return;
    this.watchdog = setInterval(() => this.checkForStall(), Math.min(10_000, Math.max(1_000, Math.floor(timeout / 3))));
    this.watchdog.unref();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.rebuildTimer);
    this.rebuildTimer = undefined;
    clearInterval(this.watchdog);
  }

  /**
   * Watches a new consumer before its `run`: a crash kafkajs will not restart from rebuilds it.
   * `run` itself is passed to `supervise`, since it fails instead of crashing when it cannot join.
   */
  watch(consumer: Consumer): void {
    this.current = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.options.logger.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
      if (!payload.restart) this.scheduleRebuild(consumer);
    });
  }

  /** Not awaited by the caller: `run` resolves only after the group join, which may wait for a crashed member's session. */
  supervise(consumer: Consumer, run: Promise<void>): void {
    run.catch((error: unknown) => {
      this.options.logger.error({ err: error }, 'consumer could not start');
      this.scheduleRebuild(consumer);
    });
  }

  /** The consumer joined its group: it works, so the next failure starts the backoff again. */
  joined(): void {
    this.rebuilds = 0;
  }

  /** Rebuilds `broken` after a backoff, unless it was replaced already or a rebuild is pending. */
  scheduleRebuild(broken: Consumer): void {
    if (!this.running || broken !== this.current || this.rebuilding) return;
    if (this.rebuilds >= MAX_REBUILDS) {
      this.gaveUp = true;
      this.options.logger.error({ rebuilds: this.rebuilds }, 'consumer could not be rebuilt; giving up (liveness now fails)');
      return;
    }
    const delayMs = Math.min(30_000, 1_000 * 2 ** this.rebuilds++);
    this.options.logger.warn({ delayMs, attempt: this.rebuilds }, 'rebuilding the consumer');
    this.rebuildTimer = setTimeout(() => {
      this.rebuildTimer = undefined;
      void this.rebuild(broken);
    }, delayMs);
  }

  private checkForStall(): void {
    if (!this.running || this.rebuilding || !this.current) return;
    const stall = this.options.findStall(this.options.stallTimeoutMs);
    if (!stall) return;
    this.options.logger.warn(stall.facts, stall.reason);
    this.options.counters.stalls.inc();
    this.scheduleRebuild(this.current);
  }

  private async rebuild(broken: Consumer): Promise<void> {
    if (!this.running) return;
    this.rebuildRunning = true;
    let rebuilt = false;
    try {
      await this.options.rebuild(broken);
      rebuilt = true;
    } catch (error) {
      this.options.logger.error({ err: error }, 'rebuilding the consumer failed');
    } finally {
      this.rebuildRunning = false;
    }
    // Scheduled only now that the running flag is down: a failed rebuild is tried again.
    if (rebuilt) this.options.counters.rebuilds.inc();
    else this.scheduleRebuild(this.current ?? broken);
  }
}
