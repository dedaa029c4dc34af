/**
 * Kafka header names. Values are UTF-8 strings. Retry and dead-letter records carry the failure
 * headers; every record a stage produces carries the position of the record it was derived from.
 */
export const Headers = {
  sourceTopic: 'x-source-topic',
  sourcePartition: 'x-source-partition',
  sourceOffset: 'x-source-offset',
  retryAttempt: 'x-retry-attempt',
  retryNotBefore: 'x-retry-not-before',
  originalTopic: 'x-original-topic',
  originalPartition: 'x-original-partition',
  originalOffset: 'x-original-offset',
  firstFailureAt: 'x-first-failure-at',
  errorKind: 'x-error-kind',
  /** Class name of the error, e.g. PermanentError, RecordTooLargeError, UndecodableRecordError. */
  errorClass: 'x-error-class',
  errorMessage: 'x-error-message',
  stage: 'x-stage',
  replayedAt: 'x-replayed-at',
  /** On a tombstone: the newest version it deletes (optional; the registry's current version otherwise). */
  documentVersion: 'x-document-version',
} as const;

export type HeaderName = (typeof Headers)[keyof typeof Headers];
