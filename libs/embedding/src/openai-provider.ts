import { AsyncLocalStorage } from 'node:async_hooks';
import { PermanentError, TransientError } from '@rag/common';
import OpenAI, { APIConnectionError, APIError, type ClientOptions } from 'openai';
import { AdaptiveRateLimiter, readRateLimitHeaders } from './rate-limit';
import type { EmbeddingProvider, EmbeddingResult } from './provider';
import type { EmbeddingMetrics } from './embedding-metrics';
import { tokenizer } from './tokenizer';

export interface OpenAIProviderOptions {
  apiKey: string;
  baseURL?: string;
  model: string;
  /** Requested output dimensions (text-embedding-3-* support shortening). */
  dimensions: number;
  maxInputsPerRequest: number;
  maxTokensPerRequest: number;
  /** Per-input limit of the model (8191 for OpenAI's embedding models). */
  maxTokensPerInput?: number;
  timeoutMs: number;
  /** SDK retries of 429/5xx/timeouts; the SDK honours Retry-After. */
  maxRetries: number;
  /** Requests in flight at once. */
  concurrency: number;
  /**
   * Pace requests by the provider's `x-ratelimit-*` headers (share of each limit kept free as
   * margin for other instances); off (the default) sends as fast as concurrency allows.
   */
  rateLimit?: { headroom: number } | false;
  metrics?: EmbeddingMetrics;
}

interface Request {
  indices: number[];
  tokens: number;
}

/** Status codes that say something is wrong with (some of) the inputs, so bisecting can isolate them. */
const INPUT_ERRORS = new Set([400, 413, 422]);

/**
 * Embeddings through the `openai` SDK, against OpenAI or any compatible endpoint.
 * Inputs are packed into as few requests as the input-count and token limits allow and sent
 * with bounded concurrency. 429/5xx are retried by the SDK (honouring Retry-After) and then
 * surface as TransientError; a 400 is bisected down to the input(s) that cause it, which fail
 * alone as PermanentError while the rest are embedded.
 */
export class OpenAIEmbeddingProvider implements EmbeddingProvider {
  readonly model: string;
  readonly dimensions: number;
  private readonly client: OpenAI;
  private readonly maxTokensPerInput: number;
  private readonly slots: Semaphore;
  /** Tokens of the request being sent, for the rate limiter in `fetch` (which sees SDK retries too). */
  private readonly requestTokens = new AsyncLocalStorage<number>();
  readonly rateLimiter?: AdaptiveRateLimiter;
  /** The one-input request that finds the budgets, while no answer has shown them. */
  private probing?: Promise<void>;

