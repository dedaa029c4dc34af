import { createHash } from 'node:crypto';
import { tenantOf, type DocumentEvent, type DocumentEventType, type DocumentSubmitted } from './types';

/** What a lifecycle event needs besides its defaults; every producer builds events through `lifecycleEvent`. */
export type LifecycleEventInit = Pick<DocumentEvent, 'documentId' | 'version'> & Partial<Omit<DocumentEvent, 'type'>>;

/** The one builder of DocumentEvent values: defaults for every optional field, `at` = now. */
export function lifecycleEvent(type: DocumentEventType, init: LifecycleEventInit): DocumentEvent {
  return {
    type,
    at: Date.now(),
    stage: null,
    chunkCount: null,
    chunkIndices: [],
    reason: null,
    submittedAt: null,
    title: null,
    source: null,
    contentType: null,
    contentHash: null,
    tenant: null,
    metadata: {},
    ...init,
  };
}

/** sha256 (hex) of a document's bytes: the registry's content hash. */
export function contentHash(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** The fields of an event that describe the document itself (ACCEPTED, CHUNKED). */
export function documentFacts(doc: DocumentSubmitted): LifecycleEventInit {
  return {
    documentId: doc.documentId,
    version: doc.version,
    submittedAt: doc.submittedAt,
    title: doc.title,
    source: doc.source,
    contentType: doc.contentType,
    contentHash: contentHash(doc.content),
    tenant: tenantOf(doc),
    metadata: boundedMetadata(doc.metadata),
  };
}

/** Events stay small whatever a producer put into metadata: entries beyond 32 KiB are left out of the event. */
const EVENT_METADATA_MAX_BYTES = 32 * 1024;

function boundedMetadata(metadata: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  let bytes = 0;
  for (const [key, value] of Object.entries(metadata)) {
    bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
    if (bytes > EVENT_METADATA_MAX_BYTES) break;
    out[key] = value;
  }
  return out;
}
