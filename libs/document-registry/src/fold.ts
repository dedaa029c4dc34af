import { tenantOf, type DocumentEvent } from '@rag/contracts';
import { ChunkBitSet, MAX_FAILURES, MAX_HISTORY, type DocumentRecord, type DocumentStatusName } from './document-record';

/** A lifecycle event and where it was read (null for the gateway's own acceptance, which has no offset yet). */
export interface PositionedEvent {
  event: DocumentEvent;
  partition: number | null;
  offset: string | null;
}

/** Chunk index work the registry asks for; run before the registry write (insert before delete). */
export type RegistryEffect =
  /** Delete exactly these chunks (a stale version's, known by index): by `_id`, no search. */
  | { kind: 'deleteChunks'; documentId: string; version: number; chunkIndices: number[] }
  /** Delete every chunk of the document with version < `below` (an update completed). */
  | { kind: 'purgeOlderVersions'; documentId: string; below: number }
  /** Delete every chunk of the document with version ≤ `upTo`, or every chunk when null (a delete). */
  | { kind: 'purgeDeleted'; documentId: string; upTo: number | null };

export interface FoldResult {
  record: DocumentRecord | undefined;
  effects: RegistryEffect[];
  changed: boolean;
}

/**
 * Folds events into a document's registry record. Pure (no I/O, no clock): the projector runs it
 * for the events of a batch, the gateway for its own acceptance. Rules:
 * - each positioned event is applied once (offset per partition);
 * - the newest version wins: events of older versions never change the current state, and chunks
 *   they report indexed are deleted again unless they belong to the version still searchable;
 * - a version is `indexed` when every chunk index is confirmed; then older versions are purged;
 * - a DELETED event deletes every version up to max(its version, the current one).
 */
export function foldEvents(current: DocumentRecord | undefined, events: PositionedEvent[]): FoldResult {
  let record = current ? structuredClone(current) : undefined;
  const effects: RegistryEffect[] = [];
  let changed = false;
  for (const positioned of events) {
    if (record && alreadyApplied(record, positioned)) continue;
    record = applyEvent(record, positioned.event, effects);
    if (positioned.partition !== null && positioned.offset !== null) record.applied[String(positioned.partition)] = positioned.offset;
    changed = true;
  }
  if (record) record.status = statusOf(record);
  return { record, effects, changed };
}

function alreadyApplied(record: DocumentRecord, { partition, offset }: PositionedEvent): boolean {
  if (partition === null || offset === null) return false;
  const last = record.applied[String(partition)];
  return last !== undefined && BigInt(offset) <= BigInt(last);
}

function applyEvent(record: DocumentRecord | undefined, event: DocumentEvent, effects: RegistryEffect[]): DocumentRecord {
  if (event.type === 'DELETED') return applyDelete(record, event, effects);
  if (!record) return applyCurrent(emptyRecord(event), event, effects);
  record.updatedAt = Math.max(record.updatedAt, event.at);
  const deleted = record.deletedVersion !== null && event.version <= record.deletedVersion;
  if (deleted || event.version < record.version) return applyStale(record, event, effects, deleted);
  if (event.version > record.version) startVersion(record, event.version, event.at);
  return applyCurrent(record, event, effects);
}

function emptyRecord(event: DocumentEvent): DocumentRecord {
  return {
    documentId: event.documentId,
    version: event.version,
    status: 'accepted',
    title: null,
    source: null,
    contentType: null,
    contentHash: null,
    tenant: tenantOf(event),
    metadata: {},
    ...freshProgress(),
    createdAt: event.at,
    updatedAt: event.at,
    firstVersion: event.version,
    searchableVersion: null,
    searchableChunkCount: null,
    deletedVersion: null,
    deletedAt: null,
    history: [],
    applied: {},
  };
}

/** A newer version replaces the current one's progress; the current one's chunks stay searchable until then. */
function startVersion(record: DocumentRecord, version: number, at: number): void {
  note(record, record.version, 'superseded', at);
  Object.assign(record, { version, ...freshProgress() });
}

/** The per-version progress of a record, as it is before a version's first event. */
function freshProgress(): Pick<
  DocumentRecord,
  'chunkCount' | 'indexedChunks' | 'indexedSet' | 'failures' | 'submittedAt' | 'acceptedAt' | 'chunkedAt' | 'indexedAt'
> {
  return {
    chunkCount: null,
    indexedChunks: 0,
    indexedSet: '',
    failures: [],
    submittedAt: null,
    acceptedAt: null,
    chunkedAt: null,
    indexedAt: null,
  };
}

