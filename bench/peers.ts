import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DocumentSubmitted } from '@rag/contracts';
import { FakeOpenAIServer, STACK, uniqueSuffix } from '@rag/testkit';
import { BenchPipeline, type BenchRunOptions } from './bench-pipeline';
import { DIMENSIONS } from './chunk-embed';
import { resubmit } from './corpus';
import { IndexedTracker, type DocumentProgress } from './indexed-tracker';
import { DocumentProducer } from './produce';
import { CpuWindow, msPerDocument, stackPids } from './cpu-accounting';
import { round } from './stats';

const STACK_DIR = process.env.STACK_DIR ?? join(__dirname, '..', '..', '.stack');

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

/** One ingestion of the whole corpus, submission to searchable. */
export interface PeerRun {
  design: string;
  documents: number;
  chunks: number;
  /** From the call (or the first record produced) until every chunk is searchable. */
  seconds: number;
  documentsPerSec: number;
  providerRequests: number;
  providerInputs: number;
  /**
   * CPU ms per document: the design's own processes (LlamaIndex: the Python process and its
   * workers, start-up included; pipeline: the three services), Elasticsearch, and Kafka.
   */
  cpuMsPerDocument: { own: number; elasticsearch: number; kafka: number };
}

export interface PeersResult {
  latencyMs: number;
  runs: PeerRun[];
  bestLlamaIndex: PeerRun;
  pipeline: PeerRun;
  /** Pipeline documents/s ÷ LlamaIndex's best. */
  ratio: number;
}

export interface PeersOptions extends BenchRunOptions {
  latencyMs: number;
}

/** LlamaIndex's execution modes tried: its default batch of 10 and a batch of 100, sync, async, a process pool. */
const LLAMAINDEX_CONFIGS = [
  { label: 'sync, embed batch 10 (default)', args: ['--mode', 'sync', '--embed-batch-size', '10'] },
  { label: 'sync, embed batch 100', args: ['--mode', 'sync', '--embed-batch-size', '100'] },
  { label: 'async, embed batch 100', args: ['--mode', 'async', '--embed-batch-size', '100'] },
  { label: 'num_workers=2, embed batch 100', args: ['--mode', 'workers', '--workers', '2', '--embed-batch-size', '100'] },
];

/**
 * The pipeline beside LlamaIndex's IngestionPipeline (Python, from PyPI in a virtualenv the bench
 * creates), same corpus, same Elasticsearch, same OpenAI-API test server with `latencyMs` per
 * request. Each design ingests the whole corpus at once; the rate is documents over submission →
 * searchable.
 */
