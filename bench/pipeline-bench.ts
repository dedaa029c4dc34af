import type { DocumentSubmitted } from '@rag/contracts';
import { join } from 'node:path';
import { scrape, STACK, sumMetric } from '@rag/testkit';
import { DIMENSIONS } from './chunk-embed';
import { BenchPipeline, type BenchRunOptions } from './bench-pipeline';
import type { ServiceName } from '@rag/testkit';
import { resubmit } from './corpus';
import { IndexedTracker, type DocumentProgress } from './indexed-tracker';
import { CpuWindow, msPerDocument, stackPids, type CpuUse } from './cpu-accounting';
import { DocumentProducer } from './produce';
import { peakRssMiB, percentile, round, rssMiB, sleep } from './stats';

export interface ThroughputResult {
  documents: number;
  chunks: number;
  failed: number;
  incomplete: number;
  seconds: number;
  documentsPerSec: number;
  chunksPerSec: number;
}

export interface LatencyResult {
  loadFraction: number;
  targetDocsPerSec: number;
  achievedDocsPerSec: number;
  submitted: number;
  completed: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /**
   * Where the time goes (p50 / p99 of each segment, ms): submission → CHUNKED (gateway topic and
   * chunker), CHUNKED → the last chunk searchable (embedder, indexer, refresh), → the bench
   * receives that INDEXED event (events topic).
   */
  segments?: { chunk: [number, number]; embedIndex: [number, number]; notify: [number, number] };
  /** CPU of every process involved from the first measured submission until the last is indexed. */
  cpu?: CpuUse & { msPerDocument: Record<string, number> };
  /** Records per handled slice of each consumer stage over the same window. */
  slices?: SliceSizes;
}

/** Per consumer stage: slices handled and their mean size, from the stage's own metrics. */
export type SliceSizes = Record<string, { slices: number; recordsPerSlice: number }>;

export interface PipelineBenchResult {
  partitions: number;
  throughput: ThroughputResult;
  latency: LatencyResult[];
  peakRssMiB: Record<string, number>;
  /** Resident set of each service once ready, before any load: the fixed cost of the process. */
  idleRssMiB: Record<string, number>;
  /** CPU of every process involved (services, stack servers, this bench) during the throughput run. */
  cpu: CpuUse & { msPerDocument: Record<string, number> };
  /** Records per slice of each stage during the throughput run (a backlog fills whole fetches). */
  slices?: SliceSizes;
}

/** Where scripts/stack/stack.sh keeps the local stack (its servers are found by this path). */
const STACK_DIR = process.env.STACK_DIR ?? join(__dirname, '..', '..', '.stack');

/** Sustained rate between the first INDEXED event and the completion of the last document. */
export function throughputOf(ids: string[], docs: Map<string, DocumentProgress>): ThroughputResult {
  const progress = ids.map((id) => docs.get(id));
  const done = progress.filter((d): d is DocumentProgress & { doneAt: number } => d?.doneAt !== undefined);
  const first = Math.min(...done.map((d) => d.firstIndexedAt ?? d.doneAt));
  const last = Math.max(...done.map((d) => d.doneAt));
  const seconds = Math.max(0.001, (last - first) / 1000);
  const chunks = done.reduce((n, d) => n + (d.chunkCount ?? 0), 0);
  return {
    documents: done.length,
    chunks,
    failed: progress.filter((d) => d?.failed).length,
    incomplete: ids.length - done.length,
    seconds: round(seconds, 2),
    documentsPerSec: round(done.length / seconds),
    chunksPerSec: round(chunks / seconds),
  };
}

export interface PipelineBenchOptions extends BenchRunOptions {
  loadFractions: number[];
  latencySeconds: number;
  /** Seconds at each open-loop rate before measuring. */
  warmupSeconds: number;
}

/**
 * End to end on the local stack with the offline embedder: start the four services (their
 * resident size once ready is the idle figure), fill the input topic with the corpus, measure
 * the sustained rate; then open-loop runs at fractions of it.
 */
