import { classifyError, PermanentError, TransientError } from '@rag/common';
import { FakeOpenAIServer } from '@rag/testkit';
import { OpenAIEmbeddingProvider, type OpenAIProviderOptions } from './openai-provider';
import { tokenizer } from './tokenizer';

/**
 * The provider against a real local HTTP server that speaks OpenAI's embeddings API
 * (libs/testkit/src/fake-openai-server.ts), through the real `openai` SDK.
 */

const DIMENSIONS = 16;
const tokens = (text: string) => tokenizer.count(text);

let fake: FakeOpenAIServer;

beforeAll(async () => {
  fake = await FakeOpenAIServer.start();
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.reset().setLatency(0);
});

function provider(overrides: Partial<OpenAIProviderOptions> = {}): OpenAIEmbeddingProvider {
  return new OpenAIEmbeddingProvider({
    apiKey: 'sk-test',
    baseURL: fake.baseURL,
    model: 'text-embedding-3-small',
    dimensions: DIMENSIONS,
    maxInputsPerRequest: 4,
    maxTokensPerRequest: 10_000,
    timeoutMs: 5_000,
    maxRetries: 2,
    concurrency: 1,
    ...overrides,
  });
}

const texts = (n: number, prefix = 'chunk') => Array.from({ length: n }, (_, i) => `${prefix} ${i}: notes about topic number ${i}.`);

/** The server's vector for `text` as it arrives: base64 float32, OpenAI's default encoding. */
const served = (text: string) => Array.from(Float32Array.from(fake.embeddingFor(text, DIMENSIONS)));

function expectVectors(results: unknown[], inputs: string[]): void {
  expect(results).toHaveLength(inputs.length);
  results.forEach((result, i) => expect(result).toEqual(served(inputs[i])));
}