function applyCurrent(record: DocumentRecord, event: DocumentEvent, effects: RegistryEffect[]): DocumentRecord {
  record.updatedAt = Math.max(record.updatedAt, event.at);
  record.submittedAt ??= event.submittedAt;
  takeFacts(record, event);
  if (event.chunkCount !== null && event.type !== 'SUPERSEDED') record.chunkCount = event.chunkCount;
  switch (event.type) {
    case 'ACCEPTED':
      record.acceptedAt ??= event.at;
      break;
    case 'CHUNKED':
      record.chunkedAt ??= event.at;
      break;
    case 'INDEXED':
      markIndexed(record, event, effects);
      break;
    case 'FAILED':
      if (record.failures.length < MAX_FAILURES) {
        record.failures.push({ stage: event.stage ?? 'unknown', reason: event.reason ?? 'unknown', at: event.at });
      }
      break;
    case 'SUPERSEDED':
      // The indexer saw a newer version than this one in the registry; nothing to count here.
      break;
    case 'DELETED':
      break;
  }
  return record;
}

function markIndexed(record: DocumentRecord, event: DocumentEvent, effects: RegistryEffect[]): void {
  const set = ChunkBitSet.decode(record.indexedSet);
  for (const index of event.chunkIndices) set.add(index);
  record.indexedSet = set.encode();
  record.indexedChunks = set.count(record.chunkCount ?? Number.MAX_SAFE_INTEGER);
  const complete = record.chunkCount !== null && record.indexedChunks >= record.chunkCount;
  if (!complete || record.searchableVersion === record.version) return;
  record.indexedAt = event.at;
  // The new version is searchable (its writes waited for a refresh): now the older ones may go.
  if (record.firstVersion < record.version)
    effects.push({ kind: 'purgeOlderVersions', documentId: record.documentId, below: record.version });
  record.searchableVersion = record.version;
  record.searchableChunkCount = record.chunkCount;
}

/** An event of a version that is older than the current one, or deleted: it never changes the current state. */
function applyStale(record: DocumentRecord, event: DocumentEvent, effects: RegistryEffect[], deleted: boolean): DocumentRecord {
  note(record, event.version, deleted ? 'deleted' : 'superseded', event.at);
  const wroteChunks = event.type === 'INDEXED' || event.type === 'SUPERSEDED';
  if (wroteChunks && event.chunkIndices.length > 0 && (deleted || event.version !== record.searchableVersion)) {
    effects.push({ kind: 'deleteChunks', documentId: record.documentId, version: event.version, chunkIndices: [...event.chunkIndices] });
  }
  return record;
}

function applyDelete(record: DocumentRecord | undefined, event: DocumentEvent, effects: RegistryEffect[]): DocumentRecord {
  const known = record !== undefined;
  const target = record ?? emptyRecord(event);
  const upTo = Math.max(event.version, target.version, target.deletedVersion ?? 0);
  if (target.version <= upTo) note(target, target.version, 'deleted', event.at);
  target.deletedVersion = upTo;
  target.deletedAt = event.at;
  target.updatedAt = Math.max(target.updatedAt, event.at);
  if (target.searchableVersion !== null && target.searchableVersion <= upTo) {
    target.searchableVersion = null;
    target.searchableChunkCount = null;
  }
  effects.push({ kind: 'purgeDeleted', documentId: target.documentId, upTo: known ? upTo : null });
  return target;
}

function takeFacts(record: DocumentRecord, event: DocumentEvent): void {
  if (event.title !== null) record.title = event.title;
  if (event.source !== null) record.source = event.source;
  if (event.contentType !== null) record.contentType = event.contentType;
  if (event.contentHash !== null) record.contentHash = event.contentHash;
  if (event.tenant !== null) record.tenant = event.tenant;
  if (Object.keys(event.metadata).length > 0) record.metadata = event.metadata;
}

function note(record: DocumentRecord, version: number, status: 'superseded' | 'deleted', at: number): void {
  const existing = record.history.find((h) => h.version === version);
  if (existing) {
    if (status === 'deleted') existing.status = 'deleted';
    return;
  }
  record.history.push({ version, status, at });
  record.history.sort((a, b) => b.version - a.version);
  record.history.length = Math.min(record.history.length, MAX_HISTORY);
}

export function statusOf(record: DocumentRecord): DocumentStatusName {
  if (record.deletedVersion !== null && record.version <= record.deletedVersion) return 'deleted';
  if (record.chunkCount !== null && record.indexedChunks >= record.chunkCount) return 'indexed';
  if (record.failures.length > 0) return 'failed';
  if (record.indexedChunks > 0) return 'indexing';
  if (record.chunkCount !== null) return 'chunked';
  return 'accepted';
}
