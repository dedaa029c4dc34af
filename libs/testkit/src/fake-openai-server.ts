import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HashingEmbeddingProvider, tokenizer } from '@rag/embedding';

/**
 * A local stand-in for the OpenAI embeddings API (`POST /v1/embeddings`), for tests: a real
 * HTTP server on 127.0.0.1 that speaks the API's request, response and error shapes, with
 * deterministic embeddings (signed feature hashing at the requested dimensions) and scripted
 * misbehaviour: queued failures (429 with Retry-After, 5xx), inputs it rejects with 400,
 * OpenAI's per-request limits, and added latency. With `rateLimits` it enforces requests- and
 * tokens-per-minute budgets as OpenAI does (continuously refilling buckets, 429 `rate_limit_exceeded`
 * when a request does not fit, `x-ratelimit-*` headers on every answer). Every request is recorded.
 */

export interface FakeOpenAIOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Added to every response, in ms. */
  latencyMs?: number;
  /** Inputs allowed in one request; more answers 400, like OpenAI's 2048. */
  maxInputsPerRequest?: number;
  /** Tokens (cl100k_base) allowed in one input; more answers 400, like OpenAI's 8192 context. */
  maxTokensPerInput?: number;
  /** Tokens allowed across one request's inputs; more answers 400, like OpenAI's 300,000. */
  maxTokensPerRequest?: number;
  /** Output size when the request does not ask for `dimensions`. */
  defaultDimensions?: number;
  /** When set, requests must send `Authorization: Bearer <apiKey>` or get 401. */
  apiKey?: string;
  rateLimits?: RateLimits;
}

/** OpenAI-style budgets of an organisation; a request needs one request and its input tokens. */
export interface RateLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  /** The period the limits refill over (default one minute); shorter only to keep tests short. */
  periodMs?: number;
  /**
   * Budgets start full (default), or spent, as in an organisation already busy: then a run
   * measures the steady refill rate, not the first period's burst.
   */
  startFull?: boolean;
}

/** A budget that refills continuously to `limit` over `periodMs` (how OpenAI's limits behave). */
class ServerBudget {
  private level: number;
  private at = Date.now();

  constructor(
    readonly limit: number,
    private readonly periodMs: number,
    startFull: boolean,
  ) {
    this.level = startFull ? limit : 0;
  }

  remaining(now = Date.now()): number {
    this.level = Math.min(this.limit, this.level + ((now - this.at) * this.limit) / this.periodMs);
    this.at = now;
    return this.level;
  }

  take(amount: number): void {
    this.level = this.remaining() - amount;
  }

  /** ms until `amount` fits (the "try again in" of the 429 message). */
  msUntil(amount: number): number {
    return Math.max(0, Math.ceil(((amount - this.remaining()) * this.periodMs) / this.limit));
  }

  /** Whole units left, and the time until the budget is full again from there. */
  headers(kind: 'requests' | 'tokens'): Record<string, string> {
    const remaining = Math.max(0, Math.floor(this.remaining()));
    return {
      [`x-ratelimit-limit-${kind}`]: String(this.limit),
      [`x-ratelimit-remaining-${kind}`]: String(remaining),
      [`x-ratelimit-reset-${kind}`]: goDuration(((this.limit - remaining) * this.periodMs) / this.limit),
    };
  }
}

/** OpenAI's reset headers are Go durations: `1s`, `6m0s`, `120ms`. */
function goDuration(ms: number): string {
  if (ms < 1_000) return `${Math.ceil(ms)}ms`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms - minutes * 60_000) / 10) / 100;
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}

export interface ScriptedFailure {
  status: number;
  /** Sent as `Retry-After` (seconds), as OpenAI does on 429. */
  retryAfterSeconds?: number;
  /** Sent as `retry-after-ms`, which the SDK prefers over Retry-After. */
  retryAfterMs?: number;
  message?: string;
  type?: string;
  code?: string | null;
}

export interface RecordedRequest {
  /** Epoch ms when the request was received. */
  at: number;
  method: string;
  path: string;
  status: number;
  /** Inputs of an embeddings request (0 when the body could not be read as one). */
  inputs: string[];
  model?: string;
  dimensions?: number;
  /** `x-stainless-retry-count` sent by the openai SDK: 0 for a first try. */
  retryCount?: number;
  /** Input tokens of the request (cl100k_base). */
  tokens?: number;
}

interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

