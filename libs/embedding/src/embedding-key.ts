import { tokenizer } from './tokenizer';
import { createHash } from 'node:crypto';
import type { Chunk } from '@rag/contracts';

/** The text that is embedded: the section heading gives a chunk its context. */
export function embeddingInput(chunk: Pick<Chunk, 'heading' | 'text'>): string {
  return chunk.heading ? `${chunk.heading}\n\n${chunk.text}` : chunk.text;
}

/**
 * An upper bound of the tokens of embeddingInput(chunk), from the chunker's exact count of the
 * text (`tokenCount`, cl100k like the OpenAI provider), so the embedder need not tokenize every
 * chunk again. The heading and the blank line joining it add at most their own count plus 2
 * (merges across the join only lower the total). Undefined, so the provider counts itself, when
 * the count is implausible for the text (over 8 characters a token, or none at all).
 */
export function embeddingInputTokens(chunk: Pick<Chunk, 'heading' | 'text' | 'tokenCount'>): number | undefined {
  if (!(chunk.tokenCount > 0) || chunk.text.length > 8 * chunk.tokenCount + 64) return undefined;
  return chunk.heading ? chunk.tokenCount + tokenizer.count(chunk.heading) + 2 : chunk.tokenCount;
}

/**
 * The cache key of a vector: the same input text, model and dimensions always give the same
 * vector, so a chunk whose key is already in the index needs no provider request. Stored on
 * every chunk document (`embeddingKey`).
 */
export function embeddingKey(model: string, dimensions: number, input: string): string {
  return createHash('sha256').update(`${model}\u0000${dimensions}\u0000${input}`).digest('base64url');
}
