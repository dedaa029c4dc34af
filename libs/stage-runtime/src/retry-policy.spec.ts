import { nextRetryDelay, routeFailure, type FailureRoute, type RetryPolicy } from './retry-policy';

const policy: RetryPolicy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000, minWindowMs: 0 };
/** The stage defaults (stageConfigSchema): RETRY_MAX_ATTEMPTS, RETRY_BASE_DELAY_MS, RETRY_MAX_DELAY_MS, RETRY_MIN_WINDOW_MS. */
const defaults: RetryPolicy = { maxAttempts: 10, baseDelayMs: 1_000, maxDelayMs: 60_000, minWindowMs: 300_000 };

const always = (value: number) => () => value;

/** Small seeded PRNG (mulberry32) so the property check is reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('nextRetryDelay', () => {
  it('is 0 when the random draw is 0', () => {
    for (let attempt = 1; attempt <= 12; attempt++) expect(nextRetryDelay(attempt, defaults, always(0))).toBe(0);
  });

  it('doubles its ceiling per attempt: a draw just under 1 lands just under base * 2^(attempt-1)', () => {
    const ceilings = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000];
    ceilings.forEach((ceiling, i) => {
      const delay = nextRetryDelay(i + 1, defaults, always(0.999));
      expect(delay).toBeLessThan(ceiling);
      expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling * 0.999));
    });
  });

  it('never exceeds the cap, however many attempts', () => {
    for (const attempt of [7, 8, 20, 64, 1_000]) {
      const delay = nextRetryDelay(attempt, defaults, always(0.999));
      expect(delay).toBeLessThan(defaults.maxDelayMs);
      expect(delay).toBeGreaterThanOrEqual(Math.floor(defaults.maxDelayMs * 0.999));
    }
  });

  it('scales the draw linearly inside [0, ceiling) (full jitter) and returns whole milliseconds', () => {
    expect(nextRetryDelay(3, defaults, always(0.5))).toBe(2_000);
    expect(nextRetryDelay(3, defaults, always(0.25))).toBe(1_000);
    expect(nextRetryDelay(1, policy, always(0.123456))).toBe(12);
  });

  it('stays inside [0, ceiling) for many real random draws', () => {
    const random = seeded(42);
    const outOfRange: string[] = [];
    for (let i = 0; i < 5_000; i++) {
      const attempt = 1 + (i % 15);
      const ceiling = Math.min(defaults.maxDelayMs, defaults.baseDelayMs * 2 ** (attempt - 1));
      const delay = nextRetryDelay(attempt, defaults, random);
      if (!Number.isInteger(delay) || delay < 0 || delay >= ceiling) outOfRange.push(`attempt ${attempt}: ${delay}`);
    }
    expect(outOfRange).toEqual([]);
  });
});

describe('routeFailure', () => {
  const now = 1_700_000_000_000;

  it('dead-letters a permanent failure at once, even on the first attempt with attempts and window left', () => {
    const route = routeFailure({ kind: 'permanent', attempt: 0, firstFailureAt: now, now }, { ...defaults }, always(0.5));
    expect(route).toEqual({ destination: 'dlq', attempt: 0 });
  });

  it('retries a transient failure with the next attempt number, not before now + its delay', () => {
    const route = routeFailure({ kind: 'transient', attempt: 0, firstFailureAt: now, now }, policy, always(0.5));
    // attempt 1: ceiling min(1000, 100 * 2^0) = 100, half of it = 50
    expect(route).toEqual({ destination: 'retry', attempt: 1, notBefore: now + 50 });

    const later = routeFailure({ kind: 'transient', attempt: 2, firstFailureAt: now - 5_000, now }, policy, always(0.5));
    // attempt 3: ceiling min(1000, 100 * 2^2) = 400, half of it = 200
    expect(later).toEqual({ destination: 'retry', attempt: 3, notBefore: now + 200 });
  });

  it('dead-letters a transient failure once attempts are used up and the window has passed', () => {
    const route = routeFailure({ kind: 'transient', attempt: 3, firstFailureAt: now - 10_000, now }, policy, always(0.5));
    expect(route).toEqual({ destination: 'dlq', attempt: 3 });
  });

  it('keeps retrying past maxAttempts while still inside the minimum window', () => {
    const windowed: RetryPolicy = { ...policy, minWindowMs: 60_000 };
    const inside = routeFailure({ kind: 'transient', attempt: 7, firstFailureAt: now - 59_999, now }, windowed, always(0.5));
    expect(inside).toEqual({ destination: 'retry', attempt: 8, notBefore: now + 500 });

    const atEdge = routeFailure({ kind: 'transient', attempt: 7, firstFailureAt: now - 60_000, now }, windowed, always(0.5));
    expect(atEdge).toEqual({ destination: 'dlq', attempt: 7 });
  });

  it('keeps retrying within maxAttempts even after the window has passed', () => {
    const windowed: RetryPolicy = { ...policy, minWindowMs: 1_000 };
    const route = routeFailure({ kind: 'transient', attempt: 2, firstFailureAt: now - 3_600_000, now }, windowed, always(0));
    expect(route).toEqual({ destination: 'retry', attempt: 3, notBefore: now });
  });

  it('dead-letters at once when maxAttempts is 0, whatever the window', () => {
    const none: RetryPolicy = { ...defaults, maxAttempts: 0 };
    expect(routeFailure({ kind: 'transient', attempt: 0, firstFailureAt: now, now }, none, always(0.5))).toEqual({
      destination: 'dlq',
      attempt: 0,
    });
  });

  describe('with the defaults (10 attempts, 1 s base, 60 s cap, 300 s window)', () => {
    interface Outcome {
      deadLetteredAfterMs: number;
      attempts: number;
      retryTimes: number[];
    }

    /**
     * A record that keeps failing transiently: first failure on the main topic, then each retry
     * is processed at its notBefore plus a little processing time, until it is dead-lettered.
     */
    function failForever(random: () => number, processingMs: () => number): Outcome {
      const firstFailureAt = 1_700_000_000_000;
      let now = firstFailureAt;
      let attempt = 0;
      const retryTimes: number[] = [];
      for (let step = 0; step < 100_000; step++) {
        const route: FailureRoute = routeFailure({ kind: 'transient', attempt, firstFailureAt, now }, defaults, random);
        if (route.destination === 'dlq') return { deadLetteredAfterMs: now - firstFailureAt, attempts: attempt, retryTimes };
        // Plain checks: this loop runs tens of thousands of times.
        if (route.attempt !== attempt + 1) throw new Error(`attempt ${attempt} was followed by ${route.attempt}`);
        if (route.notBefore < now) throw new Error(`retry scheduled in the past: ${route.notBefore} < ${now}`);
        attempt = route.attempt;
        now = route.notBefore + processingMs();
        retryTimes.push(now - firstFailureAt);
      }
      throw new Error('record was never dead-lettered');
    }

    it('never dead-letters a transient failure before 300 s, so a 2-minute outage is ridden out', () => {
      const outageMs = 120_000;
      for (let seed = 1; seed <= 300; seed++) {
        const random = seeded(seed);
        const outcome = failForever(random, () => 1 + Math.floor(random() * 50));
        expect(outcome.deadLetteredAfterMs).toBeGreaterThanOrEqual(defaults.minWindowMs);
        expect(outcome.attempts).toBeGreaterThanOrEqual(defaults.maxAttempts);
        // Some retry runs after the outage has ended, and so would succeed.
        expect(outcome.retryTimes.some((t) => t >= outageMs)).toBe(true);
      }
    });

    it('holds for adversarial jitter too: always the shortest or always the longest delays', () => {
      const shortest = failForever(always(0), () => 10);
      expect(shortest.deadLetteredAfterMs).toBeGreaterThanOrEqual(defaults.minWindowMs);

      const longest = failForever(always(0.999999), () => 0);
      expect(longest.deadLetteredAfterMs).toBeGreaterThanOrEqual(defaults.minWindowMs);
      // 1+2+4+8+16+32 s, then 60 s each: the 300 s window ends during the 10th retry's wait.
      expect(longest.attempts).toBe(defaults.maxAttempts);
    });
  });
});
