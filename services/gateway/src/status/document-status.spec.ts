import type { DocumentEvent } from '@rag/contracts';
import { DocumentLifecycle } from './document-status';

const SUBMITTED = Date.UTC(2026, 0, 5, 12, 0, 0);
const V1 = 1_000;
const V2 = 2_000;

function event(type: DocumentEvent['type'], overrides: Partial<DocumentEvent> = {}): DocumentEvent {
  return {
    documentId: 'doc-1',
    version: V1,
    type,
    at: SUBMITTED + 1_000,
    stage: null,
    chunkCount: null,
    chunkIndices: [],
    reason: null,
    submittedAt: null,
    ...overrides,
  };
}

const accepted = (o: Partial<DocumentEvent> = {}) => event('ACCEPTED', { stage: 'gateway', at: SUBMITTED, submittedAt: SUBMITTED, ...o });
const chunked = (chunkCount: number, o: Partial<DocumentEvent> = {}) =>
  event('CHUNKED', { stage: 'chunker', chunkCount, at: SUBMITTED + 100, ...o });
const indexed = (chunkIndices: number[], chunkCount: number, o: Partial<DocumentEvent> = {}) =>
  event('INDEXED', { stage: 'indexer', chunkIndices, chunkCount, at: SUBMITTED + 500, ...o });
const failed = (stage: string, reason: string, o: Partial<DocumentEvent> = {}) =>
  event('FAILED', { stage, reason, at: SUBMITTED + 300, ...o });

describe('DocumentLifecycle', () => {
  it('goes accepted → chunked → indexing → indexed', () => {
    const doc = new DocumentLifecycle('doc-1', V1);
    expect(doc.apply(accepted())).toBe(true);
    expect(doc.snapshot()).toEqual({
      documentId: 'doc-1',
      version: V1,
      status: 'accepted',
      chunkCount: null,
      indexedChunks: 0,
      failures: [],
      submittedAt: new Date(SUBMITTED).toISOString(),
      updatedAt: new Date(SUBMITTED).toISOString(),
    });
    expect(doc.terminal).toBe(false);

    doc.apply(chunked(3));
    expect(doc.status).toBe('chunked');
    expect(doc.snapshot().chunkCount).toBe(3);

    doc.apply(indexed([0, 1], 3));
    expect(doc.status).toBe('indexing');
    expect(doc.snapshot().indexedChunks).toBe(2);
    expect(doc.terminal).toBe(false);

    doc.apply(indexed([2], 3, { at: SUBMITTED + 900 }));
    expect(doc.status).toBe('indexed');
    expect(doc.terminal).toBe(true);
    expect(doc.snapshot()).toMatchObject({ indexedChunks: 3, updatedAt: new Date(SUBMITTED + 900).toISOString() });
  });

  it('does not over-count redelivered INDEXED events', () => {
    const doc = new DocumentLifecycle('doc-1', V1);
    doc.apply(chunked(3));
    for (let i = 0; i < 5; i++) doc.apply(indexed([0, 1], 3));
    doc.apply(indexed([1], 3));
    expect(doc.snapshot().indexedChunks).toBe(2);
    expect(doc.status).toBe('indexing');
  });

  it('ignores events of an older version', () => {
    const doc = new DocumentLifecycle('doc-1', V2);
    doc.apply(chunked(2, { version: V2 }));
    const before = doc.snapshot();
    expect(doc.apply(indexed([0, 1], 2, { version: V1 }))).toBe(false);
    expect(doc.apply(failed('embedder', 'boom', { version: V1 }))).toBe(false);
    expect(doc.snapshot()).toEqual(before);
    expect(doc.status).toBe('chunked');
  });

  it('starts over for a newer version', () => {
    const doc = new DocumentLifecycle('doc-1', V1);
    doc.apply(accepted());
    doc.apply(chunked(4));
    doc.apply(indexed([0, 1, 2], 4));
    doc.apply(failed('indexer', 'mapping conflict'));
    expect(doc.status).toBe('failed');

    const resubmitted = SUBMITTED + 60_000;
    expect(doc.apply(accepted({ version: V2, at: resubmitted, submittedAt: resubmitted }))).toBe(true);
    expect(doc.snapshot()).toEqual({
      documentId: 'doc-1',
      version: V2,
      status: 'accepted',
      chunkCount: null,
      indexedChunks: 0,
      failures: [],
      submittedAt: new Date(resubmitted).toISOString(),
      updatedAt: new Date(resubmitted).toISOString(),
    });
    doc.apply(indexed([0], 1, { version: V2, at: resubmitted + 10 }));
    expect(doc.status).toBe('indexed');
  });

  it('is failed when a stage dead-letters the document, with the stage and reason', () => {
    const doc = new DocumentLifecycle('doc-1', V1);
    doc.apply(accepted());
    doc.apply(failed('chunker', 'document content is not valid UTF-8', { at: SUBMITTED + 42 }));
    expect(doc.status).toBe('failed');
    expect(doc.terminal).toBe(true);
    expect(doc.snapshot().failures).toEqual([
      { stage: 'chunker', reason: 'document content is not valid UTF-8', at: new Date(SUBMITTED + 42).toISOString() },
    ]);
  });

  it('stays failed while a failed chunk is missing, and becomes indexed once every chunk is (after a DLQ replay)', () => {
    const doc = new DocumentLifecycle('doc-1', V1);
    doc.apply(chunked(3));
    doc.apply(indexed([0, 2], 3));
    doc.apply(failed('embedder', 'HTTP 400 from the provider'));
    expect(doc.status).toBe('failed');

    doc.apply(indexed([1], 3, { at: SUBMITTED + 3_600_000 }));
    expect(doc.status).toBe('indexed');
    expect(doc.snapshot().failures).toHaveLength(1); // the history stays visible
  });

  it('folds events that arrive out of order', () => {
    const doc = new DocumentLifecycle('doc-1', V1);
    doc.apply(indexed([1], 2, { at: SUBMITTED + 500 }));
    expect(doc.status).toBe('indexing');
    doc.apply(chunked(2, { at: SUBMITTED + 100 }));
    doc.apply(accepted());
    expect(doc.status).toBe('indexing');
    expect(doc.snapshot().updatedAt).toBe(new Date(SUBMITTED + 500).toISOString());
    expect(doc.snapshot().submittedAt).toBe(new Date(SUBMITTED).toISOString());
    doc.apply(indexed([0], 2));
    expect(doc.status).toBe('indexed');
  });

  it('keeps a bounded number of failures', () => {
    const doc = new DocumentLifecycle('doc-1', V1);
    for (let i = 0; i < 100; i++) doc.apply(failed('embedder', `failure ${i}`));
    const failures = doc.snapshot().failures;
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.length).toBeLessThanOrEqual(20);
    expect(failures[0].reason).toBe('failure 0');
  });

  it('falls back to "unknown" for a failure without stage or reason', () => {
    const doc = new DocumentLifecycle('doc-1', V1);
    doc.apply(event('FAILED'));
    expect(doc.snapshot().failures[0]).toMatchObject({ stage: 'unknown', reason: 'unknown' });
  });

  it('hands out snapshots that later events do not change', () => {
    const doc = new DocumentLifecycle('doc-1', V1);
    doc.apply(failed('indexer', 'first'));
    const snapshot = doc.snapshot();
    doc.apply(failed('indexer', 'second'));
    expect(snapshot.failures).toHaveLength(1);
  });
});