export async function runPipelineBench(options: PipelineBenchOptions): Promise<PipelineBenchResult> {
  const { corpus, log } = options;
  const pipeline = new BenchPipeline({ partitions: options.partitions, dimensions: DIMENSIONS, env: options.serviceEnv });
  const tracker = new IndexedTracker(pipeline.kafka, STACK.registryUrl, pipeline.topics.events);
  let producer: DocumentProducer | undefined;
  try {
    await pipeline.provision();
    await tracker.start();
    const names: ServiceName[] = ['indexer', 'embedder', 'chunker', 'gateway'];
    for (const name of names) await pipeline.startService(name);
    await pipeline.waitForStableGroup('chunker', 1);
    const idleRss: Record<string, number> = {};
    for (const name of names) idleRss[name] = round((await rssMiB(pipeline.service(name).pid)) ?? 0);
    log('pipeline: services ready');
    // The services consume as the fill proceeds; the rate is taken from the first INDEXED on,
    // and the fill (tens of MB/s) outpaces the pipeline by far.
    producer = await DocumentProducer.connect(pipeline.kafka, STACK.registryUrl, pipeline.topics.documents);
    const pids = {
      ...Object.fromEntries(names.map((name) => [name, pipeline.service(name).pid ?? 0])),
      ...stackPids(STACK_DIR),
      bench: process.pid,
    };
    const window = await MeasuredWindow.start(pipeline, pids);
    const now = Date.now();
    await producer.fill(corpus.map((d) => resubmit(d, `fill-${d.documentId}`, now)));
    log(`pipeline: filled ${corpus.length} documents into ${pipeline.topics.documents}`);
    const ids = corpus.map((d) => `fill-${d.documentId}`);
    await tracker.waitUntil(ids, 'indexed', options.drainTimeoutMs);
    const { cpu, slices } = await window.stop(corpus.length);
    const throughput = throughputOf(ids, tracker.docs);
    log(
      `pipeline: ${round(cpu.coresBusy, 2)} cores busy; CPU ms/document ${JSON.stringify(cpu.msPerDocument)}; records/slice ${describeSlices(slices)}`,
    );
    log(`pipeline: ${throughput.documentsPerSec} docs/s, ${throughput.chunksPerSec} chunks/s over ${throughput.seconds} s`);

    const latency: LatencyResult[] = [];
    for (const fraction of options.loadFractions) {
      const rate = Math.max(0.5, throughput.documentsPerSec * fraction);
      latency.push(await openLoopRun(producer, tracker, corpus, fraction, rate, options, () => MeasuredWindow.start(pipeline, pids)));
      const l = latency[latency.length - 1];
      log(
        `pipeline: ${fraction * 100}% load (${round(rate)} docs/s): p50 ${l.p50Ms} ms, p95 ${l.p95Ms} ms, p99 ${l.p99Ms} ms, ${l.completed}/${l.submitted} indexed; p50/p99 submitted → chunked ${l.segments?.chunk.join('/')} ms, → searchable ${l.segments?.embedIndex.join('/')} ms, → event received ${l.segments?.notify.join('/')} ms; ${round(l.cpu?.coresBusy ?? 0, 2)} cores busy, CPU ms/document ${JSON.stringify(l.cpu?.msPerDocument)}; records/slice ${describeSlices(l.slices)}`,
      );
    }

    const peakRss: Record<string, number> = {};
    for (const name of names) peakRss[name] = round((await peakRssMiB(pipeline.service(name).pid)) ?? 0);
    return {
      partitions: options.partitions,
      throughput,
      latency,
      peakRssMiB: peakRss,
      idleRssMiB: idleRss,
      cpu,
      slices,
    };
  } finally {
    await tracker.stop().catch(() => undefined);
    await producer?.close().catch(() => undefined);
    await pipeline.stop().catch(() => undefined);
  }
}

/**
 * Open loop: documents are sent on a fixed schedule whatever the pipeline does, and each is
 * stamped with its scheduled time, so queueing anywhere (even in our producer) counts as
 * latency (no coordinated omission). Latency = submittedAt → the bench receives the INDEXED
 * event that completes the document.
 */
