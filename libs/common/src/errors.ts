import { RegistryUnavailableError, SchemaViolationError, UndecodableRecordError } from '@rag/contracts';
import { StageError, type ErrorKind } from './stage-errors';

export * from './stage-errors';

const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET']);

/**
 * Decides whether an error is transient or permanent. Typed errors say so themselves; HTTP-ish
 * errors are judged by status (429 and 5xx transient, other 4xx permanent); decoding errors are
 * permanent; anything unknown is treated as transient, because retrying a bug costs a little
 * time while dead-lettering a hiccup loses a document from the index until someone replays it.
 */
export function classifyError(err: unknown): ErrorKind {
  if (err instanceof StageError) return err.kind;
  if (err instanceof UndecodableRecordError) return 'permanent';
  if (err instanceof RegistryUnavailableError) return 'transient';
  if (err instanceof SchemaViolationError) return 'permanent';
  const e = err as { status?: unknown; statusCode?: unknown; code?: unknown; meta?: { statusCode?: unknown } };
  const status = [e?.status, e?.statusCode, e?.meta?.statusCode].find((s): s is number => typeof s === 'number');
  if (status !== undefined)
    return status === 429 || status >= 500 || status === 408 ? 'transient' : status >= 400 ? 'permanent' : 'transient';
  if (typeof e?.code === 'string' && TRANSIENT_CODES.has(e.code)) return 'transient';
  return 'transient';
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
