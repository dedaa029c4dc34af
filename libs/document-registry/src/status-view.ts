import { DEFAULT_TENANT, type Metadata } from '@rag/contracts';
import type { DocumentRecord, DocumentStatusName } from './document-record';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const span = (from: number | null, to: number | null): number | null => (from === null || to === null ? null : Math.max(0, to - from));

/** What `GET /v1/documents/:id` answers: the current version's state, and what became of older versions. */
export interface DocumentStatus {
  documentId: string;
  version: number;
  status: DocumentStatusName;
  title: string | null;
  source: string | null;
  contentType: string | null;
  contentHash: string | null;
  tenant: string;
  metadata: Metadata;
  chunkCount: number | null;
  indexedChunks: number;
  failures: { stage: string; reason: string; at: string }[];
  /** The version whose chunks a search returns now (the previous one while an update is in progress). */
  searchableVersion: number | null;
  submittedAt: string | null;
  acceptedAt: string | null;
  chunkedAt: string | null;
  indexedAt: string | null;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
  /** Milliseconds: submission → chunked, chunked → indexed (searchable), submission → indexed. */
  timings: { chunkingMs: number | null; indexingMs: number | null; totalMs: number | null };
  history: { version: number; status: 'superseded' | 'deleted'; at: string }[];
}

export function toDocumentStatus(record: DocumentRecord): DocumentStatus {
  return {
    documentId: record.documentId,
    version: record.version,
    status: record.status,
    title: record.title,
    source: record.source,
    contentType: record.contentType,
    contentHash: record.contentHash,
    tenant: record.tenant ?? DEFAULT_TENANT,
    metadata: record.metadata,
    chunkCount: record.chunkCount,
    indexedChunks: record.indexedChunks,
    failures: record.failures.map((f) => ({ stage: f.stage, reason: f.reason, at: iso(f.at)! })),
    searchableVersion: record.searchableVersion,
    submittedAt: iso(record.submittedAt),
    acceptedAt: iso(record.acceptedAt),
    chunkedAt: iso(record.chunkedAt),
    indexedAt: iso(record.indexedAt),
    createdAt: iso(record.createdAt)!,
    updatedAt: iso(record.updatedAt)!,
    deletedAt: iso(record.deletedAt),
    timings: {
      chunkingMs: span(record.submittedAt, record.chunkedAt),
      indexingMs: span(record.chunkedAt, record.indexedAt),
      totalMs: span(record.submittedAt, record.indexedAt),
    },
    history: record.history.map((h) => ({ version: h.version, status: h.status, at: iso(h.at)! })),
  };
}

/** The status of one version: the current one in full; an older one is `superseded` or `deleted`. */
export function versionStatus(
  record: DocumentRecord,
  version: number,
): DocumentStatus | { documentId: string; version: number; status: 'superseded' | 'deleted'; currentVersion: number } | undefined {
  if (version === record.version) return toDocumentStatus(record);
  if (version > record.version) return undefined;
  const deleted = record.deletedVersion !== null && version <= record.deletedVersion;
  return { documentId: record.documentId, version, status: deleted ? 'deleted' : 'superseded', currentVersion: record.version };
}

/** A status that will not change without a new submission or a delete. */
export const isSettled = (status: DocumentStatusName): boolean => status === 'indexed' || status === 'failed' || status === 'deleted';