async function openLoopRun(
  producer: DocumentProducer,
  tracker: IndexedTracker,
  corpus: DocumentSubmitted[],
  fraction: number,
  rate: number,
  options: PipelineBenchOptions,
  measure: () => Promise<MeasuredWindow>,
): Promise<LatencyResult> {
  const count = Math.max(3, Math.round(rate * options.latencySeconds));
  // Warm-up at the same rate, excluded from the percentiles (as load tests do): the pipeline
  // reaches the steady state of this rate, not the aftermath of the previous run.
  const warmup = Math.round(rate * options.warmupSeconds);
  const tag = `load${Math.round(fraction * 100)}`;
  const ids: string[] = [];
  const sends: Promise<unknown>[] = [];
  const start = Date.now() + 50;
  let measuredFrom = start;
  let window: MeasuredWindow | undefined;
  for (let i = 0; i < warmup + count; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    const id = i < warmup ? `${tag}-warmup-${i}` : `${tag}-${i - warmup}`;
    if (i === warmup) {
      measuredFrom = due;
      window = await measure();
    }
    if (i >= warmup) ids.push(id);
    sends.push(producer.send(resubmit(corpus[i % corpus.length], id, Math.round(due))));
  }
  await Promise.all(sends);
  const sendSeconds = (Date.now() - measuredFrom) / 1000;
  await tracker.waitUntil(ids, 'indexed', options.drainTimeoutMs);
  const measured = await window?.stop(count);
  const latencies = ids
    .map((id) => tracker.docs.get(id))
    .filter(
      (d): d is DocumentProgress & { receivedAt: number; submittedAt: number } =>
        d?.receivedAt !== undefined && d.submittedAt !== undefined,
    )
    .map((d) => d.receivedAt - d.submittedAt);
  const done = ids
    .map((id) => tracker.docs.get(id))
    .filter(
      (d): d is DocumentProgress & { receivedAt: number; submittedAt: number; chunked: number; doneAt: number } =>
        d?.receivedAt !== undefined && d.submittedAt !== undefined && d.chunked !== undefined && d.doneAt !== undefined,
    );
  const spread = (values: number[]): [number, number] => [percentile(values, 50), percentile(values, 99)];
  return {
    segments: {
      chunk: spread(done.map((d) => d.chunked - d.submittedAt)),
      embedIndex: spread(done.map((d) => d.doneAt - d.chunked)),
      notify: spread(done.map((d) => d.receivedAt - d.doneAt)),
    },
    ...measured,
    loadFraction: fraction,
    targetDocsPerSec: round(rate),
    achievedDocsPerSec: round(count / Math.max(sendSeconds, 0.001)),
    submitted: count,
    completed: latencies.length,
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    p99Ms: percentile(latencies, 99),
    maxMs: percentile(latencies, 100),
  };
}

export const CONSUMER_STAGES: ServiceName[] = ['chunker', 'embedder', 'indexer'];

/**
 * CPU of every process and the slices each stage handled over one measured stretch: a backlog
 * fills whole fetches, a steady trickle hands the stages small slices whose fixed costs (produce,
 * commit, bulk, refresh wait) are paid per few records.
 */
class MeasuredWindow {
  private constructor(
    private readonly pipeline: BenchPipeline,
    private readonly cpu: CpuWindow,
    private readonly before: SliceCounters,
  ) {}

  static async start(pipeline: BenchPipeline, pids: Record<string, number>): Promise<MeasuredWindow> {
    return new MeasuredWindow(pipeline, new CpuWindow(pids).start(), await sliceCounters(pipeline));
  }

  async stop(documents: number): Promise<{ cpu: CpuUse & { msPerDocument: Record<string, number> }; slices: SliceSizes }> {
    const use = this.cpu.stop();
    const after = await sliceCounters(this.pipeline);
    const slices: SliceSizes = {};
    for (const [stage, end] of Object.entries(after)) {
      const count = end.count - (this.before[stage]?.count ?? 0);
      const records = end.sum - (this.before[stage]?.sum ?? 0);
      slices[stage] = { slices: count, recordsPerSlice: round(records / Math.max(count, 1)) };
    }
    return { cpu: { ...use, msPerDocument: msPerDocument(use.cpuSeconds, documents) }, slices };
  }
}

type SliceCounters = Record<string, { count: number; sum: number }>;

/** `rag_stage_batch_records` count and sum of each consumer stage, read from its /metrics. */
async function sliceCounters(pipeline: BenchPipeline): Promise<SliceCounters> {
  const counters: SliceCounters = {};
  for (const stage of CONSUMER_STAGES) {
    const metrics = await scrape(pipeline.service(stage).url);
    counters[stage] = {
      count: sumMetric(metrics, 'rag_stage_batch_records_count', { stage }),
      sum: sumMetric(metrics, 'rag_stage_batch_records_sum', { stage }),
    };
  }
  return counters;
}

export const describeSlices = (slices: SliceSizes | undefined): string =>
  slices
    ? Object.entries(slices)
        .map(([stage, s]) => `${stage} ${s.recordsPerSlice} (${s.slices} slices)`)
        .join(', ')
    : '–';
