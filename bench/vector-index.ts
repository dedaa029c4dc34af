import { Client } from '@elastic/elasticsearch';
import type { EmbeddedChunk } from '@rag/contracts';
import { ensureChunkIndex, toChunkDocument, type VectorIndexType } from '@rag/search-index';
import { seededRandom, STACK, uniqueSuffix } from '@rag/testkit';
import { ChunkEmbed, DIMENSIONS } from './chunk-embed';
import { generateCorpus } from './corpus';
import { cpuSecondsOf, stackPids } from './cpu-accounting';
import { round } from './stats';

/**
 * The vector index options side by side on the same embedded chunks: `_bulk` speed and
 * Elasticsearch CPU per chunk while indexing (HNSW graph building is most of it), and kNN
 * recall@10 against exact cosine search done here over the full-precision vectors.
 */
export interface VectorIndexResult {
  type: VectorIndexType;
  /** Vector components as sent: rounded to 6 decimals (what the indexer sends) or every digit of the float32. */
  json: 'rounded' | 'full';
  chunks: number;
  seconds: number;
  chunksPerSec: number;
  esCpuMsPerChunk: number;
  recallAt10: number;
  queries: number;
}

const QUERIES = 100;
const K = 10;

export async function measureVectorIndexTypes(documents: number, stackDir: string): Promise<VectorIndexResult[]> {
  const corpus = generateCorpus({ documents, minBytes: 2_000, maxBytes: 20_000, seed: 42 });
  const embed = new ChunkEmbed(DIMENSIONS);
  const chunks: EmbeddedChunk[] = [];
  // As the indexer receives them: float32 values out of Avro.
  for (const doc of corpus)
    for (const c of await embed.run(doc)) chunks.push({ ...c, embedding: Array.from(new Float32Array(c.embedding)) });
  // Queries: word windows out of random chunks, embedded like search queries.
  const random = seededRandom(7);
  const queryTexts = Array.from({ length: QUERIES }, () => {
    const words = chunks[Math.floor(random() * chunks.length)].text.split(/\s+/);
    const start = Math.floor(random() * Math.max(1, words.length - 12));
    return words.slice(start, start + 12).join(' ');
  });
  const queryVectors = (await embed.provider.embed(queryTexts)).map((v) => {
    if (v instanceof Error) throw v;
    return v;
  });
  const exact = queryVectors.map((q) => exactSearch(q, chunks));
  const results: VectorIndexResult[] = [];
  results.push(await measureOne('hnsw', 'full', chunks, queryVectors, exact, stackDir));
  for (const type of ['hnsw', 'int8_hnsw', 'bbq_hnsw'] as const) {
    results.push(await measureOne(type, 'rounded', chunks, queryVectors, exact, stackDir));
  }
  return results;
}

interface Exact {
  /** Exact cosine of every chunk (vectors are unit length). */
  scores: Map<string, number>;
  /** The k-th best exact score: a returned chunk at least this close is a true top-k hit. */
  kth: number;
}

function exactSearch(query: number[], chunks: EmbeddedChunk[]): Exact {
  const scores = new Map<string, number>();
  for (const c of chunks) {
    let dot = 0;
    for (let i = 0; i < query.length; i++) dot += query[i] * c.embedding[i];
    scores.set(c.chunkId, dot);
  }
  const kth = [...scores.values()].sort((a, b) => b - a)[K - 1];
  return { scores, kth };
}

async function measureOne(
  type: VectorIndexType,
  json: 'rounded' | 'full',
  chunks: EmbeddedChunk[],
  queries: number[][],
  exact: Exact[],
  stackDir: string,
): Promise<VectorIndexResult> {
  const es = new Client({ node: STACK.elasticsearchUrl });
  const alias = `rag-chunks-vectors${uniqueSuffix()}`;
  const esPid = stackPids(stackDir).es;
  try {
    await ensureChunkIndex(es, alias, DIMENSIONS, { replicas: 0, vectorIndex: type });
    const now = Date.now();
    const batches: EmbeddedChunk[][] = [];
    for (let i = 0; i < chunks.length; i += 500) batches.push(chunks.slice(i, i + 500));
    const cpuBefore = esPid ? cpuSecondsOf(esPid) : undefined;
    const start = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 2 }, async () => {
        while (next < batches.length) {
          const batch = batches[next++];
          const document = (c: EmbeddedChunk) => ({ ...toChunkDocument(c, now), ...(json === 'full' && { embedding: c.embedding }) });
          const operations = batch.flatMap((c) => [{ index: { _index: alias, _id: c.chunkId } }, document(c)]);
          const res = await es.bulk({ operations, refresh: false });
          if (res.errors) throw new Error(`bulk item errors: ${JSON.stringify(res.items.find((i) => i.index?.error))}`);
        }
      }),
    );
    await es.indices.refresh({ index: alias });
    const seconds = Math.max(0.001, (Date.now() - start) / 1000);
    const cpuAfter = esPid ? cpuSecondsOf(esPid) : undefined;
    let found = 0;
    for (let q = 0; q < queries.length; q++) {
      const res = await es.search<{ chunkId: string }>({
        index: alias,
        knn: { field: 'embedding', query_vector: queries[q], k: K, num_candidates: 100 },
        _source: ['chunkId'],
        size: K,
      });
      // Ties count: chunks that share the query's words score alike (overlaps, repeated phrases),
      // and any of them is a right answer. 1e-6 absorbs float32 storage.
      const { scores, kth } = exact[q];
      found += res.hits.hits.filter((h) => (scores.get(h._source!.chunkId) ?? -1) >= kth - 1e-6).length;
    }
    return {
      type,
      json,
      chunks: chunks.length,
      seconds: round(seconds, 2),
      chunksPerSec: round(chunks.length / seconds),
      esCpuMsPerChunk: cpuBefore !== undefined && cpuAfter !== undefined ? round(((cpuAfter - cpuBefore) * 1000) / chunks.length, 3) : NaN,
      recallAt10: round(found / (queries.length * K), 3),
      queries: queries.length,
    };
  } finally {
    await es.indices.delete({ index: `${alias}-*`, ignore_unavailable: true, allow_no_indices: true }).catch(() => undefined);
    await es.indices.deleteIndexTemplate({ name: `${alias}-template` }).catch(() => undefined);
    await es.close();
  }
}

export function vectorIndexMarkdown(results: VectorIndexResult[]): string[] {
  const rows = results.map(
    (r) =>
      `| ${r.type} | ${r.json === 'full' ? 'every float32 digit' : '6 decimals'} | ${r.chunks} | ${r.seconds} | ${r.chunksPerSec} | ${r.esCpuMsPerChunk} | ${r.recallAt10} |`,
  );
  return [
    `kNN recall@10 against exact cosine search (ties with the 10th best count as hits) over ${results[0]?.queries ?? 0} queries (k=10, num_candidates=100); _bulk of 500, 2 concurrent, then one refresh.`,
    '',
    '| index_options type | vector JSON | chunks | seconds | chunks/s | ES CPU ms/chunk | recall@10 |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...rows,
  ];
}
