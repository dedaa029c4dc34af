import type { ErrorKind } from '@rag/common';

/** Per-stage retry settings (see stageConfigSchema for defaults). */
export interface RetryPolicy {
  /** Attempts on the retry topic before dead-lettering (0 = dead-letter at once). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Transient failures keep retrying at least this long after the first failure (rides out outages). */
  minWindowMs: number;
}

/**
 * Delay before retry number `attempt` (1-based): exponential with full jitter and a cap,
 * `random(0, min(max, base * 2^(attempt-1)))`. `random` is injectable so tests can pin it.
 */
export function nextRetryDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

export type FailureRoute = { destination: 'retry'; attempt: number; notBefore: number } | { destination: 'dlq'; attempt: number };

export interface FailureContext {
  kind: ErrorKind;
  /** Attempt that just failed: 0 for the first processing from the main topic. */
  attempt: number;
  firstFailureAt: number;
  now: number;
}

/** The one place that decides where a failed record goes next. */
export function routeFailure(ctx: FailureContext, policy: RetryPolicy, random: () => number = Math.random): FailureRoute {
  if (ctx.kind === 'permanent') return { destination: 'dlq', attempt: ctx.attempt };
  const next = ctx.attempt + 1;
  const attemptsLeft = next <= policy.maxAttempts;
  const windowLeft = policy.maxAttempts > 0 && ctx.now - ctx.firstFailureAt < policy.minWindowMs;
  if (!attemptsLeft && !windowLeft) return { destination: 'dlq', attempt: ctx.attempt };
  return { destination: 'retry', attempt: next, notBefore: ctx.now + nextRetryDelay(next, policy, random) };
}
