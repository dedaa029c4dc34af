import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { within } from './deadline';

/** Where each partition's lag goes: a gauge, labelled by its owner. */
export type LagSink = (topic: string, partition: number, lag: number) => void;

/** A figure older than this many poll intervals is unknown, not "still true". */
const STALE_AFTER_INTERVALS = 3;

/**
 * Exports consumer lag per partition the way Kafka tools define it: the group's committed
 * offset against the partition's high watermark. Polled, so an idle or stuck stage still
 * reports (a gauge updated only when batches arrive would freeze at its last value).
 *
 * The stall watchdog acts on these figures, so they must not outlive the client that read them:
 * each poll has a deadline, a failed or hung poll replaces the admin client (after a broker
 * restart one was seen answering nothing), and a figure older than a few intervals reads as
 * unknown.
 */
export class LagMonitor {
  private admin?: Admin;
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  /** The connect of a replacement client; polls wait for it within their deadline. */
  private connecting?: Promise<void>;
  private readonly totals = new Map<string, { lag: number; at: number }>();
  private failuresInARow = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
    private readonly topics: string[],
    private readonly report: LagSink,
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
  ) {}

  async start(): Promise<void> {
    this.admin = this.kafka.admin();
    await this.admin.connect();
    await this.poll();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect();
  }

  /** Total lag of a topic at the last poll; undefined before the first successful one, or when that is stale. */
  lagOf(topic: string): number | undefined {
    const total = this.totals.get(topic);
    if (!total || Date.now() - total.at > STALE_AFTER_INTERVALS * this.intervalMs) return undefined;
    return total.lag;
  }

  /** One poll at a time: a poll still running (hung) is not doubled, its deadline replaces the client. */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    const admin = this.admin;
    if (!admin) return;
    try {
      await within(this.readLag(admin), this.intervalMs, 'lag poll');
      this.failuresInARow = 0;
    } catch (err) {
      this.failuresInARow++;
      // The first failure and every tenth after it: enough to see an outage without flooding the log.
      if (this.failuresInARow % 10 === 1) {
        this.logger.warn({ err, failuresInARow: this.failuresInARow }, 'lag poll failed; replacing its admin client');
      }
      this.replaceAdmin(admin);
    }
  }

  private async readLag(admin: Admin): Promise<void> {
    await this.connecting;
    const committed = await admin.fetchOffsets({ groupId: this.groupId, topics: this.topics });
    for (const { topic, partitions } of committed) {
      const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p]));
      let total = 0;
      for (const { partition, offset } of partitions) {
        const end = ends.get(partition);
        if (!end) continue;
        // No commit yet (-1): everything since the log start is lag.
        const from = Number(offset) >= 0 ? BigInt(offset) : BigInt(end.low);
        const lag = BigInt(end.high) - from;
        const records = Number(lag > 0n ? lag : 0n);
        this.report(topic, partition, records);
        total += records;
      }
      this.totals.set(topic, { lag: total, at: Date.now() });
    }
  }

  /**
   * A new client for the next poll. Nothing here is awaited by the poll itself: with the clients'
   * retries, a connect to a broker that is coming back can take minutes, and the next poll (under
   * its deadline) waits for it instead.
   */
  private replaceAdmin(broken: Admin): void {
    if (this.admin !== broken) return;
    const fresh = this.kafka.admin();
    this.admin = fresh;
    this.connecting = fresh.connect().catch(() => undefined);
    void Promise.race([broken.disconnect(), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]).catch(() => undefined);
  }
}
