/**
 * The local stack's Kafka broker (KRaft, started by `npm run stack:up`) behaves like the
 * production brokers the services rely on: topics are created explicitly (auto-create is
 * off), an idempotent acks=all producer works, and keys, values, headers and per-partition
 * order survive the round trip.
 */
import { randomUUID } from 'node:crypto';
import { type Admin, type Consumer, type IHeaders, Kafka, logLevel, type Producer } from 'kafkajs';

const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

const kafka = new Kafka({
  clientId: 'stack-kafka-test',
  brokers: BROKERS,
  logLevel: logLevel.NOTHING,
  retry: { retries: 5 },
});

interface Received {
  key: string;
  value: string;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
  }
  return out;
}

// Project-level testTimeout is not honoured by jest 29 (it warns "Unknown option"), so set it here.
jest.setTimeout(120000);

describe('local stack: Kafka', () => {
  const topic = `stack-test-kafka-${randomUUID()}`;
  let admin: Admin;
  let producer: Producer;
  let consumer: Consumer | undefined;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    await consumer?.disconnect().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await admin.deleteTopics({ topics: [topic], timeout: 10000 }).catch(() => undefined);
    await admin.disconnect();
  });

  it('does not auto-create topics', async () => {
    const missing = `stack-test-missing-${randomUUID()}`;
    const p = kafka.producer({ allowAutoTopicCreation: true, retry: { retries: 1 } });
    await p.connect();
    try {
      await expect(p.send({ topic: missing, messages: [{ value: 'x' }] })).rejects.toThrow();
    } finally {
      await p.disconnect();
    }
    expect(await admin.listTopics()).not.toContain(missing);
  });

  it('creates a topic through the admin API', async () => {
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    expect(created).toBe(true);
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0].partitions).toHaveLength(3);
  });

  it('round-trips keyed records with headers in order per partition (idempotent producer, acks=all)', async () => {
    const keys = Array.from({ length: 8 }, (_, i) => `doc-${i}`);
    const perKey = 25;
    const sent: Array<{ key: string; value: string; headers: Record<string, string> }> = [];
    for (let seq = 0; seq < perKey; seq++) {
      for (const key of keys) {
        sent.push({
          key,
          value: JSON.stringify({ key, seq, body: `payload ${key} #${seq}` }),
          headers: { 'x-seq': String(seq), 'x-key': key, 'x-trace': randomUUID() },
        });
      }
    }

    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // Several batches so ordering is tested across requests, not only inside one batch.
    for (let i = 0; i < sent.length; i += 40) {
      const batch = sent.slice(i, i + 40);
      const meta = await producer.send({
        topic,
        acks: -1,
        messages: batch.map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
      });
      expect(meta.every((r) => r.errorCode === 0)).toBe(true);
    }

    const received: Received[] = [];
    consumer = kafka.consumer({ groupId: `stack-test-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      void consumer!.run({
        eachMessage: async ({ partition, message }) => {
          received.push({
            key: message.key!.toString(),
            value: message.value!.toString(),
            headers: headersToStrings(message.headers),
            partition,
            offset: message.offset,
          });
          if (received.length === sent.length) resolve();
        },
      });
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        done,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`received only ${received.length}/${sent.length} records`)), 60000);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }

    expect(received).toHaveLength(sent.length);

    // Every record arrived exactly once with the key, value and headers it was sent with.
    const byValue = new Map(received.map((r) => [r.value, r]));
    expect(byValue.size).toBe(sent.length);
    for (const s of sent) {
      const r = byValue.get(s.value);
      expect(r).toBeDefined();
      expect(r!.key).toBe(s.key);
      expect(r!.headers).toEqual(s.headers);
    }

    // One key -> one partition, and within it the records come back in the order sent.
    for (const key of keys) {
      const ofKey = received.filter((r) => r.key === key);
      expect(new Set(ofKey.map((r) => r.partition)).size).toBe(1);
      expect(ofKey.map((r) => Number(r.headers['x-seq']))).toEqual(Array.from({ length: perKey }, (_, i) => i));
    }
    // Offsets strictly increase within each partition (no duplicates from retries).
    const partitions = new Set(received.map((r) => r.partition));
    for (const p of partitions) {
      const offsets = received.filter((r) => r.partition === p).map((r) => BigInt(r.offset));
      for (let i = 1; i < offsets.length; i++) expect(offsets[i] > offsets[i - 1]).toBe(true);
    }
  });
});
