import { createHash } from 'node:crypto';
import type { Chunk } from '@rag/contracts';

/** The text that is embedded: the section heading gives a chunk its context. */
export function embeddingInput(chunk: Pick<Chunk, 'heading' | 'text'>): string {
  return chunk.heading ? `${chunk.heading}\n\n${chunk.text}` : chunk.text;
}

/**
 * The cache key of a vector: the same input text, model and dimensions always give the same
 * vector, so a chunk whose key is already in the index needs no provider request. Stored on
 * every chunk document (`embeddingKey`).
 */
export function embeddingKey(model: string, dimensions: number, input: string): string {
  return createHash('sha256').update(`${model}\u0000${dimensions}\u0000${input}`).digest('base64url');
}
