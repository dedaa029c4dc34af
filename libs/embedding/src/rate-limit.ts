/**
 * Client-side use of a provider's rate limits as OpenAI announces them on every response
 * (`x-ratelimit-limit|remaining|reset-requests|tokens`). Each instance keeps an estimate of the
 * two budgets (requests and tokens per period) and sends a request only when both have room, so
 * the budget is spent at the rate it refills instead of being found by 429s. Instances share the
 * budget without talking to each other: every response reports what is left after all of them,
 * and each instance re-bases its estimate on it.
 */

/** One budget as a response reports it. */
export interface BudgetReport {
  limit: number;
  remaining: number;
  /** Time until the budget is full again (OpenAI's `x-ratelimit-reset-*`). */
  resetMs: number;
}

export interface RateLimitReport {
  requests?: BudgetReport;
  tokens?: BudgetReport;
}

interface HeaderSource {
  get(name: string): string | null;
}

/** `6m0s`, `1.5s`, `120ms`, `1h2m3s`, `0s` (Go durations, as OpenAI sends them) → ms; NaN if unreadable. */
export function parseDuration(text: string): number {
  const parts = text.trim().match(/(\d+(?:\.\d+)?)(ms|h|m|s)/g);
  if (!parts || parts.join('') !== text.trim()) return Number.NaN;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };
  return parts.reduce((total, part) => {
    const [, value, suffix] = part.match(/(\d+(?:\.\d+)?)(ms|h|m|s)/) ?? [];
    return total + Number(value) * (unit[suffix ?? ''] ?? Number.NaN);
  }, 0);
}

export function readRateLimitHeaders(headers: HeaderSource): RateLimitReport {
  const budget = (kind: 'requests' | 'tokens'): BudgetReport | undefined => {
    const limit = Number(headers.get(`x-ratelimit-limit-${kind}`));
    const remaining = Number(headers.get(`x-ratelimit-remaining-${kind}`));
    const resetMs = parseDuration(headers.get(`x-ratelimit-reset-${kind}`) ?? '');
    if (!(limit > 0) || !Number.isFinite(remaining) || !Number.isFinite(resetMs)) return undefined;
    return { limit, remaining: Math.max(0, remaining), resetMs: Math.max(0, resetMs) };
  };
  return { requests: budget('requests'), tokens: budget('tokens') };
}

/** The period OpenAI's limits are stated in: per minute. Used until a response shows the refill rate. */
const DEFAULT_PERIOD_MS = 60_000;
/** Longest sleep before a waiting request looks at the budgets again. */
const RECHECK_MS = 200;
/** Fewer missing units than this say too little about the refill rate. */
const MIN_MISSING_FOR_RATE = 2;
/** After a 429 without usable headers: wait this long before the next request. */
const BLIND_BACKOFF_MS = 1_000;

/** One budget (requests or tokens): a bucket that refills continuously up to its limit. */
class Budget {
  private limit = Number.POSITIVE_INFINITY;
  private level = Number.POSITIVE_INFINITY;
  private refillPerMs = 0;
  private at = 0;
  /** Spent by this instance's requests in flight, which reports do not show yet. */
  reserved = 0;
  /** No answer yet: whether the provider announces this limit is unknown. */
  private probing = true;

  /** No answer has been seen yet. */
  get unanswered(): boolean {
    return this.probing;
  }

  get known(): boolean {
    return Number.isFinite(this.limit);
  }

  /** How long until `amount` fits while `headroom` of the limit stays free (0: now). */
  waitFor(amount: number, headroom: number, now: number): number {
    // No answer yet: one request at a time finds the limits, not a burst of 429s. A provider
    // whose answers announce no limit is not paced at all.
    if (!this.known) return this.probing && this.reserved > 0 ? RECHECK_MS : 0;
    // A request larger than the usable budget goes when the bucket is full, or it would never go.
    const needed = Math.min(amount + headroom * this.limit, this.limit) + this.reserved;
    const level = this.levelAt(now);
    if (level >= needed) return 0;
    if (this.refillPerMs <= 0) return BLIND_BACKOFF_MS;
    return Math.ceil((needed - level) / this.refillPerMs);
  }

  /** An answer without a report of this limit: the provider does not announce it. */
  unannounced(): void {
    this.probing = false;
  }

