import { Inject, Injectable, Optional } from '@nestjs/common';
import { METRICS_REGISTRY, TOPICS } from '@rag/common';
import type { Chunk, EmbeddedChunk, TopicNames } from '@rag/contracts';
import { EMBEDDING_PROVIDER, embeddingInput, embeddingInputTokens, embeddingKey, type EmbeddingCache, type EmbeddingProvider } from '@rag/embedding';
import type { InboundRecord, RecordResult, StageHandler } from '@rag/stage-runtime';
import { Counter, type Registry } from 'prom-client';

export const EMBEDDING_CACHE = Symbol('EMBEDDING_CACHE');

/**
 * Chunks in, vectors out: all chunks of a slice go to the provider together (few, large requests).
 * Inputs whose vector is already known (same text, model and dimensions in the index) and inputs
 * repeated within the slice are not sent again.
 */
@Injectable()
export class EmbedderHandler implements StageHandler<'Chunk'> {
  readonly input = 'Chunk' as const;
  private readonly cacheLookups: Counter<'result'>;

  constructor(
    @Inject(TOPICS) private readonly topics: TopicNames,
    @Inject(EMBEDDING_PROVIDER) private readonly provider: EmbeddingProvider,
    @Inject(METRICS_REGISTRY) registry: Registry,
    @Optional() @Inject(EMBEDDING_CACHE) private readonly cache?: EmbeddingCache,
  ) {
    this.cacheLookups = new Counter({
      name: 'rag_embedding_cache_lookups_total',
      help: 'Chunks looked up in the embedding cache (the chunk index), by result.',
      labelNames: ['result'],
      registers: [registry],
    });
  }

  async handle(records: InboundRecord<Chunk>[]): Promise<RecordResult[]> {
    const inputs = records.map((r) => embeddingInput(r.value));
    // The chunker counted each chunk's tokens already: a provider that needs counts reuses them.
    const tokens = new Map<string, number | undefined>();
    if (this.provider.countsTokens) records.forEach((r, i) => tokens.set(inputs[i], embeddingInputTokens(r.value)));
    const vectors = await this.vectorsFor(inputs, tokens);
    return records.map((record, i) => {
      const vector = vectors.get(inputs[i])!;
      if (vector instanceof Error) return { error: vector };
      const value: EmbeddedChunk = { ...record.value, embedding: vector, model: this.provider.model };
      return { outputs: [{ topic: this.topics.embeddings, key: record.value.documentId, contract: 'EmbeddedChunk', value }] };
    });
  }

  /** One vector (or error) per distinct input: cached ones first, the rest in one provider call. */
  private async vectorsFor(inputs: string[], tokens: Map<string, number | undefined>): Promise<Map<string, number[] | Error>> {
    const distinct = [...new Set(inputs)];
    const vectors = new Map<string, number[] | Error>();
    if (this.cache) {
      const keyOf = (input: string) => embeddingKey(this.provider.model, this.provider.dimensions, input);
      const cached = await this.cache.lookup(distinct.map(keyOf));
      for (const input of distinct) {
        const hit = cached.get(keyOf(input));
        if (hit) vectors.set(input, hit);
      }
      this.cacheLookups.inc({ result: 'hit' }, vectors.size);
      this.cacheLookups.inc({ result: 'miss' }, distinct.length - vectors.size);
    }
    const missing = distinct.filter((input) => !vectors.has(input));
    if (missing.length > 0) {
      const embedded = await this.provider.embed(
        missing,
        missing.map((input) => tokens.get(input)),
      );
      missing.forEach((input, i) => vectors.set(input, embedded[i]));
    }
    return vectors;
  }
}
