import { lifecycleEvent, type DocumentEvent, type DocumentEventType } from '@rag/contracts';
import { ChunkBitSet, type DocumentRecord } from './document-record';
import { foldEvents, type PositionedEvent, type RegistryEffect } from './fold';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const V1 = 1_000;
const V2 = 2_000;

let offset = 0;
function at(type: DocumentEventType, init: Partial<DocumentEvent> = {}, partition = 0): PositionedEvent {
  return { event: lifecycleEvent(type, { documentId: 'doc-1', version: V1, at: T0, ...init }), partition, offset: String(offset++) };
}
const accepted = (o: Partial<DocumentEvent> = {}) => at('ACCEPTED', { stage: 'gateway', submittedAt: T0, title: 'Doc', ...o });
const chunked = (chunkCount: number, o: Partial<DocumentEvent> = {}) => at('CHUNKED', { stage: 'chunker', chunkCount, at: T0 + 100, ...o });
const indexed = (chunkIndices: number[], chunkCount: number, o: Partial<DocumentEvent> = {}) =>
  at('INDEXED', { stage: 'indexer', chunkIndices, chunkCount, at: T0 + 500, ...o });

function fold(events: PositionedEvent[], current?: DocumentRecord): { record: DocumentRecord; effects: RegistryEffect[] } {
  const result = foldEvents(current, events);
  return { record: result.record!, effects: result.effects };
}

