import { PermanentError } from '@rag/common';
import { ConfigResourceTypes, type Kafka, type Message } from 'kafkajs';
import type { Logger } from 'pino';
import { singleRecordBatchBytes } from './produce-requests';

/** The broker's own default of message.max.bytes: the limit of a topic that sets none. */
export const BROKER_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/** How often the limits are read again, so a topic resized by an operator is noticed without a restart. */
export const LIMITS_REFRESH_MS = 5 * 60_000;

/**
 * A record this stage would produce is larger than its topic accepts. Retrying cannot shrink it,
 * and producing it would fail the whole slice (the broker rejects the batch), so the source record
 * is dead-lettered with this reason instead.
 */
export class RecordTooLargeError extends PermanentError {}

const MIB = 1024 * 1024;

/** `2.1 MiB`, `16 MiB`, `900 KiB`, `512 B`. */
export function formatBytes(bytes: number): string {
  const trim = (n: number) => n.toFixed(1).replace(/\.0$/, '');
  if (bytes >= MIB) return `${trim(bytes / MIB)} MiB`;
  if (bytes >= 1024) return `${trim(bytes / 1024)} KiB`;
  return `${bytes} B`;
}

export function recordTooLarge(contract: string, bytes: number, topic: string, limit: number): RecordTooLargeError {
  return new RecordTooLargeError(
    `${contract} record of ${formatBytes(bytes)} (${bytes} bytes) exceeds ${topic} max.message.bytes ${formatBytes(limit)} (${limit} bytes)`,
  );
}

/**
 * Why one record's outputs cannot be produced: the first output larger than its topic accepts
 * (measured as the batch it makes travelling alone), or undefined when all of them fit.
 */
export function oversizeOutput(
  outputs: readonly { topic: string; contract: string; message: Message }[],
  limitOf: (topic: string) => number,
): RecordTooLargeError | undefined {
  for (const { topic, contract, message } of outputs) {
    const bytes = singleRecordBatchBytes(message);
    const limit = limitOf(topic);
    if (bytes > limit) return recordTooLarge(contract, bytes, topic, limit);
  }
  return undefined;
}

/**
 * `max.message.bytes` of the topics a stage writes, read from the broker at start and every
 * LIMITS_REFRESH_MS. A topic without its own setting reports the broker's message.max.bytes.
 */
export class TopicLimits {
  private readonly limits = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly kafka: Kafka,
    private readonly topics: readonly string[],
    private readonly logger: Logger,
    private readonly refreshMs = LIMITS_REFRESH_MS,
  ) {}

  /** Reads the limits once (a failure here stops the start: producing blind could fail slices forever). */
  async start(): Promise<void> {
    try {
      await this.refresh();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`reading max.message.bytes of ${this.topics.join(', ')} failed (are the topics provisioned?): ${reason}`, {
        cause: err,
      });
    }
    this.timer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.logger.warn({ err }, 'could not refresh topic limits; keeping the last ones'));
    }, this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** The topic's limit; a topic never described counts with the broker default. */
  limitOf(topic: string): number {
    return this.limits.get(topic) ?? BROKER_DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** The smallest limit of all watched topics: a bound for a produce request that mixes them. */
  smallest(): number {
    return Math.min(...this.topics.map((t) => this.limitOf(t)));
  }

  async refresh(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: this.topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['max.message.bytes'] })),
      });
      for (const resource of resources) {
        const entry = resource.configEntries.find((e) => e.configName === 'max.message.bytes');
        const value = Number(entry?.configValue);
        if (resource.errorCode === 0 && Number.isInteger(value) && value > 0) this.limits.set(resource.resourceName, value);
      }
      this.logger.debug({ limits: Object.fromEntries(this.limits) }, 'topic limits read');
    } finally {
      await admin.disconnect();
    }
  }
}
