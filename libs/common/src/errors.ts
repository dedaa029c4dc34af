import { RegistryUnavailableError, SchemaViolationError, UndecodableRecordError } from '@rag/contracts';

export type ErrorKind = 'transient' | 'permanent';

/** Base of the errors a handler throws to say how a failure must be treated. */
export abstract class StageError extends Error {
  abstract readonly kind: ErrorKind;
  get retriable(): boolean {
    return this.kind === 'transient';
  }
}

/** Worth retrying later: timeouts, 429, 5xx, a dependency that is down. */
export class TransientError extends StageError {
  override readonly name = 'TransientError';
  readonly kind = 'transient' as const;
}

/** Retrying cannot help: bad content, schema violation, 4xx other than 429. Goes straight to the DLQ. */
export class PermanentError extends StageError {
  override readonly name = 'PermanentError';
  readonly kind = 'permanent' as const;
}

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
