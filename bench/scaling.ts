import { chunkId, ContractSerde, type Chunk } from '@rag/contracts';
import { STACK } from '@rag/testkit';
import { FakeOpenAIServer } from '@rag/testkit';
import { BenchPipeline, type BenchRunOptions } from './bench-pipeline';
import { DIMENSIONS } from './chunk-embed';
import { resubmit } from './corpus';
import { IndexedTracker, type DocumentProgress } from './indexed-tracker';
import { throughputOf } from './pipeline-bench';
import { DocumentProducer } from './produce';
import { mean, percentile, round } from './stats';

export interface ScalingRun {
  embedders: number;
  documents: number;
  chunks: number;
  seconds: number;
  documentsPerSec: number;
  chunksPerSec: number;
  providerRequests: number;
  chunksPerRequestMean: number;
  chunksPerRequestP50: number;
  /** Share of the window in which each embedder had a provider request outstanding (1 = provider-bound). */
  providerBusyShare: number;
}

export interface ScalingResult {
  /** One embedder with the default request size, documents flowing through the chunker: how full requests get under load. */
  batching: ScalingRun & { maxInputsPerRequest: number };
  latencyMs: number;
  maxInputsPerRequest: number;
  openaiConcurrency: number;
  runs: ScalingRun[];
  /** documents/s with N embedders ÷ with 1. */
  speedup: Record<string, number>;
}

export interface ScalingOptions extends BenchRunOptions {
  /** The corpus's chunks (as the chunker makes them), to pre-fill the chunks topic directly. */
  chunks: Chunk[];
  embedderCounts: number[];
  latencyMs: number;
  maxInputsPerRequest: number;
  batchingMaxInputs: number;
}

/**
 * Embedder-bound runs: N embedders (OpenAI provider against the fake server with added latency,
 * OPENAI_CONCURRENCY=1) and the indexer start, the embedders' group settles, then the chunks
 * topic is filled with the corpus's chunks (exactly what the chunker produces, made in-process
 * so the chunker's CPU is not spent here) and drained. Rate over the middle 80 % of completions.
 */
export async function runScaling(options: ScalingOptions): Promise<ScalingResult> {
  const batching = {
    ...(await scalingRun(options, 1, { maxInputs: options.batchingMaxInputs, prechunk: false })),
    maxInputsPerRequest: options.batchingMaxInputs,
  };
  options.log(
    `batching: 1 embedder, <= ${options.batchingMaxInputs} inputs/request, live chunker: ${batching.chunksPerRequestMean} chunks/request (p50 ${batching.chunksPerRequestP50}), ${batching.documentsPerSec} docs/s`,
  );
  const runs: ScalingRun[] = [];
  for (const n of options.embedderCounts) {
    runs.push(await scalingRun(options, n, { maxInputs: options.maxInputsPerRequest, prechunk: true }));
    const r = runs[runs.length - 1];
    options.log(
      `scaling: ${n} embedder(s): ${r.documentsPerSec} docs/s, ${r.chunksPerSec} chunks/s, ${r.chunksPerRequestMean} chunks/request, provider busy ${Math.round(r.providerBusyShare * 100)}%`,
    );
  }
  const one = runs.find((r) => r.embedders === 1)?.documentsPerSec ?? runs[0].documentsPerSec;
  const speedup = Object.fromEntries(runs.map((r) => [String(r.embedders), round(r.documentsPerSec / one, 2)]));
  return { batching, latencyMs: options.latencyMs, maxInputsPerRequest: options.maxInputsPerRequest, openaiConcurrency: 1, runs, speedup };
}