const DEFAULT_MESSAGES: Record<number, OpenAIErrorBody['error']> = {
  400: { message: 'Invalid request.', type: 'invalid_request_error', param: null, code: null },
  401: { message: 'Incorrect API key provided.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
  404: { message: 'Not found.', type: 'invalid_request_error', param: null, code: null },
  408: { message: 'Request timed out.', type: 'timeout', param: null, code: null },
  429: {
    message: 'Rate limit reached for requests. Please try again in 1s.',
    type: 'requests',
    param: null,
    code: 'rate_limit_exceeded',
  },
  500: {
    message: 'The server had an error while processing your request. Sorry about that!',
    type: 'server_error',
    param: null,
    code: null,
  },
  502: { message: 'Bad gateway.', type: 'server_error', param: null, code: null },
  503: { message: 'The engine is currently overloaded, please try again later.', type: 'server_error', param: null, code: null },
};

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: OpenAIErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.error.message);
  }
}

function errorBody(status: number, overrides: Partial<OpenAIErrorBody['error']> = {}): OpenAIErrorBody {
  const base = DEFAULT_MESSAGES[status] ?? {
    message: `HTTP ${status}`,
    type: status >= 500 ? 'server_error' : 'invalid_request_error',
    param: null,
    code: null,
  };
  return { error: { ...base, ...overrides } };
}

const invalid = (message: string, param: string | null = 'input') => new HttpFailure(400, errorBody(400, { message, param }));

export class FakeOpenAIServer {
  readonly requests: RecordedRequest[] = [];
  private readonly failures: ScriptedFailure[] = [];
  private readonly rejected: Array<{ substring: string; message: string }> = [];
  private readonly targeted: Array<{ substring: string; remaining: number; failure: ScriptedFailure }> = [];
  private readonly providers = new Map<number, HashingEmbeddingProvider>();
  private latencyMs: number;
  private readonly delays = new Set<() => void>();
  private port = 0;
  private inFlight = 0;
  private maxInFlight = 0;
  private requestBudget?: ServerBudget;
  private tokenBudget?: ServerBudget;
  /** When the current rate limits took effect (epoch ms). */
  rateLimitsSince = 0;

  private constructor(
    private readonly server: Server,
    private readonly options: FakeOpenAIOptions,
  ) {
    this.latencyMs = options.latencyMs ?? 0;
    if (options.rateLimits) this.setRateLimits(options.rateLimits);
  }

  /** Enforces these budgets from now on (full at the start), or none. */
  setRateLimits(limits: RateLimits | undefined): this {
    const period = limits?.periodMs ?? 60_000;
    const full = limits?.startFull ?? true;
    this.rateLimitsSince = Date.now();
    this.requestBudget = limits?.requestsPerMinute ? new ServerBudget(limits.requestsPerMinute, period, full) : undefined;
    this.tokenBudget = limits?.tokensPerMinute ? new ServerBudget(limits.tokensPerMinute, period, full) : undefined;
    return this;
  }

  static async start(options: FakeOpenAIOptions = {}): Promise<FakeOpenAIServer> {
    const server = createServer();
    const fake = new FakeOpenAIServer(server, options);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void fake.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    fake.port = (server.address() as AddressInfo).port;
    return fake;
  }

  /** `http://127.0.0.1:<port>` */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What to pass as the SDK's `baseURL` (or OPENAI_BASE_URL). */
  get baseURL(): string {
    return `${this.url}/v1`;
  }

  /** The next `count` embeddings requests fail this way (queued after any already scripted). */
  failNext(count: number, failure: ScriptedFailure): this {
    for (let i = 0; i < count; i++) this.failures.push({ ...failure });
    return this;
  }

  /** The next `count` requests with an input containing `substring` answer `failure`; other requests are served. */
  failInputContaining(substring: string, count: number, failure: ScriptedFailure): this {
    this.targeted.push({ substring, remaining: count, failure: { ...failure } });
    return this;
  }

  /** Any request with an input containing `substring` answers 400, as OpenAI does for bad input. */
  rejectInputContaining(substring: string, message = `Invalid input: contains "${substring}".`): this {
    this.rejected.push({ substring, message });
    return this;
  }

  setLatency(ms: number): this {
    this.latencyMs = ms;
    return this;
  }

  /** Forgets scripted failures, rejections, rate limits and recorded requests (latency stays). */
  reset(): this {
    this.setRateLimits(undefined);
    this.failures.length = 0;
    this.rejected.length = 0;
    this.targeted.length = 0;
    this.requests.length = 0;
    this.maxInFlight = this.inFlight;
    return this;
  }

