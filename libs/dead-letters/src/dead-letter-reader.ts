import { randomUUID } from 'node:crypto';
import { Headers } from '@rag/contracts';
import { headersToStrings } from '@rag/stage-runtime';
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface DeadLetter {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  timestamp: string;
}

export interface ReadRange {
  /** Start after this consumer group's committed offsets (records already replayed); else from the beginning. */
  afterGroup?: string;
}

/** Ends of each partition now: reading stops there, so a listing is a consistent snapshot. */
async function snapshotOffsets(kafka: Kafka, topic: string, afterGroup?: string) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const starts = new Map(ends.map((p) => [p.partition, BigInt(p.low)]));
    if (afterGroup) {
      const [committed] = await admin.fetchOffsets({ groupId: afterGroup, topics: [topic] });
      for (const p of committed?.partitions ?? []) {
        const offset = BigInt(p.offset);
        if (offset >= 0n && offset > (starts.get(p.partition) ?? 0n)) starts.set(p.partition, offset);
      }
    }
    return ends
      .map((p) => ({ partition: p.partition, start: starts.get(p.partition) ?? 0n, end: BigInt(p.high) }))
      .filter((p) => p.end > p.start);
  } finally {
    await admin.disconnect();
  }
}

/** Reads a dead-letter topic from its start (or after a group's offsets) up to its current end. */
export async function readDeadLetters(kafka: Kafka, topic: string, range: ReadRange = {}): Promise<DeadLetter[]> {
  const partitions = await snapshotOffsets(kafka, topic, range.afterGroup);
  if (partitions.length === 0) return [];
  const remaining = new Map(partitions.map((p) => [p.partition, p]));
  const records: DeadLetter[] = [];
  // A throwaway group that never commits: reading must not move anybody's offsets.
  const consumer = kafka.consumer({ groupId: `rag-dlq-reader-${randomUUID()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const collect = (partition: number, message: KafkaMessage) => {
        const p = remaining.get(partition);
        const offset = BigInt(message.offset);
        if (!p || offset < p.start) return;
        if (offset < p.end) {
          records.push({
            partition,
            offset: message.offset,
            key: message.key?.toString('utf8') ?? null,
            value: message.value,
            headers: headersToStrings(message.headers),
            timestamp: message.timestamp,
          });
        }
        if (offset >= p.end - 1n) remaining.delete(partition);
        if (remaining.size === 0) resolve();
      };
      consumer.run({ autoCommit: false, eachMessage: async ({ partition, message }) => collect(partition, message) }).catch(reject);
      consumer.on(consumer.events.GROUP_JOIN, () => {
        for (const p of partitions) consumer.seek({ topic, partition: p.partition, offset: p.start.toString() });
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

export function reasonOf(record: DeadLetter): string {
  return record.headers[Headers.errorMessage] ?? '(no reason recorded)';
}

/** Headers for a replayed record: failure bookkeeping dropped (attempts start again), replay stamped. */
export function replayHeaders(headers: Record<string, string>, now: number): Record<string, string> {
  const reset = new Set<string>([
    Headers.retryAttempt,
    Headers.retryNotBefore,
    Headers.firstFailureAt,
    Headers.errorKind,
    Headers.errorMessage,
    Headers.stage,
    Headers.originalTopic,
    Headers.originalPartition,
    Headers.originalOffset,
  ]);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (!reset.has(name)) out[name] = value;
  out[Headers.replayedAt] = String(now);
  return out;
}
