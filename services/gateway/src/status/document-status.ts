import type { DocumentEvent } from '@rag/contracts';

export type LifecycleStatus = 'accepted' | 'chunked' | 'indexing' | 'indexed' | 'failed';

export interface StageFailure {
  stage: string;
  reason: string;
  at: string;
}

/** What GET /v1/documents/:id answers. */
export interface DocumentStatus {
  documentId: string;
  version: number;
  status: LifecycleStatus;
  chunkCount: number | null;
  indexedChunks: number;
  failures: StageFailure[];
  submittedAt: string | null;
  updatedAt: string;
}

const MAX_FAILURES = 20;

/**
 * The lifecycle of one document version folded from its events. Indexed chunks are a set of
 * chunk indices, so redelivered INDEXED events never over-count; a newer version replaces
 * the state of an older one, and events of older versions are ignored.
 */
export class DocumentLifecycle {
  private version: number;
  private chunkCount: number | null = null;
  private readonly indexed = new Set<number>();
  private readonly failures: StageFailure[] = [];
  private submittedAt: number | null = null;
  private updatedAt = 0;

  constructor(
    readonly documentId: string,
    version: number,
  ) {
    this.version = version;
  }

  /** Applies an event; returns false if it belongs to an older version and was ignored. */
  apply(event: DocumentEvent): boolean {
    if (event.version < this.version) return false;
    if (event.version > this.version) this.reset(event.version);
    this.updatedAt = Math.max(this.updatedAt, event.at);
    this.submittedAt ??= event.submittedAt;
    if (event.chunkCount !== null) this.chunkCount = event.chunkCount;
    if (event.type === 'INDEXED') for (const i of event.chunkIndices) this.indexed.add(i);
    if (event.type === 'FAILED' && this.failures.length < MAX_FAILURES) {
      this.failures.push({ stage: event.stage ?? 'unknown', reason: event.reason ?? 'unknown', at: new Date(event.at).toISOString() });
    }
    return true;
  }

  get status(): LifecycleStatus {
    if (this.chunkCount !== null && this.indexed.size >= this.chunkCount) return 'indexed';
    if (this.failures.length > 0) return 'failed';
    if (this.indexed.size > 0) return 'indexing';
    if (this.chunkCount !== null) return 'chunked';
    return 'accepted';
  }

  get terminal(): boolean {
    return this.status === 'indexed' || this.status === 'failed';
  }

  snapshot(): DocumentStatus {
    return {
      documentId: this.documentId,
      version: this.version,
      status: this.status,
      chunkCount: this.chunkCount,
      indexedChunks: this.indexed.size,
      failures: [...this.failures],
      submittedAt: this.submittedAt === null ? null : new Date(this.submittedAt).toISOString(),
      updatedAt: new Date(this.updatedAt).toISOString(),
    };
  }

  private reset(version: number): void {
    this.version = version;
    this.chunkCount = null;
    this.indexed.clear();
    this.failures.length = 0;
    this.submittedAt = null;
  }
}
