import { Headers } from '@rag/contracts';
import type { ErrorKind } from '@rag/common';

const MAX_ERROR_MESSAGE = 1_000;

export interface SourcePosition {
  topic: string;
  partition: number;
  offset: string;
  headers: Record<string, string>;
}

/** Where the record first came from: its own position, or the one carried by a retry record. */
export function originOf(source: SourcePosition): { topic: string; partition: string; offset: string } {
  return {
    topic: source.headers[Headers.originalTopic] ?? source.topic,
    partition: source.headers[Headers.originalPartition] ?? String(source.partition),
    offset: source.headers[Headers.originalOffset] ?? source.offset,
  };
}

export function attemptOf(headers: Record<string, string>): number {
  const n = Number.parseInt(headers[Headers.retryAttempt] ?? '0', 10);
  return Number.isFinite(n) && n >= 0 ? n : 0;
}

export function firstFailureAtOf(headers: Record<string, string>, fallback: number): number {
  const n = Number.parseInt(headers[Headers.firstFailureAt] ?? '', 10);
  return Number.isFinite(n) ? n : fallback;
}

/**
 * Headers of a retry or dead-letter record: the source record's own headers are kept,
 * the x-* failure headers are (re)written. All values are strings.
 */
export function failureHeaders(args: {
  source: SourcePosition;
  stage: string;
  attempt: number;
  notBefore?: number;
  firstFailureAt: number;
  kind: ErrorKind;
  /** Class name of the error (errorClassOf). */
  errorClass: string;
  message: string;
}): Record<string, string> {
  const origin = originOf(args.source);
  // A dead-lettered retry record must not keep its last, now meaningless, due time.
  const { [Headers.retryNotBefore]: _staleNotBefore, ...kept } = args.source.headers;
  return {
    ...kept,
    [Headers.retryAttempt]: String(args.attempt),
    ...(args.notBefore !== undefined ? { [Headers.retryNotBefore]: String(args.notBefore) } : {}),
    [Headers.originalTopic]: origin.topic,
    [Headers.originalPartition]: origin.partition,
    [Headers.originalOffset]: origin.offset,
    [Headers.firstFailureAt]: String(args.firstFailureAt),
    [Headers.errorKind]: args.kind,
    [Headers.errorClass]: args.errorClass,
    [Headers.errorMessage]: args.message.slice(0, MAX_ERROR_MESSAGE),
    [Headers.stage]: args.stage,
  };
}

/** `PermanentError`, `RecordTooLargeError`, `UndecodableRecordError`…: what an operator greps a DLQ for. */
export function errorClassOf(error: unknown): string {
  if (error instanceof Error) return error.constructor.name !== 'Error' ? error.constructor.name : error.name;
  return typeof error;
}

export function notBeforeOf(headers: Record<string, string>): number {
  const n = Number.parseInt(headers[Headers.retryNotBefore] ?? '0', 10);
  return Number.isFinite(n) ? n : 0;
}

export function headersToStrings(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined || value === null) continue;
    const first = Array.isArray(value) ? value[0] : value;
    out[name] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  return out;
}
