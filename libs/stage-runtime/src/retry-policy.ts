import type { ErrorKind } from '@rag/common';
import type { RetryTier } from '@rag/contracts';

/** Per-stage retry settings (see stageConfigSchema for defaults). */
export interface RetryPolicy {
  /** Attempts on the retry tiers before dead-lettering (0 = dead-letter at once). */
  maxAttempts: number;
  /** Transient failures keep retrying at least this long after the first failure (rides out outages). */
  minWindowMs: number;
}

/**
 * Where a stage's failed records can go, as data (like Spring Kafka's DestinationTopicResolver):
 * the retry tiers, shortest delay first, and the dead-letter topic.
 */
export interface FailureDestinations {
  tiers: readonly RetryTier[];
  dlq: string;
}

/**
 * Tier of retry number `attempt` (1-based): attempt n waits in tier n, the last tier taking every
 * attempt beyond. A tier has one fixed delay, so a tier partition's due order is its log order.
 */
export function retryTierFor(attempt: number, tiers: readonly RetryTier[]): RetryTier {
  if (tiers.length === 0) throw new Error('no retry tiers configured');
  return tiers[Math.min(Math.max(attempt, 1), tiers.length) - 1];
}

export type FailureRoute =
  { destination: 'retry'; topic: string; attempt: number; notBefore: number } | { destination: 'dlq'; topic: string; attempt: number };

export interface FailureContext {
  kind: ErrorKind;
  /** Attempt that just failed: 0 for the first processing from the main topic. */
  attempt: number;
  firstFailureAt: number;
  now: number;
}

/** The one place that decides where a failed record goes next. */
export function routeFailure(ctx: FailureContext, policy: RetryPolicy, destinations: FailureDestinations): FailureRoute {
  const dlq = { destination: 'dlq' as const, topic: destinations.dlq, attempt: ctx.attempt };
  if (ctx.kind === 'permanent') return dlq;
  const next = ctx.attempt + 1;
  const attemptsLeft = next <= policy.maxAttempts;
  const windowLeft = policy.maxAttempts > 0 && ctx.now - ctx.firstFailureAt < policy.minWindowMs;
  if (!attemptsLeft && !windowLeft) return dlq;
  const tier = retryTierFor(next, destinations.tiers);
  return { destination: 'retry', topic: tier.topic, attempt: next, notBefore: ctx.now + tier.delayMs };
}
