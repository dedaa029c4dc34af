import type { Client } from '@elastic/elasticsearch';

/** Vectors already in the chunk index, found by embedding key. */
export interface EmbeddingCache {
  /** Known vectors for some of the keys; the others must be embedded. */
  lookup(keys: string[]): Promise<Map<string, number[]>>;
}

/**
 * The chunk index is the cache: every indexed chunk carries its `embeddingKey` (model, dimensions,
 * input text) and its vector in `_source`, so re-submitting unchanged text costs one search per
 * slice instead of provider requests, and no second store has to be kept consistent. A lookup
 * that fails is a miss (embedding is always correct, the cache only saves requests).
 */
export class IndexEmbeddingCache implements EmbeddingCache {
  constructor(
    private readonly es: Client,
    private readonly alias: string,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  async lookup(keys: string[]): Promise<Map<string, number[]>> {
    const found = new Map<string, number[]>();
    const unique = [...new Set(keys)];
    if (unique.length === 0) return found;
    try {
      const response = await this.es.search<{ embeddingKey: string; embedding: number[] }>({
        index: this.alias,
        size: unique.length,
        query: { bool: { filter: [{ terms: { embeddingKey: unique } }] } },
        collapse: { field: 'embeddingKey' },
        _source: ['embeddingKey', 'embedding'],
        track_total_hits: false,
      });
      for (const hit of response.hits.hits) {
        if (hit._source?.embedding) found.set(hit._source.embeddingKey, hit._source.embedding);
      }
    } catch (err) {
      this.onError(err);
    }
    return found;
  }
}
