import { Client } from '@elastic/elasticsearch';
import type { DocumentSubmitted, EmbeddedChunk } from '@rag/contracts';
import { ensureChunkIndex, toChunkDocument } from '@rag/search-index';
import { Kafka, logLevel } from 'kafkajs';
import { STACK, uniqueSuffix } from '@rag/testkit';
import { ChunkEmbed } from './chunk-embed';
import { round, sleep } from './stats';

export interface KafkaCeiling {
  records: number;
  megabytes: number;
  seconds: number;
  documentsPerSec: number;
  megabytesPerSec: number;
}

/**
 * Raw kafkajs: the corpus's encoded records produced (idempotent, acks=all, batches) to a topic
 * with the pipeline's partition count and consumed by one consumer group; the clock runs from
 * the first send to the last record consumed.
 */
export async function kafkaCeiling(records: Buffer[], partitions: number): Promise<KafkaCeiling> {
  const id = uniqueSuffix();
  const kafka = new Kafka({ clientId: `bench-${id}`, brokers: STACK.brokers, logLevel: logLevel.NOTHING });
  const topic = `bench${id}.raw`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  const consumer = kafka.consumer({ groupId: `bench${id}.raw`, maxWaitTimeInMs: 100 });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  try {
    await Promise.all([consumer.connect(), producer.connect()]);
    await consumer.subscribe({ topic, fromBeginning: true });
    let consumed = 0;
    let lastAt = 0;
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      partitionsConsumedConcurrently: partitions,
      eachBatch: async ({ batch }) => {
        consumed += batch.messages.length;
        lastAt = Date.now();
      },
    });
    await joined;
    const start = Date.now();
    const batchSize = 200;
    for (let i = 0; i < records.length; i += batchSize) {
      await producer.send({ topic, acks: -1, messages: records.slice(i, i + batchSize).map((value, n) => ({ key: `k${i + n}`, value })) });
    }
    while (consumed < records.length) await sleep(20);
    const seconds = Math.max(0.001, (lastAt - start) / 1000);
    const megabytes = records.reduce((n, r) => n + r.length, 0) / 1e6;
    return {
      records: records.length,
      megabytes: round(megabytes, 2),
      seconds: round(seconds, 2),
      documentsPerSec: round(records.length / seconds),
      megabytesPerSec: round(megabytes / seconds, 2),
    };
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

export interface EmbedCeiling {
  documents: number;
  chunks: number;
  seconds: number;
  documentsPerSec: number;
  chunksPerSec: number;
}

/** Extract → split → hash-embed in one process, one core: the CPU cost of the work itself. */
export async function chunkEmbedCeiling(
  corpus: DocumentSubmitted[],
  dimensions: number,
): Promise<{ result: EmbedCeiling; chunks: EmbeddedChunk[] }> {
  const worker = new ChunkEmbed(dimensions);
  const chunks: EmbeddedChunk[] = [];
  const start = process.hrtime.bigint();
  for (const doc of corpus) chunks.push(...(await worker.run(doc)));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return {
    result: {
      documents: corpus.length,
      chunks: chunks.length,
      seconds: round(seconds, 2),
      documentsPerSec: round(corpus.length / seconds),
      chunksPerSec: round(chunks.length / seconds),
    },
    chunks,
  };
}

export interface ElasticsearchCeiling {
  chunks: number;
  seconds: number;
  chunksPerSec: number;
  documentsPerSec: number;
  bulkSize: number;
  concurrency: number;
}

/**
 * Raw `_bulk` of the same embedded chunks into the same mapping (ensureChunkIndex), with the
 * indexer's slice size and a concurrency like its partition concurrency; vectors precomputed.
 */
export async function elasticsearchCeiling(
  chunks: EmbeddedChunk[],
  documents: number,
  dimensions: number,
  bulkSize = 500,
  concurrency = 2,
): Promise<ElasticsearchCeiling> {
  const es = new Client({ node: STACK.elasticsearchUrl });
  const alias = `rag-chunks-bench${uniqueSuffix()}`;
  try {
    await ensureChunkIndex(es, alias, dimensions, { replicas: 0 });
    const now = Date.now();
    const batches: EmbeddedChunk[][] = [];
    for (let i = 0; i < chunks.length; i += bulkSize) batches.push(chunks.slice(i, i + bulkSize));
    let next = 0;
    const start = Date.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < batches.length) {
          const batch = batches[next++];
          const operations = batch.flatMap((c) => [{ index: { _index: alias, _id: c.chunkId } }, toChunkDocument(c, now)]);
          const res = await es.bulk({ operations, refresh: false });
          if (res.errors) throw new Error(`bulk item errors: ${JSON.stringify(res.items.find((i) => i.index?.error))}`);
        }
      }),
    );
    const seconds = Math.max(0.001, (Date.now() - start) / 1000);
    return {
      chunks: chunks.length,
      seconds: round(seconds, 2),
      chunksPerSec: round(chunks.length / seconds),
      documentsPerSec: round(documents / seconds),
      bulkSize,
      concurrency,
    };
  } finally {
    await es.indices.delete({ index: `${alias}-*`, ignore_unavailable: true, allow_no_indices: true }).catch(() => undefined);
    await es.indices.deleteIndexTemplate({ name: `${alias}-template` }).catch(() => undefined);
    await es.close();
  }
}
