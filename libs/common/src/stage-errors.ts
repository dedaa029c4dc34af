/**
 * The errors a handler throws to say how a failure must be treated. No imports: parse workers
 * load this module alone (`@rag/common/stage-errors`), not the library's barrel.
 */

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
