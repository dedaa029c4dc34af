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
    embedding: chunk.embedding,
  };
}
