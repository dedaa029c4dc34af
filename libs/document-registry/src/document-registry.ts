import type { Client } from '@elastic/elasticsearch';
import type { QueryDslQueryContainer, SortResults } from '@elastic/elasticsearch/lib/api/types';
import { DEFAULT_TENANT, type DocumentEvent } from '@rag/contracts';
import type { DocumentRecord, DocumentStatusName } from './document-record';
import { foldEvents } from './fold';

/** A record as read, with what optimistic concurrency control needs to write it back. */
export interface StoredRecord {
  record: DocumentRecord;
  seqNo: number;
  primaryTerm: number;
}

export interface ListQuery {
  status?: DocumentStatusName;
  source?: string;
  /** Only this tenant's documents. */
  tenant?: string;
  limit: number;
  cursor?: string;
}

export interface ListPage {
  documents: DocumentRecord[];
  /** Opaque; pass as `cursor` for the next page. Null on the last page. */
  nextCursor: string | null;
}

/** A write lost a race (another writer changed the record since it was read). */
export class RegistryConflictError extends Error {
  override readonly name = 'RegistryConflictError';
}

const MAX_ACCEPT_ATTEMPTS = 5;

/**
 * Reads and writes of the document registry (an Elasticsearch index behind its alias). Reads by
 * id are real-time (GET/mget), lists are searches. Every write is conditional on the sequence
 * number read (or is a create), so two writers never silently overwrite each other.
 */
export class DocumentRegistry {
  constructor(
    private readonly es: Client,
    readonly alias: string,
  ) {}

  async get(documentId: string): Promise<StoredRecord | undefined> {
    return (await this.getMany([documentId])).get(documentId);
  }

  async getMany(documentIds: string[]): Promise<Map<string, StoredRecord>> {
    const found = new Map<string, StoredRecord>();
    if (documentIds.length === 0) return found;
    const response = await this.es.mget<DocumentRecord>({ index: this.alias, ids: [...new Set(documentIds)] });
    for (const doc of response.docs) {
      if (!('found' in doc) || !doc.found || !doc._source) continue;
      found.set(doc._id, { record: doc._source, seqNo: doc._seq_no!, primaryTerm: doc._primary_term! });
    }
    return found;
  }

  /** Newest documents first (by first appearance), stable under concurrent inserts: a cursor is (createdAt, documentId). */
  async list(query: ListQuery): Promise<ListPage> {
    const filter: QueryDslQueryContainer[] = [];
    if (query.status) filter.push({ term: { status: query.status } });
    if (query.source) filter.push({ term: { source: query.source } });
    if (query.tenant) filter.push(tenantFilter(query.tenant));
    const response = await this.es.search<DocumentRecord>({
      index: this.alias,
      size: query.limit,
      query: { bool: { filter } },
      sort: [{ createdAt: 'desc' }, { documentId: 'asc' }],
      ...(query.cursor ? { search_after: decodeCursor(query.cursor) } : {}),
      track_total_hits: false,
    });
    const hits = response.hits.hits;
    const last = hits[hits.length - 1];
    return {
      documents: hits.map((h) => h._source!),
      nextCursor: hits.length === query.limit && last?.sort ? encodeCursor(last.sort) : null,
    };
  }

  /**
   * Writes records read (or found absent) earlier. Returns the ids whose write lost a race; the
   * caller re-reads and re-folds those.
   */
  async write(records: { record: DocumentRecord; read: StoredRecord | undefined }[]): Promise<Set<string>> {
    const conflicts = new Set<string>();
    if (records.length === 0) return conflicts;
    const operations = records.flatMap(({ record, read }) => [
      read
        ? { index: { _index: this.alias, _id: record.documentId, if_seq_no: read.seqNo, if_primary_term: read.primaryTerm } }
        : { create: { _index: this.alias, _id: record.documentId } },
      record,
    ]);
    const response = await this.es.bulk({ operations, refresh: false });
    response.items.forEach((item, i) => {
      const op = item.index ?? item.create;
      if (!op?.error) return;
      if (op.status === 409) conflicts.add(records[i].record.documentId);
      else
        throw new Error(
          `registry write of ${records[i].record.documentId} failed: ${op.status} ${op.error.type}: ${op.error.reason ?? ''}`,
        );
    });
    return conflicts;
  }

  /**
   * The gateway records its own acceptance so a status read right after `202` knows the version.
   * Folded like any event (the projector's later copy of it changes nothing); never moves a
   * document back to an older version.
   */
  async recordAcceptance(accepted: DocumentEvent): Promise<DocumentRecord> {
    for (let attempt = 0; attempt < MAX_ACCEPT_ATTEMPTS; attempt++) {
      const read = await this.get(accepted.documentId);
      if (read && read.record.version >= accepted.version) return read.record;
      const { record } = foldEvents(read?.record, [{ event: accepted, partition: null, offset: null }]);
      const conflicts = await this.write([{ record: record!, read }]);
      if (!conflicts.has(accepted.documentId)) return record!;
    }
    throw new RegistryConflictError(`registry record of ${accepted.documentId} kept changing; acceptance not recorded`);
  }
}

function encodeCursor(sort: SortResults): string {
  return Buffer.from(JSON.stringify(sort)).toString('base64url');
}

export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

function decodeCursor(cursor: string): SortResults {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'number' && typeof parsed[1] === 'string') return parsed;
  } catch {
    // falls through
  }
  throw new InvalidCursorError('cursor is not one this API returned');
}

/**
 * Documents of one tenant. Records and chunks written before tenants existed have no `tenant`
 * field: they belong to the default tenant.
 */
export function tenantFilter(tenant: string): QueryDslQueryContainer {
  if (tenant !== DEFAULT_TENANT) return { term: { tenant } };
  return { bool: { should: [{ term: { tenant } }, { bool: { must_not: { exists: { field: 'tenant' } } } }], minimum_should_match: 1 } };
}