export async function runPeers(options: PeersOptions): Promise<PeersResult> {
  const python = (await run('bash', [join(ROOT, 'bench', 'peers', 'ensure-llamaindex.sh')], { maxBuffer: 1 << 24 })).stdout.trim();
  const dir = mkdtempSync(join(tmpdir(), 'rag-bench-peers-'));
  const corpusFile = join(dir, 'corpus.jsonl');
  writeFileSync(
    corpusFile,
    options.corpus
      .map((d) => JSON.stringify({ documentId: d.documentId, title: d.title, text: d.content.toString('utf8'), metadata: d.metadata }))
      .join('\n') + '\n',
  );
  const runs: PeerRun[] = [];
  try {
    for (const config of LLAMAINDEX_CONFIGS) {
      runs.push(await llamaIndexRun(python, corpusFile, config, options.latencyMs));
      const r = runs[runs.length - 1];
      options.log(`peers: LlamaIndex ${config.label}: ${r.documentsPerSec} docs/s (${r.chunks} nodes, ${r.providerRequests} requests)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const pipeline = await pipelineRun(options, options.corpus);
  options.log(`peers: pipeline: ${pipeline.documentsPerSec} docs/s (${pipeline.chunks} chunks, ${pipeline.providerRequests} requests)`);
  runs.push(pipeline);
  const bestLlamaIndex = runs.filter((r) => r !== pipeline).reduce((a, b) => (b.documentsPerSec > a.documentsPerSec ? b : a));
  return {
    latencyMs: options.latencyMs,
    runs,
    bestLlamaIndex,
    pipeline,
    ratio: round(pipeline.documentsPerSec / bestLlamaIndex.documentsPerSec, 2),
  };
}

async function llamaIndexRun(
  python: string,
  corpusFile: string,
  config: (typeof LLAMAINDEX_CONFIGS)[number],
  latencyMs: number,
): Promise<PeerRun> {
  const fake = await FakeOpenAIServer.start({ latencyMs });
  const cpu = new CpuWindow(stackPids(STACK_DIR)).start();
  try {
    const index = `bench-llamaindex-${uniqueSuffix()}`;
    const { stdout } = await run(
      python,
      [
        join(ROOT, 'bench', 'peers', 'llamaindex_ingest.py'),
        '--corpus',
        corpusFile,
        '--es-url',
        STACK.elasticsearchUrl,
        '--index',
        index,
        '--openai-base',
        fake.baseURL,
        '--dimensions',
        String(DIMENSIONS),
        ...config.args,
      ],
      { maxBuffer: 1 << 24, timeout: 900_000 },
    );
    const line = stdout.split('\n').find((l) => l.startsWith('{'));
    if (!line) throw new Error(`LlamaIndex run printed no result: ${stdout.slice(-500)}`);
    const result = JSON.parse(line) as { documents: number; nodes: number; searchableSeconds: number; cpuSeconds: number };
    const stats = fake.stats;
    const stack = cpu.stop().cpuSeconds;
    return {
      design: `LlamaIndex IngestionPipeline, ${config.label}`,
      documents: result.documents,
      chunks: result.nodes,
      seconds: result.searchableSeconds,
      documentsPerSec: round(result.documents / result.searchableSeconds),
      providerRequests: stats.requests,
      providerInputs: stats.inputsPerRequest.reduce((a, b) => a + b, 0),
      cpuMsPerDocument: peerCpu(result.cpuSeconds, stack, result.documents),
    };
  } finally {
    await fake.close();
  }
}

export async function pipelineRun(options: PeersOptions, corpus: DocumentSubmitted[]): Promise<PeerRun> {
  const fake = await FakeOpenAIServer.start({ latencyMs: options.latencyMs });
  const pipeline = new BenchPipeline({
    partitions: options.partitions,
    dimensions: DIMENSIONS,
    env: {
      ...options.serviceEnv,
      embedder: { ...options.serviceEnv.embedder, EMBEDDING_PROVIDER: 'openai', OPENAI_BASE_URL: fake.baseURL, OPENAI_API_KEY: 'bench' },
    },
  });
  const tracker = new IndexedTracker(pipeline.kafka, STACK.registryUrl, pipeline.topics.events);
  let producer: DocumentProducer | undefined;
  try {
    await pipeline.provision();
    await tracker.start();
    for (const name of ['indexer', 'embedder', 'chunker'] as const) await pipeline.startService(name);
    await pipeline.waitForStableGroup('embedder', 1);
    producer = await DocumentProducer.connect(pipeline.kafka, STACK.registryUrl, pipeline.topics.documents);
    const ids = corpus.map((d) => `peer-${d.documentId}`);
    const requestsBefore = fake.stats.requests;
    const services = Object.fromEntries((['indexer', 'embedder', 'chunker'] as const).map((n) => [n, pipeline.service(n).pid ?? 0]));
    const cpu = new CpuWindow({ ...services, ...stackPids(STACK_DIR) }).start();
    const started = Date.now();
    await producer.fill(corpus.map((d, i) => resubmit(d, ids[i], Date.now())));
    const filled = Date.now();
    const pending = await tracker.waitUntil(ids, 'indexed', options.drainTimeoutMs);
    if (pending.length > 0) throw new Error(`${pending.length} documents not indexed`);
    // The INDEXED event is written after the chunks are searchable (refresh=wait_for).
    const last = Math.max(...ids.map((id) => tracker.docs.get(id)?.receivedAt ?? 0));
    const used = cpu.stop().cpuSeconds;
    const own = (['indexer', 'embedder', 'chunker'] as const).reduce((sum, n) => sum + (used[n] ?? 0), 0);
    options.log(`peers: pipeline CPU ms/document ${JSON.stringify(msPerDocument(used, ids.length))}`);
    const seconds = (last - started) / 1000;
    // Where the time goes: when the stages got through the corpus, relative to the first produce.
    const at = (pick: (d: DocumentProgress) => number | undefined) =>
      ids
        .map((id) => pick(tracker.docs.get(id)!) ?? NaN)
        .filter(Number.isFinite)
        .sort((a, b) => a - b)
        .map((t) => round((t - started) / 1000, 2));
    const span = (xs: number[]) => `${xs[0]} / ${xs[Math.floor(xs.length / 2)]} / ${xs[xs.length - 1]} s`;
    options.log(
      `peers: pipeline timeline (first / median / last, from the first produce): filled ${round((filled - started) / 1000, 2)} s; ` +
        `chunked ${span(at((d) => d.chunked))}; first chunks indexed ${span(at((d) => d.firstIndexedAt))}; complete ${span(at((d) => d.doneAt))}`,
    );
    const stats = fake.stats;
    return {
      design: 'rag-stream pipeline (chunker, 1 embedder, indexer)',
      documents: ids.length,
      chunks: ids.reduce((n, id) => n + (tracker.docs.get(id)?.chunkCount ?? 0), 0),
      seconds: round(seconds, 2),
      documentsPerSec: round(ids.length / seconds),
      providerRequests: stats.requests - requestsBefore,
      providerInputs: stats.inputsPerRequest.reduce((a, b) => a + b, 0),
      cpuMsPerDocument: peerCpu(own, used, ids.length),
    };
  } finally {
    await tracker.stop().catch(() => undefined);
    await producer?.close().catch(() => undefined);
    await pipeline.stop().catch(() => undefined);
    await fake.close();
  }
}

/** A design's own CPU and the shared stack's (Elasticsearch, Kafka), in ms per document. */
function peerCpu(ownSeconds: number, stack: Record<string, number>, documents: number): PeerRun['cpuMsPerDocument'] {
  const ms = msPerDocument({ own: ownSeconds, elasticsearch: stack.es ?? 0, kafka: stack.kafka ?? 0 }, documents);
  return { own: ms.own, elasticsearch: ms.elasticsearch, kafka: ms.kafka };
}

export function peersMarkdown(peers: PeersResult): string[] {
  return [
    `### Peers: submission → searchable, OpenAI-API test server at ${peers.latencyMs} ms per request`,
    '',
    '| design | documents/s | chunks | seconds | provider requests | inputs | CPU ms/document: own / ES / Kafka |',
    '|---|---|---|---|---|---|---|',
    ...peers.runs.map((r) => {
      const cpu = r.cpuMsPerDocument;
      return `| ${r.design} | ${r.documentsPerSec} | ${r.chunks} | ${r.seconds} | ${r.providerRequests} | ${r.providerInputs} | ${cpu.own} / ${cpu.elasticsearch} / ${cpu.kafka} |`;
    }),
    '',
    `Pipeline ÷ LlamaIndex's best (${peers.bestLlamaIndex.design}): **${peers.ratio}×** (target ≥ 2×: ${peers.ratio >= 2 ? 'met' : 'not met'}).`,
    '',
  ];
}