async function scalingRun(options: ScalingOptions, embedders: number, mode: { maxInputs: number; prechunk: boolean }): Promise<ScalingRun> {
  const fake = await FakeOpenAIServer.start({ latencyMs: options.latencyMs });
  const pipeline = new BenchPipeline({
    partitions: options.partitions,
    dimensions: DIMENSIONS,
    env: {
      ...options.serviceEnv,
      embedder: {
        ...options.serviceEnv.embedder,
        EMBEDDING_PROVIDER: 'openai',
        OPENAI_BASE_URL: fake.baseURL,
        OPENAI_API_KEY: 'bench',
        OPENAI_CONCURRENCY: '1',
        OPENAI_MAX_INPUTS_PER_REQUEST: String(mode.maxInputs),
      },
    },
  });
  const tracker = new IndexedTracker(pipeline.kafka, STACK.registryUrl, pipeline.topics.events);
  let producer: DocumentProducer | undefined;
  try {
    await pipeline.provision();
    const ids = options.corpus.map((d) => `scale${embedders}-${d.documentId}`);
    if (!mode.prechunk) {
      producer = await DocumentProducer.connect(pipeline.kafka, STACK.registryUrl, pipeline.topics.documents);
      await producer.fill(options.corpus.map((d, i) => resubmit(d, ids[i], Date.now())));
    }
    await tracker.start();
    await pipeline.startService('indexer');
    const requestsBefore = fake.requests.length;
    await Promise.all(Array.from({ length: embedders }, (_, i) => pipeline.startService('embedder', i)));
    if (mode.prechunk) {
      // The group forms first, so its joins and rebalances are not part of the measurement.
      await pipeline.waitForStableGroup('embedder', embedders);
      await prefillChunks(pipeline, options.chunks, `scale${embedders}-`);
    } else {
      await pipeline.startService('chunker');
    }
    await tracker.waitUntil(ids, 'indexed', options.drainTimeoutMs);
    // Steady state: the middle 80 % of completions, so group joins/rebalances of instances
    // that start a little apart, and the tail, do not count.
    const t = mode.prechunk
      ? steadyThroughput(ids, tracker.docs)
      : (() => {
          const w = throughputOf(ids, tracker.docs);
          return { ...w, totalSeconds: w.seconds };
        })();
    const requests = fake.requests.slice(requestsBefore).filter((r) => r.path.endsWith('/embeddings') && r.status === 200);
    const sizes = requests.map((r) => r.inputs.length);
    return {
      embedders,
      documents: t.documents,
      chunks: t.chunks,
      seconds: t.seconds,
      documentsPerSec: t.documentsPerSec,
      chunksPerSec: t.chunksPerSec,
      providerRequests: requests.length,
      chunksPerRequestMean: round(mean(sizes)),
      chunksPerRequestP50: percentile(sizes, 50),
      providerBusyShare: round(Math.min(1, (requests.length * options.latencyMs) / 1000 / (t.totalSeconds * embedders)), 2),
    };
  } finally {
    await tracker.stop().catch(() => undefined);
    await producer?.close().catch(() => undefined);
    await pipeline.stop().catch(() => undefined);
    await fake.close();
  }
}

/** Rate between the 10th and the 90th percentile of document completion times. */
function steadyThroughput(ids: string[], docs: Map<string, DocumentProgress>): ReturnType<typeof throughputOf> & { totalSeconds: number } {
  const whole = throughputOf(ids, docs);
  const done = ids
    .map((id) => docs.get(id))
    .filter((d): d is DocumentProgress & { doneAt: number } => d?.doneAt !== undefined)
    .sort((a, b) => a.doneAt - b.doneAt);
  const lo = Math.floor(done.length * 0.1);
  const hi = Math.max(lo + 1, Math.ceil(done.length * 0.9) - 1);
  if (done.length < 50 || done[hi].doneAt - done[lo].doneAt < 1_000) return { ...whole, totalSeconds: whole.seconds };
  const seconds = Math.max(0.001, (done[hi].doneAt - done[lo].doneAt) / 1000);
  const middle = done.slice(lo + 1, hi + 1);
  const chunks = middle.reduce((n, d) => n + (d.chunkCount ?? 0), 0);
  return {
    ...whole,
    seconds: round(seconds, 2),
    documentsPerSec: round(middle.length / seconds),
    chunksPerSec: round(chunks / seconds),
    totalSeconds: whole.seconds,
  };
}

/** Chunk records under new document ids, produced like the chunker does (key = document id). */
async function prefillChunks(pipeline: BenchPipeline, chunks: Chunk[], idPrefix: string): Promise<void> {
  const serde = ContractSerde.connect(STACK.registryUrl);
  await serde.registerWriter('Chunk', pipeline.topics.chunks);
  const producer = pipeline.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const now = Date.now();
    for (let i = 0; i < chunks.length; i += 500) {
      const messages = chunks.slice(i, i + 500).map((c) => {
        const documentId = `${idPrefix}${c.documentId}`;
        const value: Chunk = { ...c, documentId, chunkId: chunkId(documentId, c.version, c.chunkIndex), submittedAt: now };
        return { key: documentId, value: serde.encode('Chunk', value) };
      });
      await producer.send({ topic: pipeline.topics.chunks, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}
