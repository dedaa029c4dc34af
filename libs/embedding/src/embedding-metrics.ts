import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Embedding volume and latency, per provider. */
export class EmbeddingMetrics {
  private readonly requests: Counter<'provider' | 'outcome'>;
  private readonly inputs: Counter<'provider'>;
  private readonly tokens: Counter<'provider'>;
  private readonly seconds: Histogram<'provider'>;
  private readonly inputsPerRequest: Histogram<'provider'>;
  private readonly rateLimitWait: Counter<'provider'>;
  private readonly rateLimitLimit: Gauge<'provider' | 'budget'>;
  private readonly rateLimitAvailable: Gauge<'provider' | 'budget'>;

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'rag_embedding_requests_total',
      help: 'Embedding requests sent to the provider, by outcome (ok or HTTP status).',
      labelNames: ['provider', 'outcome'],
      registers: [registry],
    });
    this.inputs = new Counter({
      name: 'rag_embedding_inputs_total',
      help: 'Texts sent for embedding.',
      labelNames: ['provider'],
      registers: [registry],
    });
    this.tokens = new Counter({
      name: 'rag_embedding_tokens_total',
      help: 'Tokens billed by the provider (as reported in its usage).',
      labelNames: ['provider'],
      registers: [registry],
    });
    this.seconds = new Histogram({
      name: 'rag_embedding_request_duration_seconds',
      help: 'Latency of one embedding request, SDK retries included.',
      labelNames: ['provider'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    });
    this.inputsPerRequest = new Histogram({
      name: 'rag_embedding_inputs_per_request',
      help: 'Inputs carried by one embedding request.',
      labelNames: ['provider'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048],
      registers: [registry],
    });
    this.rateLimitWait = new Counter({
      name: 'rag_embedding_rate_limit_wait_seconds_total',
      help: "Time requests waited for room in the provider's rate limits before being sent.",
      labelNames: ['provider'],
      registers: [registry],
    });
    this.rateLimitLimit = new Gauge({
      name: 'rag_embedding_rate_limit',
      help: "The provider's rate limit per period as its last response announced it (budget: requests or tokens).",
      labelNames: ['provider', 'budget'],
      registers: [registry],
    });
    this.rateLimitAvailable = new Gauge({
      name: 'rag_embedding_rate_limit_available',
      help: "What this instance estimates is left of the provider's rate limit (budget: requests or tokens).",
      labelNames: ['provider', 'budget'],
      registers: [registry],
    });
  }

  observeRateLimitWait(provider: string, ms: number): void {
    if (ms > 0) this.rateLimitWait.inc({ provider }, ms / 1000);
  }

  setRateLimitBudget(provider: string, budgets: Partial<Record<'requests' | 'tokens', { limit: number; available: number }>>): void {
    for (const budget of ['requests', 'tokens'] as const) {
      const value = budgets[budget];
      if (!value) continue;
      this.rateLimitLimit.set({ provider, budget }, value.limit);
      this.rateLimitAvailable.set({ provider, budget }, value.available);
    }
  }

  observeRequest(provider: string, outcome: string, inputs: number, tokens: number, startedNs: bigint): void {
    this.requests.inc({ provider, outcome });
    this.inputs.inc({ provider }, inputs);
    if (tokens > 0) this.tokens.inc({ provider }, tokens);
    this.seconds.observe({ provider }, Number(process.hrtime.bigint() - startedNs) / 1e9);
    this.inputsPerRequest.observe({ provider }, inputs);
  }
}
