import { randomUUID } from 'node:crypto';
import type { ConsumerStage, TopicNames } from '@rag/contracts';
import type { Kafka } from 'kafkajs';

export interface TopicRecord {
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  partition: number;
  offset: string;
  /** Producer's create time, epoch ms. */
  timestamp: number;
}

/** Every record currently in a topic (up to the high watermarks taken at the start). */
export async function readTopic(kafka: Kafka, topic: string): Promise<TopicRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(ends.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]));
  if (remaining.size === 0) return [];
  const records: TopicRecord[] = [];
  const consumer = kafka.consumer({ groupId: `test-reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const end = remaining.get(partition);
          if (end === undefined) return;
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = String(Array.isArray(v) ? v[0] : v);
          records.push({
            key: message.key?.toString() ?? null,
            value: message.value,
            headers,
            partition,
            offset: message.offset,
            timestamp: Number(message.timestamp),
          });
          if (BigInt(message.offset) >= end - 1n) remaining.delete(partition);
          if (remaining.size === 0) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return records;
}

export async function topicSize(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  return offsets.reduce((n, p) => n + Number(BigInt(p.high) - BigInt(p.low)), 0);
}

/** Every record in all retry tiers of a stage, each with the tier topic it sits in. */
export async function readRetryTiers(kafka: Kafka, topics: TopicNames, stage: ConsumerStage): Promise<(TopicRecord & { topic: string })[]> {
  const tiers = await Promise.all(
    topics.retryTiers(stage).map(async ({ topic }) => (await readTopic(kafka, topic)).map((r) => ({ ...r, topic }))),
  );
  return tiers.flat();
}