describe('OpenAIEmbeddingProvider', () => {
  it('returns the server’s vectors, in input order, named after the model', async () => {
    const p = provider();
    const inputs = texts(3);
    const results = await p.embed(inputs);
    expectVectors(results, inputs);
    expect(p.model).toBe('openai/text-embedding-3-small');
    expect(fake.requests[0]).toMatchObject({ model: 'text-embedding-3-small', dimensions: DIMENSIONS, inputs });
  });

  it('packs inputs by maxInputsPerRequest: 10 inputs, at most 4 a request → 4, 4, 2', async () => {
    const inputs = texts(10);
    const results = await provider({ maxInputsPerRequest: 4 }).embed(inputs);
    expect(fake.stats.inputsPerRequest).toEqual([4, 4, 2]);
    expect(fake.requests.flatMap((r) => r.inputs)).toEqual(inputs);
    expectVectors(results, inputs);
  });

  it('packs inputs by maxTokensPerRequest', async () => {
    const inputs = texts(9);
    const perInput = Math.max(...inputs.map(tokens));
    const limit = perInput * 2 + 1; // room for two inputs, never three
    const results = await provider({ maxInputsPerRequest: 100, maxTokensPerRequest: limit }).embed(inputs);
    expect(fake.stats.inputsPerRequest).toEqual([2, 2, 2, 2, 1]);
    for (const request of fake.requests) expect(request.inputs.reduce((sum, t) => sum + tokens(t), 0)).toBeLessThanOrEqual(limit);
    expectVectors(results, inputs);
  });

  it('sends up to `concurrency` requests at once, results still in input order', async () => {
    fake.setLatency(100);
    const inputs = texts(18);
    const results = await provider({ maxInputsPerRequest: 3, concurrency: 2 }).embed(inputs);
    expect(fake.stats.requests).toBe(6);
    expect(fake.stats.maxInFlight).toBe(2);
    expectVectors(results, inputs);
  });

  it('shares the concurrency limit between concurrent embed() calls (one per partition slice)', async () => {
    fake.setLatency(100);
    const shared = provider({ maxInputsPerRequest: 3, concurrency: 2 });
    const [a, b] = [texts(12), texts(12).map((t) => `${t} (second slice)`)];
    const [ra, rb] = await Promise.all([shared.embed(a), shared.embed(b)]);
    expect(fake.stats.requests).toBe(8);
    expect(fake.stats.maxInFlight).toBe(2);
    expectVectors(ra, a);
    expectVectors(rb, b);
  });

  it('retries a 429 after its Retry-After and succeeds', async () => {
    fake.failNext(1, { status: 429, retryAfterSeconds: 1 });
    const inputs = texts(2);
    const results = await provider({ maxRetries: 2 }).embed(inputs);
    expectVectors(results, inputs);
    const { statuses, timestamps } = fake.stats;
    expect(statuses).toEqual([429, 200]);
    expect(timestamps[1] - timestamps[0]).toBeGreaterThanOrEqual(1_000 - 5); // clock granularity
    expect(fake.requests.map((r) => r.retryCount)).toEqual([0, 1]);
  });

  it('retries a 500 and succeeds', async () => {
    fake.failNext(1, { status: 500 });
    const inputs = texts(3);
    const results = await provider({ maxRetries: 1 }).embed(inputs);
    expect(fake.stats.statuses).toEqual([500, 200]);
    expectVectors(results, inputs);
  });

  it('throws a TransientError when 503 persists beyond maxRetries', async () => {
    fake.failNext(10, { status: 503, retryAfterMs: 10 });
    const embedding = provider({ maxRetries: 2 }).embed(texts(3));
    await expect(embedding).rejects.toBeInstanceOf(TransientError);
    const error = await embedding.catch((e: unknown) => e);
    expect(classifyError(error)).toBe('transient');
    expect((error as Error).message).toMatch(/503/);
    expect(fake.stats.statuses).toEqual([503, 503, 503]); // first try + 2 retries
  });

  it('fails only the inputs of a request that kept failing, when other requests succeeded', async () => {
    fake.failNext(2, { status: 503, retryAfterMs: 10 });
    const inputs = texts(8);
    const results = await provider({ maxRetries: 1, maxInputsPerRequest: 4 }).embed(inputs);
    for (let i = 0; i < 4; i++) expect(results[i]).toBeInstanceOf(TransientError);
    for (let i = 4; i < 8; i++) expect(results[i]).toEqual(served(inputs[i]));
  });

  it('turns a timeout into a TransientError', async () => {
    fake.setLatency(500);
    const embedding = provider({ timeoutMs: 100, maxRetries: 0 }).embed(texts(1));
    await expect(embedding).rejects.toBeInstanceOf(TransientError);
  });

  it('bisects a 400 down to the one input the provider rejects; the others get their vectors', async () => {
    fake.rejectInputContaining('POISON');
    const inputs = texts(8);
    inputs[5] = 'this chunk contains POISON and the provider rejects it';
    const results = await provider({ maxInputsPerRequest: 8 }).embed(inputs);

    expect(results[5]).toBeInstanceOf(PermanentError);
    expect(classifyError(results[5])).toBe('permanent');
    expect((results[5] as Error).message).toMatch(/400/);
    inputs.forEach((text, i) => {
      if (i !== 5) expect(results[i]).toEqual(served(text));
    });
    // 8 → 4 + 4 → 2 + 2 → 1 + 1: a handful of requests, no retries of the 400s.
    expect(fake.stats.requests).toBeLessThanOrEqual(7);
    expect(fake.requests.every((r) => r.retryCount === 0)).toBe(true);
    expect(fake.requests.filter((r) => r.status === 400).every((r) => r.inputs.includes(inputs[5]))).toBe(true);
  });

  it('recovers by bisecting when the server allows fewer inputs per request than configured', async () => {
    const strict = await FakeOpenAIServer.start({ maxInputsPerRequest: 4 });
    try {
      const inputs = texts(10);
      const results = await provider({ baseURL: strict.baseURL, maxInputsPerRequest: 10 }).embed(inputs);
      expectVectors(results, inputs);
      expect(strict.stats.statuses[0]).toBe(400);
      expect(strict.requests.filter((r) => r.status === 200).flatMap((r) => r.inputs)).toEqual(inputs);
    } finally {
      await strict.close();
    }
  });

  it('fails every rejected input alone when several are poisoned', async () => {
    fake.rejectInputContaining('POISON');
    const inputs = texts(6);
    inputs[0] = 'POISON first';
    inputs[4] = 'POISON later';
    const results = await provider({ maxInputsPerRequest: 6 }).embed(inputs);
    expect(results.map((r) => r instanceof PermanentError)).toEqual([true, false, false, false, true, false]);
  });

  it('fails an input above the per-input token limit as PermanentError without sending it', async () => {
    const long = 'word '.repeat(200);
    const inputs = ['short one', long, 'short two'];
    const results = await provider({ maxTokensPerInput: 50 }).embed(inputs);
    expect(results[1]).toBeInstanceOf(PermanentError);
    expect((results[1] as Error).message).toMatch(/above the model limit of 50/);
    expect(results[0]).toEqual(served('short one'));
    expect(results[2]).toEqual(served('short two'));
    expect(fake.requests.flatMap((r) => r.inputs)).not.toContain(long);

    fake.reset();
    const alone = await provider({ maxTokensPerInput: 50 }).embed([long]);
    expect(alone[0]).toBeInstanceOf(PermanentError);
    expect(fake.stats.requests).toBe(0);
  });

  it('sends no request for no input', async () => {
    expect(await provider().embed([])).toEqual([]);
    expect(fake.stats.requests).toBe(0);
  });
});

