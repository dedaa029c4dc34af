import type { DocumentSubmitted } from '@rag/contracts';
import { FakeOpenAIServer, STACK, type RateLimits, type RecordedRequest } from '@rag/testkit';
import { runBaseline } from './baseline';
import { BenchPipeline, type BenchRunOptions } from './bench-pipeline';
import { DIMENSIONS } from './chunk-embed';
import { resubmit } from './corpus';
import { IndexedTracker } from './indexed-tracker';
import { throughputOf } from './pipeline-bench';
import { DocumentProducer } from './produce';
import { round } from './stats';

/** One design against the OpenAI-API test server under a rate limit. */
export interface RateLimitedRun {
  design: string;
  documents: number;
  chunks: number;
  seconds: number;
  documentsPerSec: number;
  /** HTTP requests the provider saw (429s included: they count against the request budget). */
  requests: number;
  /** Requests answered 429 because a budget was spent. */
  rateLimited: number;
  rateLimitedShare: number;
  /** Share of the budget that refilled during the run which served requests used. */
  requestBudgetUsed: number | null;
  tokenBudgetUsed: number | null;
}

export interface RateLimitScenario {
  name: string;
  limits: RateLimits;
  latencyMs: number;
  runs: RateLimitedRun[];
}

export interface RateLimitOptions extends BenchRunOptions {
  /** Documents for the BullMQ baseline (one provider request per document: slow under a request limit). */
  baselineDocuments: number;
  /** Documents for the token-bound runs (the budget paces them: 20,000 tokens/s). */
  tokenBoundDocuments: number;
  /** Embedder instances of the pipeline in the token-bound scenario. */
  embedders: number;
}

/**
 * The pipeline and the BullMQ design against the OpenAI-API test server enforcing OpenAI-style
 * budgets, which start spent (an organisation already busy), so each run measures what the
 * refill allows, not the first minute's burst:
 * - request-bound: 200 ms per request, 300 requests/minute (the setting). The pipeline
 *   packs chunks of many documents into one request; the queue worker sends one per document.
 * - token-bound: a tokens/minute budget well below what the embedders could send; how much of it
 *   each design uses, and how many requests it gets answered 429 (pipeline with adaptive pacing,
 *   with pacing off, and BullMQ, which runs the same provider code and so paces too).
 */
export async function runRateLimits(options: RateLimitOptions): Promise<RateLimitScenario[]> {
  const requestBound: RateLimitScenario = {
    name: 'request-bound: 300 requests/minute, 200 ms per request',
    limits: { requestsPerMinute: 300, startFull: false },
    latencyMs: 200,
    runs: [],
  };
  requestBound.runs.push(await pipelineRun(options, options.corpus, requestBound, 'pipeline (1 embedder, adaptive pacing)', 1, {}));
  requestBound.runs.push(await baselineRun(options, requestBound, 'BullMQ (2 processes x 16)'));

  const tokenBound: RateLimitScenario = {
    name: 'token-bound: 1,200,000 tokens/minute, 3,000 requests/minute, 100 ms per request',
    limits: { requestsPerMinute: 3_000, tokensPerMinute: 1_200_000, startFull: false },
    latencyMs: 100,
    runs: [],
  };
  const n = options.embedders;
  const docs = options.corpus.slice(0, options.tokenBoundDocuments);
  tokenBound.runs.push(await pipelineRun(options, docs, tokenBound, `pipeline (${n} embedders, adaptive pacing)`, n, {}));
  tokenBound.runs.push(
    await pipelineRun(options, docs, tokenBound, `pipeline (${n} embedders, pacing off)`, n, {
      OPENAI_RATE_LIMIT: 'off',
      OPENAI_MAX_RETRIES: '8',
    }),
  );
  tokenBound.runs.push(await baselineRun(options, tokenBound, 'BullMQ (2 processes x 16)'));
  return [requestBound, tokenBound];
}

function providerEnv(fake: FakeOpenAIServer, extra: Record<string, string>): Record<string, string> {
  return { EMBEDDING_PROVIDER: 'openai', OPENAI_BASE_URL: fake.baseURL, OPENAI_API_KEY: 'bench', ...extra };
}

