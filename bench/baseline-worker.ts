import { Client } from '@elastic/elasticsearch';
import { createEmbeddingProvider, embeddingConfigSchema } from '@rag/embedding';
import { ensureChunkIndex, toChunkDocument } from '@rag/search-index';
import { Worker } from 'bullmq';
import { ChunkEmbed } from './chunk-embed';

/**
 * The classic queue-worker design, one process: a BullMQ worker whose job is one whole
 * document, running extract → chunk → embed → index with the pipeline's own code.
 * Environment: REDIS_PORT, QUEUE, CONCURRENCY, ES_INDEX_ALIAS, ELASTICSEARCH_URL, EMBEDDING_DIMENSIONS,
 * and the embedder's provider settings (EMBEDDING_PROVIDER=openai, OPENAI_*: the same provider code).
 */
export interface BaselineJob {
  documentId: string;
  version: number;
  title: string | null;
  contentType: string;
  /** UTF-8 body (the corpus is text). */
  content: string;
  metadata: Record<string, string>;
  submittedAt: number;
}

async function main(): Promise<void> {
  const env = process.env;
  const dimensions = Number(env.EMBEDDING_DIMENSIONS ?? 384);
  const alias = env.ES_INDEX_ALIAS!;
  const es = new Client({ node: env.ELASTICSEARCH_URL ?? 'http://127.0.0.1:9200' });
  await ensureChunkIndex(es, alias, dimensions, { replicas: 0 });
  const provider = env.EMBEDDING_PROVIDER === 'openai' ? createEmbeddingProvider(embeddingConfigSchema.parse(env)) : undefined;
  const work = new ChunkEmbed(dimensions, provider);
  const worker = new Worker<BaselineJob, number>(
    env.QUEUE!,
    async (job) => {
      const d = job.data;
      const chunks = await work.run({ ...d, content: Buffer.from(d.content, 'utf8'), source: 'bench' });
      const now = Date.now();
      const res = await es.bulk({
        operations: chunks.flatMap((c) => [{ index: { _index: alias, _id: c.chunkId } }, toChunkDocument(c, now)]),
        refresh: false,
      });
      if (res.errors) throw new Error('bulk item errors');
      return chunks.length;
    },
    {
      connection: { host: '127.0.0.1', port: Number(env.REDIS_PORT), maxRetriesPerRequest: null },
      concurrency: Number(env.CONCURRENCY ?? 1),
      removeOnComplete: { count: 1_000_000 },
    },
  );
  await worker.waitUntilReady();
  process.send?.('ready');
  const stop = async () => {
    await worker.close();
    await es.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
