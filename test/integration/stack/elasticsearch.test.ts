/**
 * The local stack's Elasticsearch node (the OSS distribution Elastic publishes to Maven
 * Central) serves what the indexer and the search path need: dense_vector fields indexed for
 * approximate kNN, the _bulk API, and a knn search that finds the true nearest neighbour.
 */
import type { MappingDenseVectorIndexOptions } from '@elastic/elasticsearch/lib/api/types';
import { randomUUID } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { seededRandom } from '@rag/testkit';

const ES_URL = process.env.ELASTICSEARCH_URL ?? 'http://127.0.0.1:9200';
const DIMS = 8;
const DOCS = 200;

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

function bruteForceNearest(query: number[], vectors: number[][]): { id: string; similarity: number } {
  let best = -1;
  let bestSim = -Infinity;
  vectors.forEach((v, i) => {
    const s = cosine(query, v);
    if (s > bestSim) {
      bestSim = s;
      best = i;
    }
  });
  return { id: String(best), similarity: bestSim };
}

describe('local stack: Elasticsearch dense_vector + kNN', () => {
  const client = new Client({ node: ES_URL });
  const suffix = randomUUID();
  const random = seededRandom(20240611);
  const vectors = Array.from({ length: DOCS }, () => Array.from({ length: DIMS }, () => random() * 2 - 1));
  const queries = Array.from({ length: 10 }, () => Array.from({ length: DIMS }, () => random() * 2 - 1));
  const created: string[] = [];

  async function createAndFill(index: string, indexOptions?: MappingDenseVectorIndexOptions): Promise<void> {
    await client.indices.create({
      index,
      settings: { number_of_shards: 1, number_of_replicas: 0 },
      mappings: {
        properties: {
          vec: {
            type: 'dense_vector',
            dims: DIMS,
            similarity: 'cosine',
            index: true,
            ...(indexOptions ? { index_options: indexOptions } : {}),
          },
          n: { type: 'integer' },
        },
      },
    });
    created.push(index);
    const res = await client.bulk({
      operations: vectors.flatMap((vec, i) => [{ index: { _index: index, _id: String(i) } }, { vec, n: i }]),
    });
    expect(res.errors).toBe(false);
    await client.indices.refresh({ index });
    expect((await client.count({ index })).count).toBe(DOCS);
  }

  beforeAll(async () => {
    // GET / is not served by this distribution (no rest-root module); health is.
    const health = await client.cluster.health({ wait_for_status: 'yellow', timeout: '30s' });
    expect(health.timed_out).toBe(false);
  });

  afterAll(async () => {
    if (created.length > 0) await client.indices.delete({ index: created, ignore_unavailable: true });
    await client.close();
  });

  it('finds the brute-force nearest neighbour first with a float HNSW index', async () => {
    const index = `stack-test-knn-hnsw-${suffix}`;
    await createAndFill(index, { type: 'hnsw' });
    const mapping = await client.indices.getMapping({ index });
    expect(mapping[index].mappings.properties!.vec).toMatchObject({ type: 'dense_vector', dims: DIMS, index: true });

    for (const query of queries) {
      const expected = bruteForceNearest(query, vectors);
      const res = await client.search({
        index,
        knn: { field: 'vec', query_vector: query, k: 5, num_candidates: 100 },
        _source: false,
      });
      expect(res.hits.hits[0]._id).toBe(expected.id);
      // For cosine, ES scores (1 + cos) / 2.
      expect(res.hits.hits[0]._score).toBeCloseTo((1 + expected.similarity) / 2, 4);
    }
  });

  it('with the default (int8-quantized) index, rescoring on the raw vectors finds the true nearest neighbour', async () => {
    // ES 8.19 defaults dense_vector to int8_hnsw. At 8 dimensions quantization alone swaps
    // near ties (measured: ~10% of random queries get another top hit); rescore_vector
    // re-ranks the oversampled candidates with the float vectors.
    const index = `stack-test-knn-default-${suffix}`;
    await createAndFill(index);
    const mapping = await client.indices.getMapping({ index });
    expect(mapping[index].mappings.properties!.vec).toMatchObject({ index_options: { type: 'int8_hnsw' } });

    for (const query of queries) {
      const expected = bruteForceNearest(query, vectors);
      const res = await client.search({
        index,
        knn: {
          field: 'vec',
          query_vector: query,
          k: 5,
          num_candidates: 100,
          rescore_vector: { oversample: 3 },
        },
        _source: false,
      });
      expect(res.hits.hits[0]._id).toBe(expected.id);
    }
  });

  it('finds a stored vector as its own nearest neighbour and combines kNN with a filter', async () => {
    const index = created[0];
    const target = 42;
    const res = await client.search({
      index,
      knn: {
        field: 'vec',
        query_vector: vectors[target],
        k: 3,
        num_candidates: 50,
        filter: { range: { n: { gte: 40, lte: 50 } } },
      },
      _source: ['n'],
    });
    expect(res.hits.hits[0]._id).toBe(String(target));
    for (const hit of res.hits.hits) {
      const n = (hit._source as { n: number }).n;
      expect(n).toBeGreaterThanOrEqual(40);
      expect(n).toBeLessThanOrEqual(50);
    }
  });
});
