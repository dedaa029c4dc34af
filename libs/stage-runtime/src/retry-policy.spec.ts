import { topicNames } from '@rag/contracts';
import { retryTierFor, routeFailure, type FailureDestinations, type FailureRoute, type RetryPolicy } from './retry-policy';

const policy: RetryPolicy = { maxAttempts: 3, minWindowMs: 0 };
/** The stage defaults (stageConfigSchema): RETRY_MAX_ATTEMPTS, RETRY_MIN_WINDOW_MS, and RETRY_TIERS_MS 5 s, 30 s, 5 min. */
const defaults: RetryPolicy = { maxAttempts: 5, minWindowMs: 300_000 };
const topics = topicNames('ingest');
const destinations: FailureDestinations = { tiers: topics.retryTiers('embedder'), dlq: topics.dlq('embedder') };

describe('retry tiers', () => {
  it('are named after their delay, shortest first, whatever order they were configured in', () => {
    expect(topicNames('ingest', [300_000, 5_000, 30_000]).retryTiers('chunker')).toEqual([
      { delayMs: 5_000, topic: 'ingest.chunker.retry.5s' },
      { delayMs: 30_000, topic: 'ingest.chunker.retry.30s' },
      { delayMs: 300_000, topic: 'ingest.chunker.retry.5m' },
    ]);
    expect(
      topicNames('t', [1_500, 3_600_000])
        .retryTiers('indexer')
        .map((t) => t.topic),
    ).toEqual(['t.indexer.retry.1500ms', 't.indexer.retry.1h']);
  });

  it('are all provisioned, beside the main topics and the dead-letter topics', () => {
    const all = topics.all();
    for (const stage of ['chunker', 'embedder', 'indexer'] as const) {
      for (const tier of topics.retryTiers(stage)) expect(all).toContain(tier.topic);
      expect(all).toContain(topics.dlq(stage));
    }
    expect(all).toHaveLength(4 + 3 * 4);
  });

  it('take attempt n into tier n, and every later attempt into the last tier', () => {
    const tiers = destinations.tiers;
    expect([1, 2, 3, 4, 10, 1_000].map((attempt) => retryTierFor(attempt, tiers).delayMs)).toEqual([
      5_000, 30_000, 300_000, 300_000, 300_000, 300_000,
    ]);
  });
});

describe('routeFailure', () => {
  const now = 1_700_000_000_000;

  it('dead-letters a permanent failure at once, even on the first attempt with attempts and window left', () => {
    const route = routeFailure({ kind: 'permanent', attempt: 0, firstFailureAt: now, now }, defaults, destinations);
    expect(route).toEqual({ destination: 'dlq', topic: 'ingest.embedder.dlq', attempt: 0 });
  });

  it("sends a transient failure to its next attempt's tier, due exactly that tier's delay from now", () => {
    expect(routeFailure({ kind: 'transient', attempt: 0, firstFailureAt: now, now }, policy, destinations)).toEqual({
      destination: 'retry',
      topic: 'ingest.embedder.retry.5s',
      attempt: 1,
      notBefore: now + 5_000,
    });
    expect(routeFailure({ kind: 'transient', attempt: 1, firstFailureAt: now - 5_000, now }, policy, destinations)).toEqual({
      destination: 'retry',
      topic: 'ingest.embedder.retry.30s',
      attempt: 2,
      notBefore: now + 30_000,
    });
  });

  it('dead-letters a transient failure once attempts are used up and the window has passed', () => {
    const route = routeFailure({ kind: 'transient', attempt: 3, firstFailureAt: now - 10_000, now }, policy, destinations);
    expect(route).toEqual({ destination: 'dlq', topic: 'ingest.embedder.dlq', attempt: 3 });
  });

  it('keeps retrying past maxAttempts, in the last tier, while still inside the minimum window', () => {
    const windowed: RetryPolicy = { ...policy, minWindowMs: 60_000 };
    const inside = routeFailure({ kind: 'transient', attempt: 7, firstFailureAt: now - 59_999, now }, windowed, destinations);
    expect(inside).toEqual({ destination: 'retry', topic: 'ingest.embedder.retry.5m', attempt: 8, notBefore: now + 300_000 });

    const atEdge = routeFailure({ kind: 'transient', attempt: 7, firstFailureAt: now - 60_000, now }, windowed, destinations);
    expect(atEdge).toEqual({ destination: 'dlq', topic: 'ingest.embedder.dlq', attempt: 7 });
  });

  it('keeps retrying within maxAttempts even after the window has passed', () => {
    const windowed: RetryPolicy = { ...policy, minWindowMs: 1_000 };
    const route = routeFailure({ kind: 'transient', attempt: 2, firstFailureAt: now - 3_600_000, now }, windowed, destinations);
    expect(route).toMatchObject({ destination: 'retry', attempt: 3 });
  });

  it('dead-letters at once when maxAttempts is 0, whatever the window', () => {
    const none: RetryPolicy = { ...defaults, maxAttempts: 0 };
    expect(routeFailure({ kind: 'transient', attempt: 0, firstFailureAt: now, now }, none, destinations)).toEqual({
      destination: 'dlq',
      topic: 'ingest.embedder.dlq',
      attempt: 0,
    });
  });

  describe('with the defaults (5 attempts, tiers 5 s / 30 s / 5 min, 300 s window)', () => {
    /** A record that keeps failing transiently, each retry processed `processingMs` after it is due. */
    function failForever(processingMs: number): { deadLetteredAfterMs: number; routes: FailureRoute[] } {
      const firstFailureAt = now;
      let at = firstFailureAt;
      let attempt = 0;
      const routes: FailureRoute[] = [];
      for (;;) {
        const route = routeFailure({ kind: 'transient', attempt, firstFailureAt, now: at }, defaults, destinations);
        routes.push(route);
        if (route.destination === 'dlq') return { deadLetteredAfterMs: at - firstFailureAt, routes };
        attempt = route.attempt;
        at = route.notBefore + processingMs;
      }
    }

    it('rides out a 5-minute outage: the first dead letter comes after the window, 5 s + 30 s + 3 × 5 min in', () => {
      const { deadLetteredAfterMs, routes } = failForever(10);
      expect(deadLetteredAfterMs).toBeGreaterThanOrEqual(defaults.minWindowMs);
      expect(deadLetteredAfterMs).toBe(5_000 + 30_000 + 3 * 300_000 + 5 * 10);
      expect(routes.map((r) => r.topic)).toEqual([
        'ingest.embedder.retry.5s',
        'ingest.embedder.retry.30s',
        'ingest.embedder.retry.5m',
        'ingest.embedder.retry.5m',
        'ingest.embedder.retry.5m',
        'ingest.embedder.dlq',
      ]);
    });

    it('never schedules a retry sooner than the previous one waited (a tier never jumps ahead)', () => {
      const delays = failForever(0)
        .routes.filter((r): r is Extract<FailureRoute, { destination: 'retry' }> => r.destination === 'retry')
        .map((r) => r.notBefore);
      const waits = delays.map((d, i) => d - (i === 0 ? now : delays[i - 1]));
      expect(waits).toEqual([...waits].sort((a, b) => a - b));
    });
  });
});