describe('foldEvents', () => {
  beforeEach(() => (offset = 0));

  it('goes accepted → chunked → indexing → indexed, with timings and facts', () => {
    let { record } = fold([accepted()]);
    expect(record).toMatchObject({ status: 'accepted', version: V1, title: 'Doc', submittedAt: T0, createdAt: T0 });
    ({ record } = fold([chunked(3)], record));
    expect(record).toMatchObject({ status: 'chunked', chunkCount: 3, chunkedAt: T0 + 100 });
    ({ record } = fold([indexed([0, 1], 3)], record));
    expect(record).toMatchObject({ status: 'indexing', indexedChunks: 2, searchableVersion: null });
    const last = fold([indexed([2], 3, { at: T0 + 900 })], record);
    expect(last.record).toMatchObject({ status: 'indexed', indexedChunks: 3, indexedAt: T0 + 900, searchableVersion: V1 });
    expect(last.effects).toEqual([]); // a first version has nothing older to purge
  });

  it('applies each event once: a redelivered event (same offset) changes nothing, a duplicate INDEXED never over-counts', () => {
    const events = [chunked(3), indexed([0, 1], 3)];
    const { record } = fold(events);
    const again = foldEvents(record, events);
    expect(again.changed).toBe(false);
    expect(again.record).toEqual(record);
    const dup = fold([indexed([1], 3), indexed([0, 1], 3)], record);
    expect(dup.record).toMatchObject({ indexedChunks: 2, status: 'indexing' });
  });

  it('a newer version replaces the progress, keeps the older one searchable until it completes, then purges it', () => {
    const v1 = fold([accepted(), chunked(2), indexed([0, 1], 2)]).record;
    expect(v1.searchableVersion).toBe(V1);
    const v2 = fold([accepted({ version: V2, at: T0 + 5_000, submittedAt: T0 + 5_000 }), chunked(1, { version: V2 })], v1);
    expect(v2.record).toMatchObject({ version: V2, status: 'chunked', chunkCount: 1, indexedChunks: 0, searchableVersion: V1 });
    expect(v2.record.history).toEqual([{ version: V1, status: 'superseded', at: T0 + 5_000 }]);
    const done = fold([indexed([0], 1, { version: V2 })], v2.record);
    expect(done.record).toMatchObject({ status: 'indexed', searchableVersion: V2, searchableChunkCount: 1 });
    expect(done.effects).toEqual([{ kind: 'purgeOlderVersions', documentId: 'doc-1', below: V2 }]);
  });

  it('never lets an older version win; chunks it reports written are deleted by id', () => {
    const v2 = fold([chunked(2, { version: V2 }), indexed([0, 1], 2, { version: V2 })]).record;
    const late = fold([accepted({ version: V1 }), chunked(3), indexed([0, 1, 2], 3)], v2);
    expect(late.record).toMatchObject({ version: V2, status: 'indexed', chunkCount: 2, searchableVersion: V2 });
    expect(late.record.history).toEqual([{ version: V1, status: 'superseded', at: T0 }]);
    expect(late.effects).toEqual([{ kind: 'deleteChunks', documentId: 'doc-1', version: V1, chunkIndices: [0, 1, 2] }]);
  });

  it('does not delete the searchable version when its INDEXED events are redelivered during an update', () => {
    const v1 = fold([chunked(1), indexed([0], 1)]).record;
    const updating = fold([chunked(1, { version: V2 })], v1).record;
    const redelivered = fold([indexed([0], 1)], updating);
    expect(redelivered.effects).toEqual([]);
    expect(redelivered.record.searchableVersion).toBe(V1);
  });

  it('deletes every version up to the newest known one, and a newer version re-creates the document', () => {
    const v2 = fold([chunked(2, { version: V2 }), indexed([0, 1], 2, { version: V2 })]).record;
    const deleted = fold([at('DELETED', { version: 0, at: T0 + 10_000, stage: 'chunker' })], v2);
    expect(deleted.record).toMatchObject({ status: 'deleted', deletedVersion: V2, searchableVersion: null, deletedAt: T0 + 10_000 });
    expect(deleted.effects).toEqual([{ kind: 'purgeDeleted', documentId: 'doc-1', upTo: V2 }]);
    // An event of a deleted version that arrives late: its chunks go again, the status stays deleted.
    const late = fold([indexed([1], 2, { version: V2 })], deleted.record);
    expect(late.record.status).toBe('deleted');
    expect(late.effects).toEqual([{ kind: 'deleteChunks', documentId: 'doc-1', version: V2, chunkIndices: [1] }]);
    const recreated = fold([chunked(1, { version: V2 + 1 }), indexed([0], 1, { version: V2 + 1 })], late.record);
    expect(recreated.record).toMatchObject({ status: 'indexed', version: V2 + 1, searchableVersion: V2 + 1 });
  });

  it('a tombstone for a document the registry never saw purges every chunk of that id', () => {
    const { record, effects } = fold([at('DELETED', { version: 0 })]);
    expect(record.status).toBe('deleted');
    expect(effects).toEqual([{ kind: 'purgeDeleted', documentId: 'doc-1', upTo: null }]);
  });

  it('is failed when a stage dead-letters the current version, and indexed once every chunk is (after a replay)', () => {
    let { record } = fold([chunked(2), indexed([0], 2), at('FAILED', { stage: 'embedder', reason: 'HTTP 400', at: T0 + 42 })]);
    expect(record.status).toBe('failed');
    expect(record.failures).toEqual([{ stage: 'embedder', reason: 'HTTP 400', at: T0 + 42 }]);
    ({ record } = fold([indexed([1], 2)], record));
    expect(record.status).toBe('indexed');
    expect(record.failures).toHaveLength(1);
  });

  it('folds events that arrive out of order within a version', () => {
    const { record } = fold([indexed([1], 2, { at: T0 + 500 }), chunked(2), accepted(), indexed([0], 2)]);
    expect(record).toMatchObject({ status: 'indexed', submittedAt: T0, chunkedAt: T0 + 100 });
  });

  it('tracks applied offsets per partition', () => {
    const { record } = fold([at('ACCEPTED', {}, 0), at('CHUNKED', { chunkCount: 1 }, 3)]);
    expect(Object.keys(record.applied).sort()).toEqual(['0', '3']);
  });
});

describe('ChunkBitSet', () => {
  it('counts members below a limit, round-trips through base64', () => {
    const set = ChunkBitSet.decode('');
    for (const i of [0, 7, 8, 9_999, 9_999]) set.add(i);
    const back = ChunkBitSet.decode(set.encode());
    expect(back.count()).toBe(4);
    expect(back.count(9_999)).toBe(3);
    expect(set.encode().length).toBeLessThanOrEqual(Math.ceil(10_000 / 8 / 3) * 4);
  });
});
