/**
 * TypeScript shapes of the Avro records in ./schemas. The .avsc files are the source of truth;
 * `contracts.spec.ts` checks that every field here exists there with a compatible type.
 * Avro `long` is read as a JS number (safe below 2^53: epoch ms and versions are).
 */
export type Metadata = Record<string, string>;

/** The tenant of documents that name none (producers writing straight to Kafka, records from before tenants). */
export const DEFAULT_TENANT = 'default';

export function tenantOf(record: { tenant?: string | null }): string {
  return record.tenant ?? DEFAULT_TENANT;
}

export interface DocumentSubmitted {
  documentId: string;
  version: number;
  title: string | null;
  contentType: string;
  content: Buffer;
  source: string | null;
  /** Owner of the document; null or absent = DEFAULT_TENANT. */
  tenant?: string | null;
  metadata: Metadata;
  /** Per-document chunking; null or absent = the chunker's configured default. */
  chunkSize?: number | null;
  chunkOverlap?: number | null;
  submittedAt: number;
}

/** Where a chunk's text is in its source file (null where the format has no such unit). */
export interface ChunkLocation {
  pageStart: number | null;
  pageEnd: number | null;
  slideStart: number | null;
  slideEnd: number | null;
  sheet: string | null;
}

export interface Chunk extends ChunkLocation {
  chunkId: string;
  documentId: string;
  version: number;
  chunkIndex: number;
  chunkCount: number;
  text: string;
  tokenCount: number;
  title: string | null;
  heading: string | null;
  /** Heading paths of the further sections merged into this chunk. */
  headings: string[];
  /** The document's tenant (null in records written before tenants: DEFAULT_TENANT). */
  tenant: string | null;
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
  tenant: string | null;
  metadata: Metadata;
}