describe('OpenAIEmbeddingProvider under rate limits (x-ratelimit-* headers)', () => {
  // 10 requests per second, one input per request, 8 in flight: 40 requests need ~3 s.
  const limits = { requestsPerMinute: 10, periodMs: 1_000 };
  const limited = (rateLimit: OpenAIProviderOptions['rateLimit']) =>
    provider({ maxInputsPerRequest: 1, concurrency: 8, maxRetries: 5, rateLimit });

  it('paces requests by the announced budget: every input embedded, no request answered 429', async () => {
    fake.setRateLimits(limits);
    const inputs = texts(40, 'paced');
    expectVectors(await limited({ headroom: 0.05 }).embed(inputs), inputs);
    expect(fake.stats.rateLimited).toBe(0);
    expect(fake.stats.requests).toBe(40);
  }, 30_000);

  it('without pacing, the same burst is answered 429 (and retried by the SDK)', async () => {
    fake.setRateLimits(limits);
    await limited(false).embed(texts(24, 'unpaced'));
    expect(fake.stats.rateLimited).toBeGreaterThan(0);
  }, 60_000);

  it('two instances share one token budget through the headers, without 429s', async () => {
    // 600 tokens per second; each input is ~10 tokens.
    fake.setRateLimits({ tokensPerMinute: 600, periodMs: 1_000 });
    const a = limited({ headroom: 0.1 });
    const b = limited({ headroom: 0.1 });
    const inputsA = texts(60, 'instance a');
    const inputsB = texts(60, 'instance b');
    const [resultsA, resultsB] = await Promise.all([a.embed(inputsA), b.embed(inputsB)]);
    expectVectors(resultsA, inputsA);
    expectVectors(resultsB, inputsB);
    expect(fake.stats.rateLimited).toBeLessThanOrEqual(1);
    expect(a.rateLimiter?.snapshot().tokens?.limit).toBe(600);
  }, 30_000);

  it('into a budget that starts spent, two instances probe with one input each, then use the refill without 429s', async () => {
    // 20,000 tokens per second, spent when the instances start (an organisation already busy);
    // inputs of ~100 tokens, so a blind first request of 64 inputs (6,400 tokens) could not fit.
    // Token counts come with the inputs, as the chunker's do in the pipeline.
    const limits = { tokensPerMinute: 20_000, requestsPerMinute: 1_000, periodMs: 1_000, startFull: false };
    const sentence = (prefix: string, i: number) => `${prefix} ${i}: ${'notes about the topic of rate limits and budgets '.repeat(10)}`;
    const inputsA = Array.from({ length: 300 }, (_, i) => sentence('instance a', i));
    const inputsB = Array.from({ length: 300 }, (_, i) => sentence('instance b', i));
    const options = { maxInputsPerRequest: 64, concurrency: 2, maxRetries: 5, rateLimit: { headroom: 0.05 } };
    const a = provider(options);
    const b = provider(options);
    const [countsA, countsB] = [inputsA.map(tokens), inputsB.map(tokens)];
    fake.setRateLimits(limits);
    // The first chunks reach the embedders a moment after the budget was spent (in the benchmark,
    // after the chunker): 100 ms refill, 2,000 tokens. A probe into a bucket at exactly zero
    // would be answered 429 too; the SDK then retries it after Retry-After.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    const [resultsA, resultsB] = await Promise.all([a.embed(inputsA, countsA), b.embed(inputsB, countsB)]);
    const seconds = (Date.now() - started) / 1000;
    expectVectors(resultsA, inputsA);
    expectVectors(resultsB, inputsB);
    expect(fake.stats.rateLimited).toBe(0);
    const firstTwo = fake.requests.filter((r) => r.path === '/v1/embeddings').slice(0, 2);
    expect(firstTwo.map((r) => r.inputs.length)).toEqual([1, 1]);
    // The budget refilled by seconds × 20,000 tokens; the run spent most of it (it ends with the last answer).
    const spent = [...inputsA, ...inputsB].reduce((sum, text) => sum + tokens(text), 0);
    expect(spent / (seconds * 20_000)).toBeGreaterThan(0.75);
  }, 30_000);
});