  /** Re-bases the estimate on a report; `pending` is what this instance has in flight beyond it. */
  observe(report: BudgetReport, pending: number, now: number): void {
    this.probing = false;
    this.limit = report.limit;
    // The reset time says how fast the server refills: (limit - remaining) per resetMs. Only
    // from a report with enough missing: with a few units, the rounding of `remaining` and of the
    // reset time makes the rate look faster than it is, and too fast means 429s.
    const missing = report.limit - report.remaining;
    if (missing >= Math.max(MIN_MISSING_FOR_RATE, report.limit * 0.1) && report.resetMs > 0) this.refillPerMs = missing / report.resetMs;
    else if (this.refillPerMs <= 0) this.refillPerMs = report.limit / DEFAULT_PERIOD_MS;
    this.level = report.remaining - pending;
    this.at = now;
  }

  /** A 429 on this budget without a report: empty, refilling at the known rate (or after a blind pause). */
  exhausted(now: number): void {
    this.level = 0;
    this.at = now;
    if (!this.known) {
      this.limit = 1;
      this.refillPerMs = 1 / BLIND_BACKOFF_MS;
    }
  }

  levelAt(now: number): number {
    return Math.min(this.limit, this.level + (now - this.at) * this.refillPerMs);
  }

  get knownLimit(): number | undefined {
    return this.known ? this.limit : undefined;
  }

  snapshot(now: number): { limit: number; available: number } | undefined {
    return this.known ? { limit: this.limit, available: Math.max(0, this.levelAt(now) - this.reserved) } : undefined;
  }
}

export interface Reservation {
  readonly tokens: number;
}

export interface AdaptiveRateLimiterOptions {
  /**
   * Share of each limit left unspent as a margin for the other instances' requests in flight,
   * which this instance cannot see. It costs burst room, not throughput: once the bucket is
   * empty, requests go at the refill rate either way.
   */
  headroom?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Called with the time each request waited for budget. */
  onWait?: (ms: number) => void;
}

export class AdaptiveRateLimiter {
  private readonly requests = new Budget();
  private readonly tokens = new Budget();
  private readonly headroom: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: AdaptiveRateLimiterOptions = {}) {
    this.headroom = options.headroom ?? 0.05;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Waits until one more request of `tokens` fits both budgets, then counts it as in flight. */
  async acquire(tokens: number): Promise<Reservation> {
    let waited = 0;
    for (;;) {
      const now = this.now();
      const wait = Math.max(this.requests.waitFor(1, this.headroom, now), this.tokens.waitFor(tokens, this.headroom, now));
      if (wait === 0) break;
      // Re-checked at least this often: an answer meanwhile may show a faster refill or more room.
      const nap = Math.min(wait, RECHECK_MS);
      await this.sleep(nap);
      waited += nap;
    }
    this.options.onWait?.(waited);
    this.requests.reserved += 1;
    this.tokens.reserved += tokens;
    return { tokens };
  }

  /** The response to a reserved request (any status): its budgets as reported, or a 429 without report. */
  settle(reservation: Reservation, status: number | undefined, report: RateLimitReport): void {
    this.requests.reserved -= 1;
    this.tokens.reserved -= reservation.tokens;
    const now = this.now();
    if (report.requests) this.requests.observe(report.requests, this.requests.reserved, now);
    else if (status !== undefined) this.requests.unannounced();
    if (report.tokens) this.tokens.observe(report.tokens, this.tokens.reserved, now);
    else if (status !== undefined) this.tokens.unannounced();
    if (status === 429 && !report.requests && !report.tokens) {
      this.requests.exhausted(now);
      this.tokens.exhausted(now);
    }
  }

  /** No answer has been seen yet, so neither budget is known. */
  unanswered(): boolean {
    return this.requests.unanswered && this.tokens.unanswered;
  }

  /**
   * Tokens one request should carry at most: a twentieth of the token limit (3 s of a per-minute
   * budget), so requests go as the budget refills instead of in bursts that wait for a large
   * share of it; undefined while the limit is unknown.
   */
  maxTokensPerRequest(): number | undefined {
    const limit = this.tokens.knownLimit;
    return limit === undefined ? undefined : Math.max(1, Math.floor(limit / 20));
  }

  /** What this instance believes is left (for metrics); undefined until a response reported limits. */
  snapshot(): { requests?: { limit: number; available: number }; tokens?: { limit: number; available: number } } {
    const now = this.now();
    return { requests: this.requests.snapshot(now), tokens: this.tokens.snapshot(now) };
  }
}