  /** The vector this server answers for `text` at `dimensions`. */
  embeddingFor(text: string, dimensions = this.options.defaultDimensions ?? 1536): number[] {
    let provider = this.providers.get(dimensions);
    if (!provider) {
      provider = new HashingEmbeddingProvider({ dimensions });
      this.providers.set(dimensions, provider);
    }
    return provider.embedOne(text);
  }

  /** Embeddings requests seen since the last reset, and the most that were in flight at once. */
  get stats(): {
    requests: number;
    inputsPerRequest: number[];
    statuses: number[];
    timestamps: number[];
    maxInFlight: number;
    /** Requests answered 429 because a rate budget was spent (scripted 429s not included). */
    rateLimited: number;
    /** Input tokens of the requests that were served (200). */
    servedTokens: number;
  } {
    const embeddings = this.requests.filter((r) => r.path === '/v1/embeddings');
    return {
      requests: embeddings.length,
      inputsPerRequest: embeddings.map((r) => r.inputs.length),
      statuses: embeddings.map((r) => r.status),
      timestamps: embeddings.map((r) => r.at),
      maxInFlight: this.maxInFlight,
      rateLimited: embeddings.filter((r) => r.status === 429 && r.tokens !== undefined).length,
      servedTokens: embeddings.reduce((sum, r) => sum + (r.status === 200 ? (r.tokens ?? 0) : 0), 0),
    };
  }

