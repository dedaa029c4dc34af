import type { Metadata } from '@rag/contracts';

/** Status of a document's current version. `indexed` means a search returns its chunks. */
export type DocumentStatusName = 'accepted' | 'chunked' | 'indexing' | 'indexed' | 'failed' | 'deleted';

/** What became of a version that is no longer the current one. */
export interface VersionNote {
  version: number;
  status: 'superseded' | 'deleted';
  at: number;
}

export interface StageFailureRecord {
  stage: string;
  reason: string;
  at: number;
}

/**
 * One document in the registry (an Elasticsearch document whose `_id` is the documentId), folded
 * from the lifecycle events. Times are epoch ms. `version` is the newest version seen; the chunks
 * of `searchableVersion` are the ones a search returns (the previous version stays searchable
 * until the next one is completely indexed).
 */
export interface DocumentRecord {
  documentId: string;
  version: number;
  status: DocumentStatusName;
  title: string | null;
  source: string | null;
  contentType: string | null;
  contentHash: string | null;
  /** Owner (the API key tenant that submitted it, or the producer's `tenant` field). */
  tenant: string;
  metadata: Metadata;
  chunkCount: number | null;
  indexedChunks: number;
  /** Chunk indices of `version` confirmed indexed, as a base64 bit set (redelivery never over-counts). */
  indexedSet: string;
  failures: StageFailureRecord[];
  submittedAt: number | null;
  acceptedAt: number | null;
  chunkedAt: number | null;
  indexedAt: number | null;
  createdAt: number;
  updatedAt: number;
  /** The first version this registry saw: a completed later version purges the chunks of older ones. */
  firstVersion: number;
  searchableVersion: number | null;
  searchableChunkCount: number | null;
  /** Every version up to this one is deleted (a tombstone); a newer version re-creates the document. */
  deletedVersion: number | null;
  deletedAt: number | null;
  history: VersionNote[];
  /** Last applied event offset per events-topic partition: each event is applied once. */
  applied: Record<string, string>;
}

export const MAX_FAILURES = 20;
export const MAX_HISTORY = 20;

/** A set of small non-negative integers as bits, stored base64 (10,000 chunks → 1,250 bytes). */
export class ChunkBitSet {
  private constructor(private bytes: Buffer) {}

  static decode(base64: string): ChunkBitSet {
    return new ChunkBitSet(Buffer.from(base64, 'base64'));
  }

  add(index: number): void {
    const byte = index >> 3;
    if (byte >= this.bytes.length) {
      const grown = Buffer.alloc(byte + 1);
      this.bytes.copy(grown);
      this.bytes = grown;
    }
    this.bytes[byte] |= 1 << (index & 7);
  }

  /** Members below `limit` (chunk indices at or above a version's chunk count are ignored). */
  count(limit = Number.MAX_SAFE_INTEGER): number {
    let n = 0;
    for (let byte = 0; byte < this.bytes.length; byte++) {
      const bits = this.bytes[byte];
      if (bits === 0) continue;
      for (let bit = 0; bit < 8; bit++) if (bits & (1 << bit) && byte * 8 + bit < limit) n += 1;
    }
    return n;
  }

  encode(): string {
    return this.bytes.toString('base64');
  }
}
