import { measureParseThroughput, parseThroughputMarkdown } from './parse-formats';
import { measureVectorIndexTypes, vectorIndexMarkdown } from './vector-index';
import { Command } from 'commander';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseWorkerConfigs, runBaseline } from './baseline';
import { chunkEmbedCeiling, elasticsearchCeiling, kafkaCeiling } from './ceilings';
import { DIMENSIONS } from './chunk-embed';
import { generateCorpus } from './corpus';
import { runPipelineBench } from './pipeline-bench';
import { evaluateTargets, ratio, scalingMarkdown, toMarkdown, type BenchReport } from './report';
import { peersMarkdown, runPeers, type PeersResult } from './peers';
import { rateLimitMarkdown, runRateLimits, type RateLimitScenario } from './rate-limits';
import { runScaling } from './scaling';
import { runStageBenches } from './stage-bench';
import { round } from './stats';
import { STACK } from '@rag/testkit';
import type { ServiceName } from '@rag/testkit';
import { ContractSerde } from '@rag/contracts';

const ROOT = join(__dirname, '..', '..');

const list = (s: string) => s.split(',').map(Number);
const SERVICES: ServiceName[] = ['gateway', 'chunker', 'embedder', 'indexer'];

async function main(): Promise<void> {
  const program = new Command()
    .name('bench')
    .description('Throughput, latency and scaling of the pipeline, beside raw Kafka/ES ceilings and a BullMQ queue-worker baseline.')
    .option('--smoke', 'a tiny, quick run (for the integration test)', false)
    .option('--documents <n>', 'corpus size', Number)
    .option('--min-bytes <n>', 'smallest document', Number, 2_000)
    .option('--max-bytes <n>', 'largest document', Number, 20_000)
    .option('--seed <n>', 'corpus seed', Number, 42)
    .option('--partitions <n>', 'partitions per topic (the provisioning default; 1, 2 and 3 embedders get equal shares)', Number, 6)
    .option('--loads <fractions>', 'open-loop loads, fractions of the measured maximum', '0.25,0.5,1')
    .option('--latency-seconds <s>', 'duration of each open-loop run (measured)', Number)
    .option('--warmup-seconds <s>', 'warm-up at the same rate before each open-loop run, not measured', Number)
    .option('--baseline-workers <list>', 'BullMQ configs tried, PROCESSESxCONCURRENCY', undefined)
    .option('--baseline-documents <n>', 'documents per baseline trial', Number)
    .option('--embedders <list>', 'embedder instance counts for the scaling runs', undefined)
    .option('--scaling-documents <n>', 'documents per scaling run', Number)
    .option('--scaling-latency-ms <ms>', 'fake provider latency per request', Number, 100)
    .option(
      '--scaling-max-inputs <n>',
      'OPENAI_MAX_INPUTS_PER_REQUEST in the scaling runs (small enough that the provider is the bottleneck)',
      Number,
      32,
    )
    .option('--batching-max-inputs <n>', 'OPENAI_MAX_INPUTS_PER_REQUEST in the batching-under-load run (the embedder default)', Number, 512)
    .option('--chunker-batch <n>', 'chunker STAGE_MAX_BATCH_RECORDS (default: the service default)', Number)
    .option('--embedder-batch <n>', 'embedder STAGE_MAX_BATCH_RECORDS (default: the service default)', Number)
    .option(
      '--node-options <flags>',
      "NODE_OPTIONS of the services (default: the container image's heap settings, deploy/node-options)",
      readFileSync(join(ROOT, 'deploy', 'node-options'), 'utf8').trim(),
    )
    .option(
      '--service-env <assignment>',
      'extra environment for the services, [service:]KEY=VALUE (repeatable; recorded in the report)',
      (value: string, all: string[]) => [...all, value],
      [] as string[],
    )
    .option(
      '--only <section>',
      'run only this section ("scaling", "pipeline", "stages", "rate-limits", "peers", "formats" or "vector-index"), written to <out>/<section>-<timestamp>.json/.md',
    )
    .option('--cpu-prof-dir <dir>', 'CPU-profile the services (inspector), <pid>-<service>.cpuprofile written here on exit')
    .option('--out <dir>', 'results directory', join(ROOT, 'bench', 'results'))
    .parse();
  const o = program.opts();
  const smoke: boolean = o.smoke;
  const documents: number = o.documents ?? (smoke ? 24 : 2_000);
  const opts = {
    documents,
    minBytes: o.minBytes as number,
    maxBytes: (o.maxBytes as number) ?? 20_000,
    seed: o.seed as number,
    partitions: o.partitions as number,
    loads: list(o.loads),
    latencySeconds: (o.latencySeconds as number | undefined) ?? (smoke ? 2 : 20),
    warmupSeconds: (o.warmupSeconds as number | undefined) ?? (smoke ? 1 : 5),
    baselineWorkers: (o.baselineWorkers as string | undefined) ?? (smoke ? '1x2' : '1x1,1x4,1x16,2x4,2x16'),
    baselineDocuments: (o.baselineDocuments as number | undefined) ?? Math.min(documents, smoke ? documents : 800),
    embedders: list((o.embedders as string | undefined) ?? (smoke ? '1,2' : '1,2,3')),
    scalingDocuments: (o.scalingDocuments as number | undefined) ?? Math.min(documents, smoke ? documents : 1_000),
    scalingLatencyMs: o.scalingLatencyMs as number,
    scalingMaxInputs: o.scalingMaxInputs as number,
    batchingMaxInputs: o.batchingMaxInputs as number,
    serviceEnv: {
      ...(o.chunkerBatch !== undefined && { chunker: { STAGE_MAX_BATCH_RECORDS: String(o.chunkerBatch) } }),
      ...(o.embedderBatch !== undefined && { embedder: { STAGE_MAX_BATCH_RECORDS: String(o.embedderBatch) } }),
    } as Partial<Record<ServiceName, Record<string, string>>>,
  };
  const out = resolve(o.out as string);
  const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
  const startedAt = new Date().toISOString();
  const loadAverageAtStart = loadavg().map((l) => round(l, 2));
  /** Writes one section's report (`--only`): <out>/<section>-<timestamp>.json/.md, and prints it. */
  const writeSection = (section: string, title: string, markdownLines: string[], data: Record<string, unknown>) => {
    const stamp = startedAt.replace(/[:.]/g, '-');
    const loadAtEnd = loadavg().map((l) => round(l, 2));
    const header = `# ${title} ${startedAt}: load average at start ${loadAverageAtStart.join(' / ')}, at the end ${loadAtEnd.join(' / ')}`;
    const markdown = [header, '', ...markdownLines].join('\n');
    mkdirSync(out, { recursive: true });
    writeFileSync(
      join(out, `${section}-${stamp}.json`),
      JSON.stringify({ startedAt, loadAverageAtStart, options: opts, ...data }, null, 2),
    );
    writeFileSync(join(out, `${section}-${stamp}.md`), markdown);
    console.log(`\n${markdown}`);
  };

  const sections = ['scaling', 'pipeline', 'stages', 'rate-limits', 'peers', 'formats', 'vector-index'];
  if (o.only !== undefined && !sections.includes(o.only as string))
    throw new Error(`--only supports ${sections.map((x) => `"${x}"`).join(', ')}, not "${o.only}"`);
  if (o.only === 'vector-index') {
    const stackDir = process.env.STACK_DIR ?? join(__dirname, '..', '..', '.stack');
    const vectorIndex = await measureVectorIndexTypes(smoke ? 20 : ((o.documents as number | undefined) ?? 1_000), stackDir);
    writeSection('vector-index', 'Vector index options: indexing cost and recall', vectorIndexMarkdown(vectorIndex), { vectorIndex });
    return;
  }
  if (o.only === 'formats') {
    const formats = await measureParseThroughput(smoke ? 3 : 40);
    writeSection('formats', 'Parse throughput per format (one thread)', parseThroughputMarkdown(formats), { formats });
    return;
  }
  for (const name of SERVICES) opts.serviceEnv[name] = { ...opts.serviceEnv[name], NODE_OPTIONS: o.nodeOptions as string };
  for (const assignment of o.serviceEnv as string[]) {
    const match = /^(?:(gateway|chunker|embedder|indexer):)?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(assignment);
    if (!match) throw new Error(`--service-env wants [service:]KEY=VALUE, got "${assignment}"`);
    const [, service, key, value] = match;
    for (const name of service ? [service as ServiceName] : SERVICES) opts.serviceEnv[name] = { ...opts.serviceEnv[name], [key]: value };
  }
  if (o.cpuProfDir) {
    mkdirSync(resolve(o.cpuProfDir as string), { recursive: true });
    // Node refuses --cpu-prof in NODE_OPTIONS; a preloaded module profiles through the inspector.
    for (const name of SERVICES) {
      const nodeOptions = `${opts.serviceEnv[name]?.NODE_OPTIONS ?? ''} --require ${join(__dirname, 'cpu-profile-preload.js')}`.trim();
      opts.serviceEnv[name] = { ...opts.serviceEnv[name], BENCH_CPU_PROF_DIR: resolve(o.cpuProfDir as string), NODE_OPTIONS: nodeOptions };
    }
  }
  log(`load average ${loadAverageAtStart.join(' ')}; ${JSON.stringify(opts)}`);
  const corpus = generateCorpus({ documents: opts.documents, minBytes: opts.minBytes, maxBytes: opts.maxBytes, seed: opts.seed });
  const megabytes = round(corpus.reduce((n, d) => n + d.content.length, 0) / 1e6, 2);

  const pipelineOptions = {
    corpus,
    partitions: opts.partitions,
    loadFractions: opts.loads,
    latencySeconds: opts.latencySeconds,
    warmupSeconds: opts.warmupSeconds,
    drainTimeoutMs: smoke ? 120_000 : 300_000,
    serviceEnv: opts.serviceEnv,
    log,
  };
  if (o.only === 'pipeline') {
    const pipeline = await runPipelineBench(pipelineOptions);
    const stamp = startedAt.replace(/[:.]/g, '-');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, `pipeline-${stamp}.json`), JSON.stringify({ startedAt, loadAverageAtStart, options: opts, pipeline }, null, 2));
    console.log(JSON.stringify(pipeline, null, 2));
    return;
  }
  if (o.only === 'stages') {
    const embed = await chunkEmbedCeiling(corpus, DIMENSIONS);
    const stages = await runStageBenches({
      corpus,
      embedded: embed.chunks,
      partitions: opts.partitions,
      drainTimeoutMs: 300_000,
      serviceEnv: opts.serviceEnv,
      log,
    });
    // The ceiling after the stages (the index as warm as theirs), for a ratio from one run.
    const es = await elasticsearchCeiling(embed.chunks, corpus.length, DIMENSIONS);
    const indexer = stages.find((s) => s.stage === 'indexer')!;
    log(`ceiling: ES bulk ${es.chunksPerSec} chunks/s; indexer alone ${round(indexer.recordsPerSec / es.chunksPerSec, 2)}x of it`);
    console.log(JSON.stringify({ stages, elasticsearchCeiling: es }, null, 2));
    return;
  }
  if (o.only === 'peers') {
    const peers = await runPeers({
      corpus: corpus.slice(0, smoke ? documents : 1_000),
      latencyMs: 100,
      partitions: opts.partitions,
      drainTimeoutMs: 600_000,
      serviceEnv: opts.serviceEnv,
      log,
    });
    writeSection('peers', 'Peers only', peersMarkdown(peers), { peers });
    return;
  }
  if (o.only === 'rate-limits') {
    const scenarios = await runRateLimits({
      corpus: corpus.slice(0, smoke ? documents : 1_000),
      tokenBoundDocuments: smoke ? documents : 600,
      baselineDocuments: smoke ? 10 : 100,
      embedders: 2,
      partitions: opts.partitions,
      drainTimeoutMs: 600_000,
      serviceEnv: opts.serviceEnv,
      log,
    });
    writeSection('rate-limits', 'Rate-limited provider only', rateLimitMarkdown(scenarios), { scenarios });
    return;
  }
  if (o.only === 'scaling') {
    const subset = corpus.slice(0, opts.scalingDocuments);
    const { chunks } = await chunkEmbedCeiling(subset, DIMENSIONS);
    const scaling = await runScaling({
      corpus: subset,
      chunks: chunks.map(({ embedding: _e, model: _m, ...chunk }) => chunk),
      embedderCounts: opts.embedders,
      partitions: opts.partitions,
      latencyMs: opts.scalingLatencyMs,
      maxInputsPerRequest: opts.scalingMaxInputs,
      batchingMaxInputs: opts.batchingMaxInputs,
      drainTimeoutMs: 300_000,
      serviceEnv: opts.serviceEnv,
      log,
    });
    writeSection('scaling', `Scaling only (${subset.length} documents, ${chunks.length} chunks)`, [...scalingMarkdown(scaling), ''], {
      scaling,
    });
    return;
  }

  // Ceilings first (a quiet stack), then the pipeline, the baseline and the scaling runs.
  const embed = await chunkEmbedCeiling(corpus, DIMENSIONS);
  log(`ceiling: extract+split+embed in-process ${embed.result.documentsPerSec} docs/s (${embed.result.chunks} chunks)`);
  const es = await elasticsearchCeiling(embed.chunks, corpus.length, DIMENSIONS);
  log(`ceiling: ES bulk ${es.chunksPerSec} chunks/s = ${es.documentsPerSec} docs/s`);
  const serde = ContractSerde.connect(STACK.registryUrl);
  await serde.registerWriter('DocumentSubmitted', 'bench.raw');
  const records = corpus.map((d) => serde.encode('DocumentSubmitted', { ...d, submittedAt: Date.now() }));
  const kafka = await kafkaCeiling(records, opts.partitions);
  log(`ceiling: kafka ${kafka.documentsPerSec} docs/s (${kafka.megabytesPerSec} MB/s)`);

  const pipeline = await runPipelineBench(pipelineOptions);
  const stages = await runStageBenches({
    corpus,
    embedded: embed.chunks,
    partitions: opts.partitions,
    drainTimeoutMs: smoke ? 120_000 : 300_000,
    serviceEnv: opts.serviceEnv,
    log,
  });
  const baseline = await runBaseline(corpus.slice(0, opts.baselineDocuments), parseWorkerConfigs(opts.baselineWorkers), DIMENSIONS, log);
  const scalingIds = new Set(corpus.slice(0, opts.scalingDocuments).map((d) => d.documentId));
  const scaling = await runScaling({
    corpus: corpus.slice(0, opts.scalingDocuments),
    chunks: embed.chunks.filter((c) => scalingIds.has(c.documentId)).map(({ embedding: _e, model: _m, ...chunk }) => chunk),
    embedderCounts: opts.embedders,
    partitions: opts.partitions,
    latencyMs: opts.scalingLatencyMs,
    maxInputsPerRequest: opts.scalingMaxInputs,
    batchingMaxInputs: opts.batchingMaxInputs,
    drainTimeoutMs: smoke ? 120_000 : 300_000,
    serviceEnv: opts.serviceEnv,
    log,
  });

  // Full runs compare with the tools users would pick instead, in the same run (a few minutes more).
  let peers: PeersResult | undefined;
  let rateLimits: RateLimitScenario[] | undefined;
  if (!smoke) {
    peers = await runPeers({
      corpus: corpus.slice(0, 1_000),
      latencyMs: 100,
      partitions: opts.partitions,
      drainTimeoutMs: 600_000,
      serviceEnv: opts.serviceEnv,
      log,
    });
    rateLimits = await runRateLimits({
      corpus: corpus.slice(0, 1_000),
      tokenBoundDocuments: 600,
      baselineDocuments: 100,
      embedders: 2,
      partitions: opts.partitions,
      drainTimeoutMs: 600_000,
      serviceEnv: opts.serviceEnv,
      log,
    });
  }

  const minCeiling = Math.min(kafka.documentsPerSec, es.documentsPerSec);
  const partial: Omit<BenchReport, 'targets' | 'finishedAt'> = {
    startedAt,
    mode: smoke ? 'smoke' : 'full',
    machine: {
      cpus: cpus().length,
      loadAverageAtStart,
      loadAverageAtEnd: loadavg().map((l) => round(l, 2)),
      totalMemMiB: Math.round(totalmem() / 2 ** 20),
      node: process.version,
    },
    options: opts,
    corpus: {
      documents: corpus.length,
      megabytes,
      minBytes: opts.minBytes,
      maxBytes: opts.maxBytes,
      seed: opts.seed,
      chunks: embed.result.chunks,
      chunksPerDocument: round(embed.result.chunks / corpus.length, 2),
    },
    pipeline,
    stages,
    ceilings: { kafka, elasticsearch: es, chunkEmbedOneCore: embed.result, minDocumentsPerSec: minCeiling },
    baseline,
    scaling,
    peers,
    rateLimits,
    ratios: {
      pipelineOverMinCeiling: ratio(pipeline.throughput.documentsPerSec, minCeiling),
      pipelineOverBaseline: ratio(pipeline.throughput.documentsPerSec, baseline.best.documentsPerSec),
    },
  };
  const report: BenchReport = { ...partial, finishedAt: new Date().toISOString(), targets: evaluateTargets(partial) };
  mkdirSync(out, { recursive: true });
  const stamp = startedAt.replace(/[:.]/g, '-');
  const markdown = toMarkdown(report);
  writeFileSync(join(out, `${stamp}.json`), JSON.stringify(report, null, 2));
  writeFileSync(join(out, `${stamp}.md`), markdown);
  writeFileSync(join(out, 'latest.md'), markdown);
  writeFileSync(join(out, 'latest.json'), JSON.stringify(report, null, 2));
  console.log(`\n${markdown}`);
  log(`wrote ${join(out, `${stamp}.json`)} and ${join(out, 'latest.md')}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