  /** Added latency; cut short by close(), so a long one does not keep the test process alive. */
  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.delays.delete(finish);
        resolve();
      }, ms);
      const finish = () => {
        clearTimeout(timer);
        resolve();
      };
      this.delays.add(finish);
    });
  }

  async close(): Promise<void> {
    for (const finish of this.delays) finish();
    this.delays.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const path = (req.url ?? '/').split('?')[0];
    const record: RecordedRequest = { at, method: req.method ?? 'GET', path, status: 0, inputs: [] };
    const retryHeader = req.headers['x-stainless-retry-count'];
    if (typeof retryHeader === 'string') record.retryCount = Number(retryHeader);
    this.requests.push(record);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.once('close', () => (this.inFlight -= 1));

    let status = 200;
    let body: unknown;
    let headers: Record<string, string> = {};
    try {
      const raw = await readBody(req);
      if (path !== '/v1/embeddings' || req.method !== 'POST') {
        throw new HttpFailure(404, errorBody(404, { message: `Invalid URL (${req.method} ${path})` }));
      }
      if (this.options.apiKey !== undefined && req.headers.authorization !== `Bearer ${this.options.apiKey}`) {
        throw new HttpFailure(401, errorBody(401));
      }
      const request = this.parse(raw);
      Object.assign(record, { inputs: request.inputs, model: request.model, dimensions: request.dimensions });
      const targeted = this.targeted.find((t) => t.remaining > 0 && request.inputs.some((i) => i.includes(t.substring)));
      if (targeted) {
        targeted.remaining -= 1;
        throw scriptedFailure(targeted.failure);
      }
      const scripted = this.failures.shift();
      if (scripted) throw scriptedFailure(scripted);
      const counts = request.inputs.map((text) => tokenizer.count(text));
      record.tokens = counts.reduce((sum, n) => sum + n, 0);
      this.spendRateBudgets(request.model, record.tokens);
      body = this.embed(request, counts);
    } catch (err) {
      const failure =
        err instanceof HttpFailure ? err : new HttpFailure(500, errorBody(500, { message: `fake server bug: ${String(err)}` }));
      status = failure.status;
      body = failure.body;
      headers = failure.headers;
    }
    record.status = status;
    if (path === '/v1/embeddings') Object.assign(headers, this.requestBudget?.headers('requests'), this.tokenBudget?.headers('tokens'));
    if (this.latencyMs > 0) await this.delay(this.latencyMs);
    const payload = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
      'x-request-id': `req_${randomUUID().replace(/-/g, '')}`,
      'openai-processing-ms': String(Date.now() - at),
      ...headers,
    });
    res.end(payload);
  }

  /**
   * A request that does not fit a budget answers 429 as OpenAI does; it still counts as a request
   * (OpenAI counts rejected requests against the per-minute limit), its tokens do not.
   */
  private spendRateBudgets(model: string, tokens: number): void {
    const short = [
      { budget: this.tokenBudget, kind: 'tokens', unit: 'TPM', amount: tokens },
      { budget: this.requestBudget, kind: 'requests', unit: 'RPM', amount: 1 },
    ].find((b) => b.budget && b.budget.remaining() < b.amount);
    this.requestBudget?.take(1);
    if (!short?.budget) {
      this.tokenBudget?.take(tokens);
      return;
    }
    const used = Math.ceil(short.budget.limit - short.budget.remaining());
    const wait = goDuration(short.budget.msUntil(short.amount));
    throw new HttpFailure(
      429,
      errorBody(429, {
        message: `Rate limit reached for ${model} in organization org-fake on ${short.kind} per min (${short.unit}): Limit ${short.budget.limit}, Used ${used}, Requested ${short.amount}. Please try again in ${wait}. Visit https://platform.openai.com/account/rate-limits to learn more.`,
        type: short.kind,
        code: 'rate_limit_exceeded',
      }),
    );
  }

  private parse(raw: string): { model: string; inputs: string[]; dimensions?: number; encoding: 'float' | 'base64' } {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw invalid('We could not parse the JSON body of your request.', null);
    }
    const body = (json ?? {}) as Record<string, unknown>;
    if (typeof body.model !== 'string' || body.model === '') throw invalid('you must provide a model parameter', 'model');
    const input = body.input;
    const inputs =
      typeof input === 'string'
        ? [input]
        : Array.isArray(input) && input.every((i) => typeof i === 'string')
          ? (input as string[])
          : undefined;
    if (!inputs) throw invalid("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.");
    if (inputs.length === 0) throw invalid("'$.input' is invalid: it must not be empty.");
    const dimensions = body.dimensions;
    if (dimensions !== undefined && (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1)) {
      throw invalid('Invalid value for dimensions: it must be a positive integer.', 'dimensions');
    }
    const encoding = body.encoding_format ?? 'float';
    if (encoding !== 'float' && encoding !== 'base64')
      throw invalid("Invalid value for 'encoding_format': it must be 'float' or 'base64'.", 'encoding_format');
    return { model: body.model, inputs, dimensions: dimensions as number | undefined, encoding };
  }

  private embed(
    request: { model: string; inputs: string[]; dimensions?: number; encoding: 'float' | 'base64' },
    tokenCounts: number[],
  ): unknown {
    const maxInputs = this.options.maxInputsPerRequest ?? 2048;
    if (request.inputs.length > maxInputs) {
      throw invalid(`Too many inputs. The max number of inputs is ${maxInputs}. We recommend sending them in batches.`);
    }
    const maxPerInput = this.options.maxTokensPerInput ?? 8192;
    const maxPerRequest = this.options.maxTokensPerRequest ?? 300_000;
    let total = 0;
    request.inputs.forEach((text, index) => {
      const rejected = this.rejected.find((r) => text.includes(r.substring));
      if (rejected) throw invalid(rejected.message);
      if (text.length === 0) throw invalid(`'$.input[${index}]' is invalid: it must not be empty.`);
      const tokens = tokenCounts[index] ?? 0;
      if (tokens > maxPerInput) {
        throw invalid(
          `This model's maximum context length is ${maxPerInput} tokens, however you requested ${tokens} tokens in input ${index}. Please reduce your prompt.`,
        );
      }
      total += tokens;
    });
    if (total > maxPerRequest) throw invalid(`Requested ${total} tokens, max ${maxPerRequest} tokens per request.`);
    const dimensions = request.dimensions ?? this.options.defaultDimensions ?? 1536;
    return {
      object: 'list',
      data: request.inputs.map((text, index) => {
        const vector = this.embeddingFor(text, dimensions);
        return { object: 'embedding', index, embedding: request.encoding === 'base64' ? toBase64(vector) : vector };
      }),
      model: request.model,
      usage: { prompt_tokens: total, total_tokens: total },
    };
  }
}

function scriptedFailure(failure: ScriptedFailure): HttpFailure {
  const headers: Record<string, string> = {};
  if (failure.retryAfterSeconds !== undefined) headers['retry-after'] = String(failure.retryAfterSeconds);
  if (failure.retryAfterMs !== undefined) headers['retry-after-ms'] = String(failure.retryAfterMs);
  const overrides: Partial<OpenAIErrorBody['error']> = {};
  if (failure.message !== undefined) overrides.message = failure.message;
  if (failure.type !== undefined) overrides.type = failure.type;
  if (failure.code !== undefined) overrides.code = failure.code;
  return new HttpFailure(failure.status, errorBody(failure.status, overrides), headers);
}

/** OpenAI's base64 encoding: little-endian float32s. */
function toBase64(vector: number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return bytes.toString('base64');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}
