import { chunkId, ContractSerde, type Chunk } from '@rag/contracts';
import { STACK } from '@rag/testkit';
import { FakeOpenAIServer, type RecordedRequest } from '@rag/testkit';
import { BenchPipeline, type BenchRunOptions } from './bench-pipeline';
import { DIMENSIONS } from './chunk-embed';
import { resubmit } from './corpus';
import { IndexedTracker } from './indexed-tracker';
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
 * OPENAI_CONCURRENCY=1) start, their group settles, then the chunks topic is filled with the
 * corpus's chunks (exactly what the chunker produces, made in-process so the chunker's CPU is not
 * spent here) and drained into the embeddings topic. The rate is the embedders' own: inputs the
 * provider served per second over the middle 80 % of them. The indexer does not run: on two
 * shared cores, Elasticsearch indexing 600+ chunks/s takes most of a core, so counting indexed
 * documents measured the machine's indexing capacity at N = 3, not the embedders (provider busy
 * fell to 55-74 %).
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
    const requestsBefore = fake.requests.length;
    if (!mode.prechunk) {
      await tracker.start();
      await pipeline.startService('indexer');
    }
    await Promise.all(Array.from({ length: embedders }, (_, i) => pipeline.startService('embedder', i)));
    let t: ReturnType<typeof throughputOf> & { totalSeconds: number };
    if (mode.prechunk) {
      // The group forms first, so its joins and rebalances are not part of the measurement.
      await pipeline.waitForStableGroup('embedder', embedders);
      await prefillChunks(pipeline, options.chunks, `scale${embedders}-`);
      await waitForRecords(pipeline, pipeline.topics.embeddings, options.chunks.length, options.drainTimeoutMs);
      t = providerThroughput(served(fake.requests.slice(requestsBefore)), options.chunks.length / options.corpus.length, options.latencyMs);
    } else {
      await pipeline.startService('chunker');
      await tracker.waitUntil(ids, 'indexed', options.drainTimeoutMs);
      const w = throughputOf(ids, tracker.docs);
      t = { ...w, totalSeconds: w.seconds };
    }
    const requests = served(fake.requests.slice(requestsBefore));
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

const served = (requests: RecordedRequest[]) => requests.filter((r) => r.path.endsWith('/embeddings') && r.status === 200);

/**
 * The embedders' rate as the provider saw it: inputs served per second between the requests that
 * bring the served total to 10 % and to 90 % (instances that start a little apart, and the tail,
 * do not count). Documents/s is that ÷ the corpus's chunks per document.
 */
function providerThroughput(
  requests: RecordedRequest[],
  chunksPerDocument: number,
  latencyMs: number,
): ReturnType<typeof throughputOf> & { totalSeconds: number } {
  const inputs = requests.reduce((n, r) => n + r.inputs.length, 0);
  const first = requests[0]?.at ?? 0;
  const last = requests[requests.length - 1]?.at ?? first;
  let seen = 0;
  let from: { at: number; seen: number } | undefined;
  let to = { at: last, seen: inputs };
  for (const r of requests) {
    if (!from && seen >= inputs * 0.1) from = { at: r.at, seen };
    if (seen >= inputs * 0.9) {
      to = { at: r.at, seen };
      break;
    }
    seen += r.inputs.length;
  }
  const window =
    from && to.at - from.at >= 1_000
      ? { seconds: (to.at - from.at) / 1000, inputs: to.seen - from.seen }
      : { seconds: Math.max(0.001, (last - first) / 1000), inputs };
  const chunksPerSec = window.inputs / window.seconds;
  return {
    documents: Math.round(inputs / chunksPerDocument),
    chunks: inputs,
    failed: 0,
    incomplete: 0,
    seconds: round(window.seconds, 2),
    documentsPerSec: round(chunksPerSec / chunksPerDocument),
    chunksPerSec: round(chunksPerSec),
    // From the first request to the last answer.
    totalSeconds: round((last - first + latencyMs) / 1000, 2),
  };
}

/** Waits until `topic` holds at least `count` records (the sum of its partitions' high watermarks). */
async function waitForRecords(pipeline: BenchPipeline, topic: string, count: number, timeoutMs: number): Promise<void> {
  const admin = pipeline.kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const offsets = await admin.fetchTopicOffsets(topic);
      const records = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
      if (records >= count) return;
      if (Date.now() > deadline) throw new Error(`${topic}: ${records} of ${count} records after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await admin.disconnect();
  }
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
