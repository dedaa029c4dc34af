import { Counter, Histogram, type Registry } from 'prom-client';

/** Embedding volume and latency, per provider. */
export class EmbeddingMetrics {
  private readonly requests: Counter<'provider' | 'outcome'>;
  private readonly inputs: Counter<'provider'>;
  private readonly tokens: Counter<'provider'>;
  private readonly seconds: Histogram<'provider'>;
  private readonly inputsPerRequest: Histogram<'provider'>;

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
  }

  observeRequest(provider: string, outcome: string, inputs: number, tokens: number, startedNs: bigint): void {
    this.requests.inc({ provider, outcome });
    this.inputs.inc({ provider }, inputs);
    if (tokens > 0) this.tokens.inc({ provider }, tokens);
    this.seconds.observe({ provider }, Number(process.hrtime.bigint() - startedNs) / 1e9);
    this.inputsPerRequest.observe({ provider }, inputs);
  }
}