async function pipelineRun(
  options: RateLimitOptions,
  corpus: DocumentSubmitted[],
  scenario: RateLimitScenario,
  design: string,
  embedders: number,
  extraEnv: Record<string, string>,
): Promise<RateLimitedRun> {
  const fake = await FakeOpenAIServer.start({ latencyMs: scenario.latencyMs });
  const pipeline = new BenchPipeline({
    partitions: options.partitions,
    dimensions: DIMENSIONS,
    env: { ...options.serviceEnv, embedder: { ...options.serviceEnv.embedder, ...providerEnv(fake, extraEnv) } },
  });
  const tracker = new IndexedTracker(pipeline.kafka, STACK.registryUrl, pipeline.topics.events);
  let producer: DocumentProducer | undefined;
  try {
    await pipeline.provision();
    await tracker.start();
    await pipeline.startService('indexer');
    await pipeline.startService('chunker');
    await Promise.all(Array.from({ length: embedders }, (_, i) => pipeline.startService('embedder', i)));
    await pipeline.waitForStableGroup('embedder', embedders);
    // The budget starts now, spent; the documents are all there at once.
    fake.reset().setRateLimits(scenario.limits);
    const ids = corpus.map((d) => `rl-${d.documentId}`);
    producer = await DocumentProducer.connect(pipeline.kafka, STACK.registryUrl, pipeline.topics.documents);
    await producer.fill(corpus.map((d, i) => resubmit(d, ids[i], Date.now())));
    await tracker.waitUntil(ids, 'indexed', options.drainTimeoutMs);
    const t = throughputOf(ids, tracker.docs);
    const run = { design, documents: t.documents, chunks: t.chunks, seconds: t.seconds, documentsPerSec: t.documentsPerSec };
    return { ...run, ...budgetUse(fake.requests, scenario.limits, fake.rateLimitsSince) };
  } finally {
    await tracker.stop().catch(() => undefined);
    await producer?.close().catch(() => undefined);
    await pipeline.stop().catch(() => undefined);
    await fake.close();
  }
}

async function baselineRun(options: RateLimitOptions, scenario: RateLimitScenario, design: string): Promise<RateLimitedRun> {
  const fake = await FakeOpenAIServer.start({ latencyMs: scenario.latencyMs, rateLimits: scenario.limits });
  try {
    const corpus: DocumentSubmitted[] = options.corpus.slice(0, options.baselineDocuments);
    const { best } = await runBaseline(corpus, [{ processes: 2, concurrency: 16 }], DIMENSIONS, options.log, providerEnv(fake, {}));
    const run = { design, documents: best.documents, chunks: best.chunks, seconds: best.seconds, documentsPerSec: best.documentsPerSec };
    return { ...run, ...budgetUse(fake.requests, scenario.limits, fake.rateLimitsSince) };
  } finally {
    await fake.close();
  }
}

/**
 * How much of each budget the run used: requests (and served tokens) over what refilled from the
 * moment the limits took effect (spent) to the last request; that is all there was. Idle time
 * before the first request is not lost: the bucket keeps it (up to one period's worth).
 */
function budgetUse(
  records: RecordedRequest[],
  limits: RateLimits,
  since: number,
): Pick<RateLimitedRun, 'requests' | 'rateLimited' | 'rateLimitedShare' | 'requestBudgetUsed' | 'tokenBudgetUsed'> {
  const embeddings = records.filter((r) => r.path === '/v1/embeddings');
  const rateLimited = embeddings.filter((r) => r.status === 429 && r.tokens !== undefined).length;
  const served = embeddings.filter((r) => r.status === 200);
  const last = embeddings[embeddings.length - 1];
  const minutes = last ? (last.at - since) / 60_000 : 0;
  const used = (spent: number, perMinute: number | undefined) =>
    perMinute && minutes > 0 ? round(spent / (perMinute * minutes), 3) : null;
  return {
    requests: embeddings.length,
    rateLimited,
    rateLimitedShare: embeddings.length > 0 ? round(rateLimited / embeddings.length, 4) : 0,
    // Every request counts against the request budget, 429s included (as OpenAI counts them).
    requestBudgetUsed: used(embeddings.length, limits.requestsPerMinute),
    tokenBudgetUsed: used(
      served.reduce((sum, r) => sum + (r.tokens ?? 0), 0),
      limits.tokensPerMinute,
    ),
  };
}

export function rateLimitMarkdown(scenarios: RateLimitScenario[]): string[] {
  const lines: string[] = [];
  for (const s of scenarios) {
    lines.push(`### ${s.name}`, '');
    lines.push('| design | documents/s | chunks | requests | 429 share | request budget used | token budget used |');
    lines.push('|---|---|---|---|---|---|---|');
    for (const r of s.runs) {
      const share = (v: number | null) => (v === null ? '—' : `${round(v * 100, 1)} %`);
      lines.push(
        `| ${r.design} | ${r.documentsPerSec} | ${r.chunks} | ${r.requests} | ${share(r.rateLimitedShare)} | ${share(r.requestBudgetUsed)} | ${share(r.tokenBudgetUsed)} |`,
      );
    }
    lines.push('');
  }
  return lines;
}
