import { AdaptiveRateLimiter, parseDuration, readRateLimitHeaders, type RateLimitReport } from './rate-limit';

describe('parseDuration (OpenAI x-ratelimit-reset-* values)', () => {
  it.each([
    ['1s', 1_000],
    ['6m0s', 360_000],
    ['1.5s', 1_500],
    ['120ms', 120],
    ['1h2m3s', 3_723_000],
    ['0s', 0],
  ])('%s → %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', 'soon', '5', '1x'])('%j is unreadable', (text) => expect(parseDuration(text)).toBeNaN());
});

describe('readRateLimitHeaders', () => {
  it('reads both budgets, and leaves out one whose headers are missing or unreadable', () => {
    const headers = new Headers({
      'x-ratelimit-limit-requests': '3000',
      'x-ratelimit-remaining-requests': '2999',
      'x-ratelimit-reset-requests': '20ms',
      'x-ratelimit-limit-tokens': '1000000',
      'x-ratelimit-remaining-tokens': '999000',
    });
    expect(readRateLimitHeaders(headers)).toEqual({ requests: { limit: 3000, remaining: 2999, resetMs: 20 }, tokens: undefined });
  });
});

/** A limiter on a fake clock: sleeping advances the clock, so waits are exact and instant. */
function limiterAt(start = 0, headroom = 0) {
  const clock = { now: start, waits: [] as number[] };
  // Sleeps are cut into re-checks of at most 200 ms; the waits reported are their sums.
  const limiter = new AdaptiveRateLimiter({
    headroom,
    now: () => clock.now,
    sleep: async (ms) => {
      clock.now += ms;
    },
    onWait: (ms) => clock.waits.push(ms),
  });
  return { clock, limiter };
}

const report = (requests: [number, number, number], tokens: [number, number, number]): RateLimitReport => ({
  requests: { limit: requests[0], remaining: requests[1], resetMs: requests[2] },
  tokens: { limit: tokens[0], remaining: tokens[1], resetMs: tokens[2] },
});

describe('AdaptiveRateLimiter', () => {
  it('takes the refill rate from a report only when enough of the budget is missing (rounding)', async () => {
    const { clock, limiter } = limiterAt();
    const first = await limiter.acquire(1);
    // 1 of 100 missing: "full in 10 ms" would mean 0.1/ms. Not trusted: the per-minute default.
    limiter.settle(first, 200, report([100, 99, 10], [1_000_000, 1_000_000, 0]));
    for (let i = 0; i < 99; i++) await limiter.acquire(1);
    await limiter.acquire(1);
    expect(clock.waits.slice(1, 100).every((ms) => ms === 0)).toBe(true);
    expect(clock.waits[100]).toBe(600);
  });

  it('while nothing is known about the limits, sends one request at a time to find them', async () => {
    const naps: number[] = [];
    let wake: (() => void) | undefined;
    const limiter = new AdaptiveRateLimiter({
      now: () => 0,
      sleep: (ms) => {
        naps.push(ms);
        return new Promise<void>((resolve) => (wake = resolve));
      },
    });
    const first = await limiter.acquire(1_000_000);
    const second = limiter.acquire(1_000_000);
    await Promise.resolve();
    expect(naps).toEqual([200]);
    limiter.settle(first, 200, {});
    wake?.();
    await second;
    expect(naps).toEqual([200]);
    expect(limiter.maxTokensPerRequest()).toBeUndefined();
  });

  it('does not pace at all once an answer shows the provider announces no limits', async () => {
    const { clock, limiter } = limiterAt();
    limiter.settle(await limiter.acquire(10), 200, {});
    await limiter.acquire(10);
    await limiter.acquire(10);
    await limiter.acquire(10);
    expect(clock.waits).toEqual([0, 0, 0, 0]);
  });

  it('suggests requests of a twentieth of the token limit once it is known', async () => {
    const { limiter } = limiterAt();
    limiter.settle(await limiter.acquire(10), 200, report([3_000, 2_999, 20], [1_000_000, 999_990, 1]));
    expect(limiter.maxTokensPerRequest()).toBe(50_000);
  });

  it('waits for the token budget to refill at the rate the reset header implies', async () => {
    const { clock, limiter } = limiterAt();
    const first = await limiter.acquire(900);
    // 1,000 tokens per 10 s: 900 spent, full again in 9 s → 0.1 token/ms.
    limiter.settle(first, 200, report([100, 99, 100], [1_000, 100, 9_000]));
    await limiter.acquire(500);
    expect(clock.waits).toEqual([0, 4_000]);
  });

  it('counts its own requests in flight against the budget until their answers arrive', async () => {
    const { clock, limiter } = limiterAt();
    const first = await limiter.acquire(10);
    limiter.settle(first, 200, report([10, 8, 200], [1_000_000, 999_990, 10]));
    // 8 requests left, refilling 1 per 100 ms: 8 go at once, the 9th waits for a refill.
    for (let i = 0; i < 8; i++) await limiter.acquire(10);
    expect(clock.waits.slice(1)).toEqual(Array(8).fill(0));
    await limiter.acquire(10);
    expect(clock.waits[9]).toBe(100);
  });

  it('re-bases on every answer, so what other instances spent is seen', async () => {
    const { clock, limiter } = limiterAt();
    const mine = await limiter.acquire(100);
    // Another instance spent most of the budget: 50 of 1,000 tokens left, refill 1 token/ms.
    limiter.settle(mine, 200, report([100, 90, 6_000], [1_000, 50, 950]));
    await limiter.acquire(300);
    expect(clock.waits[1]).toBe(250);
  });

  it('keeps a headroom of each limit free, and lets a request larger than the usable budget go when the bucket is full', async () => {
    const { clock, limiter } = limiterAt(0, 0.1);
    const first = await limiter.acquire(0);
    limiter.settle(first, 200, report([100, 100, 0], [1_000, 1_000, 0]));
    // 950 + 10 % headroom (100) > 1,000: capped at the limit, so it goes with a full bucket.
    await limiter.acquire(950);
    expect(clock.waits[1]).toBe(0);
  });

  it('after a 429 without rate headers, pauses before the next request', async () => {
    const { clock, limiter } = limiterAt();
    const first = await limiter.acquire(10);
    limiter.settle(first, 429, {});
    await limiter.acquire(10);
    expect(clock.waits[1]).toBeGreaterThanOrEqual(1_000);
  });

  it('after a 429 with headers, waits until the reported budget has room', async () => {
    const { clock, limiter } = limiterAt();
    const first = await limiter.acquire(600);
    limiter.settle(first, 429, report([60, 40, 20_000], [1_000, 200, 8_000]));
    // 800 missing over 8 s → 0.1 token/ms; 600 needs 400 more → 4 s.
    await limiter.acquire(600);
    expect(clock.waits[1]).toBe(4_000);
  });
});
