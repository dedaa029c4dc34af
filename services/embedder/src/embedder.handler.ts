import { Inject, Injectable } from '@nestjs/common';
import { TOPICS } from '@rag/common';
import type { Chunk, EmbeddedChunk, TopicNames } from '@rag/contracts';
import { EMBEDDING_PROVIDER, type EmbeddingProvider } from '@rag/embedding';
import type { InboundRecord, RecordResult, StageHandler } from '@rag/stage-runtime';

/** The text that is embedded: the section heading gives a chunk its context. */
export function embeddingInput(chunk: Chunk): string {
  return chunk.heading ? `${chunk.heading}\n\n${chunk.text}` : chunk.text;
}

/** Chunks in, vectors out: all chunks of a slice go to the provider together (few, large requests). */
@Injectable()
export class EmbedderHandler implements StageHandler<'Chunk'> {
  readonly input = 'Chunk' as const;
  readonly writes;

  constructor(
    @Inject(TOPICS) private readonly topics: TopicNames,
    @Inject(EMBEDDING_PROVIDER) private readonly provider: EmbeddingProvider,
  ) {
    this.writes = [{ contract: 'EmbeddedChunk' as const, topic: topics.embeddings }];
  }

  async handle(records: InboundRecord<Chunk>[]): Promise<RecordResult[]> {
    const vectors = await this.provider.embed(records.map((r) => embeddingInput(r.value)));
    return records.map((record, i) => {
      const vector = vectors[i];
      if (vector instanceof Error) return { error: vector };
      const value: EmbeddedChunk = { ...record.value, embedding: vector, model: this.provider.model };
      return { outputs: [{ topic: this.topics.embeddings, key: record.value.documentId, contract: 'EmbeddedChunk', value }] };
    });
  }
}