  constructor(private readonly options: OpenAIProviderOptions) {
    if (options.rateLimit) {
      this.rateLimiter = new AdaptiveRateLimiter({
        headroom: options.rateLimit.headroom,
        onWait: (ms) => options.metrics?.observeRateLimitWait('openai', ms),
      });
    }
    this.client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseURL,
      timeout: options.timeoutMs,
      maxRetries: options.maxRetries,
      fetch: this.rateLimiter ? this.pacedFetch(this.rateLimiter) : undefined,
    });
    this.model = `openai/${options.model}`;
    this.dimensions = options.dimensions;
    this.maxTokensPerInput = options.maxTokensPerInput ?? 8191;
    this.slots = new Semaphore(options.concurrency);
    // Every request is packed by token counts (headings at least are counted here).
    tokenizer.load();
  }

  readonly countsTokens = true;

  async embed(texts: string[], tokenCounts?: readonly (number | undefined)[]): Promise<EmbeddingResult[]> {
    const results = new Array<EmbeddingResult>(texts.length);
    const tokens = texts.map((t, i) => tokenCounts?.[i] ?? tokenizer.count(t));
    const admitted = this.admit(tokens, results);
    const rest = await this.probe(texts, admitted, results, tokens);
    const requests = this.pack(rest, tokens);
    // Requests of all concurrent embed() calls (one per partition slice) share the process-wide limit.
    await Promise.all(requests.map((request) => this.slots.run(() => this.send(texts, request.indices, results, tokens))));
    // Transient failures apply to whole requests: if nothing succeeded, fail the call as a whole.
    const transient = results.find((r): r is TransientError => r instanceof TransientError);
    if (transient && results.every((r) => r instanceof Error)) throw transient;
    return results;
  }

  /** Indices of the inputs the model can take; an oversized input fails at once, unsent. */
  private admit(tokens: number[], results: EmbeddingResult[]): number[] {
    return tokens.flatMap((count, i) => {
      if (count <= this.maxTokensPerInput) return [i];
      results[i] = new PermanentError(`input has ${count} tokens, above the model limit of ${this.maxTokensPerInput}`);
      return [];
    });
  }

  /**
   * Until an answer has shown the budgets, the first request carries one input: a large blind
   * request into a budget that other clients already spent is a certain 429, a small one fits in
   * what refills meanwhile, and its answer sizes and paces the rest. Concurrent calls wait for
   * the same probe. Returns the indices still to send.
   */
  private async probe(texts: string[], indices: number[], results: EmbeddingResult[], tokens: number[]): Promise<number[]> {
    if (!this.rateLimiter?.unanswered() || indices.length === 0) return indices;
    if (this.probing) {
      await this.probing;
      return indices;
    }
    const [first, ...rest] = indices;
    this.probing = this.slots.run(() => this.send(texts, [first], results, tokens));
    try {
      await this.probing;
    } finally {
      this.probing = undefined;
    }
    return rest;
  }

  /**
   * Greedy packing in input order under both limits (and, under a token rate limit, requests
   * small enough to go as the budget refills).
   */
  private pack(indices: number[], tokens: number[]): Request[] {
    const maxTokens = Math.min(this.options.maxTokensPerRequest, this.rateLimiter?.maxTokensPerRequest() ?? Number.POSITIVE_INFINITY);
    const requests: Request[] = [];
    let current: Request = { indices: [], tokens: 0 };
    for (const i of indices) {
      const count = tokens[i] ?? 0;
      const full = current.indices.length >= this.options.maxInputsPerRequest || current.tokens + count > maxTokens;
      if (full && current.indices.length > 0) {
        requests.push(current);
        current = { indices: [], tokens: 0 };
      }
      current.indices.push(i);
      current.tokens += count;
    }
    if (current.indices.length > 0) requests.push(current);
    return requests;
  }

  /**
   * Every HTTP attempt, SDK retries included, waits for room in the rate budgets and reports the
   * budgets its response announces.
   */
  private pacedFetch(limiter: AdaptiveRateLimiter): NonNullable<ClientOptions['fetch']> {
    return async (input, init) => {
      const reservation = await limiter.acquire(this.requestTokens.getStore() ?? 0);
      let response: Response | undefined;
      try {
        response = await fetch(input as Parameters<typeof fetch>[0], init);
        return response;
      } finally {
        limiter.settle(reservation, response?.status, response ? readRateLimitHeaders(response.headers) : {});
        const budgets = limiter.snapshot();
        this.options.metrics?.setRateLimitBudget('openai', budgets);
      }
    };
  }

  private async send(texts: string[], indices: number[], results: EmbeddingResult[], tokens: number[]): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      const requestTokens = indices.reduce((sum, i) => sum + (tokens[i] ?? 0), 0);
      const response = await this.requestTokens.run(requestTokens, () =>
        // No encoding_format: the SDK asks for base64 and decodes it to a Float32Array, a
        // fraction of the CPU of parsing 384+ decimal numbers per input from JSON.
        this.client.embeddings.create({
          model: this.options.model,
          input: indices.map((i) => texts[i]),
          dimensions: this.options.dimensions,
        }),
      );
      this.options.metrics?.observeRequest('openai', 'ok', indices.length, response.usage?.total_tokens ?? 0, started);
      // Typed as number[], a Float32Array at run time (the Avro encoder wants an array).
      for (const item of response.data) results[indices[item.index]] = Array.from(item.embedding as ArrayLike<number>);
      for (const i of indices) {
        if (!results[i]) results[i] = new TransientError('provider returned no embedding for this input');
        else if (!(results[i] instanceof Error) && (results[i] as number[]).length !== this.dimensions) {
          results[i] = new PermanentError(`provider returned ${(results[i] as number[]).length} dimensions, expected ${this.dimensions}`);
        }
      }
    } catch (err) {
      const status = err instanceof APIError ? err.status : undefined;
      this.options.metrics?.observeRequest('openai', status ? String(status) : 'error', indices.length, 0, started);
      if (status !== undefined && INPUT_ERRORS.has(status)) {
        if (indices.length === 1) {
          results[indices[0]] = new PermanentError(
            `embedding provider rejected the input: HTTP ${status} ${err instanceof Error ? err.message : ''}`.trim(),
          );
          return;
        }
        const half = Math.ceil(indices.length / 2);
        await this.send(texts, indices.slice(0, half), results, tokens);
        await this.send(texts, indices.slice(half), results, tokens);
        return;
      }
      const error = this.classify(err, status);
      for (const i of indices) results[i] = error;
    }
  }

  private classify(err: unknown, status: number | undefined): Error {
    const message = `embedding request failed: ${err instanceof Error ? err.message : String(err)}`;
    if (err instanceof APIConnectionError) return new TransientError(message);
    if (status === undefined || status === 429 || status === 408 || status >= 500) return new TransientError(message);
    return new PermanentError(message);
  }
}

/** At most `limit` tasks at once, the rest queued in order. */
class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    try {
      return await task();
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }
}
