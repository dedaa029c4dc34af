import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { StageMetrics } from './stage-metrics';

/**
 * Exports consumer lag per partition the way Kafka tools define it: the group's committed
 * offset against the partition's high watermark. Polled, so an idle or stuck stage still
 * reports (a gauge updated only when batches arrive would freeze at its last value).
 */
export class LagMonitor {
  private admin?: Admin;
  private timer?: NodeJS.Timeout;
  private readonly totals = new Map<string, number>();

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
    private readonly topics: string[],
    private readonly stage: string,
    private readonly metrics: StageMetrics,
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
    await this.admin?.disconnect();
  }

  /** Total lag of a topic at the last poll (undefined before the first successful one). */
  lagOf(topic: string): number | undefined {
    return this.totals.get(topic);
  }

  async poll(): Promise<void> {
    if (!this.admin) return;
    try {
      const committed = await this.admin.fetchOffsets({ groupId: this.groupId, topics: this.topics });
      for (const { topic, partitions } of committed) {
        const ends = new Map((await this.admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p]));
        let total = 0;
        for (const { partition, offset } of partitions) {
          const end = ends.get(partition);
          if (!end) continue;
          // No commit yet (-1): everything since the log start is lag.
          const from = Number(offset) >= 0 ? BigInt(offset) : BigInt(end.low);
          const lag = BigInt(end.high) - from;
          this.metrics.lag.set({ stage: this.stage, topic, partition: String(partition) }, Number(lag > 0n ? lag : 0n));
          total += Number(lag > 0n ? lag : 0n);
        }
        this.totals.set(topic, total);
      }
    } catch (err) {
      this.logger.debug({ err }, 'lag poll failed');
    }
  }
}
