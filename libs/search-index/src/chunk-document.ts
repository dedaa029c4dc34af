import { embeddingInput, embeddingKey } from '@rag/embedding';
import { tenantOf, type ChunkLocation, type EmbeddedChunk } from '@rag/contracts';

/** The Elasticsearch document of a chunk (the `_id` is the chunk id). */
export interface ChunkDocument extends ChunkLocation {
  chunkId: string;
  documentId: string;
  version: number;
  chunkIndex: number;
  chunkCount: number;
  title: string | null;
  heading: string | null;
  headings: string[];
  tenant: string;
  text: string;
  tokenCount: number;
  metadata: Record<string, string>;
  model: string;
  /** Model, dimensions and input text hashed: the embedding cache's key. */
  embeddingKey: string;
  submittedAt: number;
  indexedAt: number;
  embedding: number[];
}

export function toChunkDocument(chunk: EmbeddedChunk, indexedAt: number): ChunkDocument {
  return {
    chunkId: chunk.chunkId,
    documentId: chunk.documentId,
    version: chunk.version,
    chunkIndex: chunk.chunkIndex,
    chunkCount: chunk.chunkCount,
    title: chunk.title,
    heading: chunk.heading,
    headings: chunk.headings,
    tenant: tenantOf(chunk),
    pageStart: chunk.pageStart,
    pageEnd: chunk.pageEnd,
    slideStart: chunk.slideStart,
    slideEnd: chunk.slideEnd,
    sheet: chunk.sheet,
    text: chunk.text,
    tokenCount: chunk.tokenCount,
    metadata: chunk.metadata,
    model: chunk.model,
    embeddingKey: embeddingKey(chunk.model, chunk.embedding.length, embeddingInput(chunk)),
    submittedAt: chunk.submittedAt,
    indexedAt,
    embedding: roundVector(chunk.embedding),
  };
}

/** Decimal places of vector components sent to Elasticsearch. */
export const VECTOR_DECIMALS = 6;
const SCALE = 10 ** VECTOR_DECIMALS;

/**
 * Components rounded to 6 decimal places (an error of at most 5e-7 each, below what a cosine
 * ranking notices; Elasticsearch stores float32 anyway). A float32 decoded from Avro prints with
 * up to 17 digits in JSON; rounded it prints with 8 or 9: the bulk body shrinks by 40 % and
 * Elasticsearch spends about a quarter less CPU parsing it (bench/results/vector-index-latest.md).
 */
export function roundVector(vector: number[]): number[] {
  const out = new Array<number>(vector.length);
  for (let i = 0; i < vector.length; i++) out[i] = Math.round(vector[i] * SCALE) / SCALE;
  return out;
}
