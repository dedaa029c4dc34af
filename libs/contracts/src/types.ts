/**
 * TypeScript shapes of the Avro records in ./schemas. The .avsc files are the source of truth;
 * `contracts.spec.ts` checks that every field here exists there with a compatible type.
 * Avro `long` is read as a JS number (safe below 2^53: epoch ms and versions are).
 */
export type Metadata = Record<string, string>;

export interface DocumentSubmitted {
  documentId: string;
  version: number;
  title: string | null;
  contentType: string;
  content: Buffer;
  source: string | null;
  metadata: Metadata;
  submittedAt: number;
}

export interface Chunk {
  chunkId: string;
  documentId: string;
  version: number;
  chunkIndex: number;
  chunkCount: number;
  text: string;
  tokenCount: number;
  title: string | null;
  heading: string | null;
  metadata: Metadata;
  submittedAt: number;
}

export interface EmbeddedChunk extends Chunk {
  embedding: number[];
  model: string;
}

export type DocumentEventType = 'ACCEPTED' | 'CHUNKED' | 'INDEXED' | 'FAILED' | 'DELETED' | 'SUPERSEDED';

export interface DocumentEvent {
  documentId: string;
  version: number;
  type: DocumentEventType;
  at: number;
  stage: string | null;
  chunkCount: number | null;
  chunkIndices: number[];
  reason: string | null;
  submittedAt: number | null;
  title: string | null;
  source: string | null;
  contentType: string | null;
  contentHash: string | null;
  metadata: Metadata;
}
