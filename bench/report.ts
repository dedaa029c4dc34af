import type { BaselineResult } from './baseline';
import type { ElasticsearchCeiling, EmbedCeiling, KafkaCeiling } from './ceilings';
import { peersMarkdown, type PeersResult } from './peers';
import { CONSUMER_STAGES, type PipelineBenchResult } from './pipeline-bench';
import { rateLimitMarkdown, type RateLimitScenario } from './rate-limits';
import type { ScalingResult } from './scaling';
import type { StageThroughput } from './stage-bench';
import { round } from './stats';

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  mode: 'full' | 'smoke';
  machine: { cpus: number; loadAverageAtStart: number[]; loadAverageAtEnd: number[]; totalMemMiB: number; node: string };
  options: Record<string, unknown>;
  corpus: {
    documents: number;
    megabytes: number;
    minBytes: number;
    maxBytes: number;
    seed: number;
    chunks: number;
    chunksPerDocument: number;
  };
  pipeline: PipelineBenchResult;
  stages: StageThroughput[];
  ceilings: { kafka: KafkaCeiling; elasticsearch: ElasticsearchCeiling; chunkEmbedOneCore: EmbedCeiling; minDocumentsPerSec: number };
  baseline: BaselineResult;
  scaling: ScalingResult;
  /** Full runs only: the peers and the rate-limited provider, in the same run. */
  peers?: PeersResult;
  rateLimits?: RateLimitScenario[];
  ratios: { pipelineOverMinCeiling: number; pipelineOverBaseline: number };
  targets: Target[];
}

export interface Target {
  name: string;
  target: string;
  actual: string;
  met: boolean;
}

export function evaluateTargets(r: Omit<BenchReport, 'targets' | 'finishedAt'>): Target[] {
  const half = r.pipeline.latency.find((l) => l.loadFraction === 0.5) ?? r.pipeline.latency[Math.floor(r.pipeline.latency.length / 2)];
  const chunksPerRequest = r.scaling.batching.chunksPerRequestMean;
  const rss = Object.entries(r.pipeline.peakRssMiB);
  const maxRss = Math.max(...rss.map(([, v]) => v));
  const complete = half ? half.completed === half.submitted : false;
  const indexer = r.stages.find((s) => s.stage === 'indexer');
  const indexerOverBulk = indexer ? round(indexer.documentsPerSec / r.ceilings.elasticsearch.documentsPerSec, 2) : undefined;
  const targets: Target[] = [
    {
      name: 'end-to-end vs BullMQ baseline, offline embedder (documents/s)',
      target: '≥ 1.5×',
      actual: `${r.ratios.pipelineOverBaseline}×`,
      met: r.ratios.pipelineOverBaseline >= 1.5,
    },
    ...Object.entries(r.scaling.speedup)
      .filter(([n]) => Number(n) > 1)
      .map(([n, speedup]) => ({
        name: `${n} embedders vs 1 (provider-bound)`,
        target: `≥ ${round(0.9 * Number(n), 2)}× (0.9·N)`,
        actual: `${speedup}×`,
        met: speedup >= 0.9 * Number(n),
      })),
    {
      name: 'indexer alone vs ES `_bulk` ceiling',
      target: '≥ 0.9×',
      actual: indexerOverBulk === undefined ? 'n/a' : `${indexerOverBulk}×`,
      met: indexerOverBulk !== undefined && indexerOverBulk >= 0.9,
    },
    {
      name: 'p99 submission → searchable at 50 % load',
      target: '≤ 2000 ms',
      actual: half ? `${half.p99Ms} ms${complete ? '' : ` (${half.completed}/${half.submitted} indexed)`}` : 'n/a',
      met: !!half && complete && half.p99Ms <= 2000,
    },
    { name: 'peak RSS per service', target: '< 250 MiB', actual: rss.map(([k, v]) => `${k} ${v}`).join(', '), met: maxRss < 250 },
    {
      name: `chunks per provider request under load (mean, 1 embedder, ≤ ${r.scaling.batching.maxInputsPerRequest}/request)`,
      target: '≥ 64',
      actual: String(chunksPerRequest),
      met: chunksPerRequest >= 64,
    },
  ];
  if (r.peers) {
    targets.unshift({
      name: `vs LlamaIndex's best (${r.peers.bestLlamaIndex.design.replace('LlamaIndex IngestionPipeline, ', '')}), provider at ${r.peers.latencyMs} ms/request`,
      target: '≥ 2×',
      actual: `${r.peers.ratio}× (${r.peers.pipeline.documentsPerSec} vs ${r.peers.bestLlamaIndex.documentsPerSec} documents/s)`,
      met: r.peers.ratio >= 2,
    });
  }
  for (const scenario of r.rateLimits ?? []) {
    const pipeline = scenario.runs.find((run) => run.design.startsWith('pipeline') && run.design.includes('adaptive'));
    const bullmq = scenario.runs.find((run) => run.design.startsWith('BullMQ'));
    if (!pipeline || !bullmq) continue;
    if (scenario.name.startsWith('request-bound')) {
      const ratio = round(pipeline.documentsPerSec / bullmq.documentsPerSec, 2);
      targets.push({ name: `vs BullMQ, ${scenario.name}`, target: '≥ 3×', actual: `${ratio}×`, met: ratio >= 3 });
    } else {
      const used = pipeline.tokenBudgetUsed ?? 0;
      targets.push({
        name: `rate limits used, not fought (${scenario.name}): token budget used, requests answered 429`,
        target: '≥ 90 %, < 1 %',
        actual: `${Math.round(used * 100)} %, ${round(pipeline.rateLimitedShare * 100, 1)} %`,
        met: used >= 0.9 && pipeline.rateLimitedShare < 0.01,
      });
    }
  }
  return targets;
}

export function toMarkdown(r: BenchReport): string {
  const p = r.pipeline;
  const lines: string[] = [];
  lines.push(`# Benchmark ${r.startedAt} (${r.mode})`, '');
  lines.push(
    `Machine: ${r.machine.cpus} CPUs, load average at start ${r.machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(' / ')} (1/5/15 min), at the end ${r.machine.loadAverageAtEnd.map((l) => l.toFixed(2)).join(' / ')}; Node ${r.machine.node}.`,
  );
  lines.push(
    `Corpus: ${r.corpus.documents} documents, ${r.corpus.megabytes} MB (${r.corpus.minBytes}–${r.corpus.maxBytes} bytes, seed ${r.corpus.seed}), ${r.corpus.chunks} chunks (${r.corpus.chunksPerDocument}/document). Topics: ${p.partitions} partitions.`,
    '',
  );
  lines.push('## Throughput (documents pre-filled, first → last INDEXED)', '');
  lines.push('| system | documents/s | chunks/s | notes |', '|---|---:|---:|---|');
  lines.push(
    `| **pipeline** (4 services, hashing embedder) | **${p.throughput.documentsPerSec}** | **${p.throughput.chunksPerSec}** | ${p.throughput.documents} docs in ${p.throughput.seconds} s, ${p.throughput.failed} failed, ${p.throughput.incomplete} incomplete |`,
  );
  lines.push(
    `| ceiling: raw kafkajs produce+consume | ${r.ceilings.kafka.documentsPerSec} | – | ${r.ceilings.kafka.megabytesPerSec} MB/s, idempotent acks=all, 1 group |`,
  );
  lines.push(
    `| ceiling: raw ES \`_bulk\` (same vectors, mapping) | ${r.ceilings.elasticsearch.documentsPerSec} | ${r.ceilings.elasticsearch.chunksPerSec} | bulk ${r.ceilings.elasticsearch.bulkSize}, concurrency ${r.ceilings.elasticsearch.concurrency} |`,
  );
  lines.push(
    `| info: extract+split+embed in-process, 1 core | ${r.ceilings.chunkEmbedOneCore.documentsPerSec} | ${r.ceilings.chunkEmbedOneCore.chunksPerSec} | CPU cost of the work itself |`,
  );
  for (const t of r.baseline.trials) {
    const best = t === r.baseline.best ? ' **(best)**' : '';
    lines.push(
      `| baseline: BullMQ ${t.processes} proc × concurrency ${t.concurrency}${best} | ${t.documentsPerSec} | ${t.chunksPerSec} | ${t.documents} docs, peak RSS ${t.peakRssMiB} MiB/worker |`,
    );
  }
  lines.push(
    '',
    `Pipeline ÷ min(ceilings) = **${r.ratios.pipelineOverMinCeiling}×**; pipeline ÷ best baseline = **${r.ratios.pipelineOverBaseline}×** (documents/s).`,
    '',
  );
  lines.push(...cpuMarkdown(r), '');
  lines.push(...stagesMarkdown(r), '');
  lines.push(
    `## Latency, open loop (submittedAt → INDEXED event received; ${String(r.options.warmupSeconds ?? 0)} s warm-up at each rate not measured)`,
    '',
  );
  lines.push(
    '| load | target docs/s | sent docs/s | indexed | p50 ms | p95 ms | p99 ms | max ms | p50/p99 → chunked | chunked → searchable | → event received |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  const segment = (v: [number, number] | undefined) => (v ? v.join(' / ') : '–');
  for (const l of p.latency)
    lines.push(
      `| ${Math.round(l.loadFraction * 100)} % | ${l.targetDocsPerSec} | ${l.achievedDocsPerSec} | ${l.completed}/${l.submitted} | ${l.p50Ms} | ${l.p95Ms} | ${l.p99Ms} | ${l.maxMs} | ${segment(l.segments?.chunk)} | ${segment(l.segments?.embedIndex)} | ${segment(l.segments?.notify)} |`,
    );
  lines.push('', ...loadCostMarkdown(p));
  lines.push('', ...scalingMarkdown(r.scaling));
  const services = Object.keys(p.peakRssMiB);
  lines.push(
    '',
    '## Memory per service, MiB',
    '',
    `| | ${services.join(' | ')} |`,
    `|---|${services.map(() => '---:').join('|')}|`,
    `| resident once ready (VmRSS) | ${services.map((s) => p.idleRssMiB?.[s] ?? '–').join(' | ')} |`,
    `| peak resident (VmHWM) | ${services.map((s) => p.peakRssMiB[s]).join(' | ')} |`,
  );
  if (r.peers) lines.push('', ...peersMarkdown(r.peers));
  if (r.rateLimits) lines.push('', ...rateLimitMarkdown(r.rateLimits));
  lines.push('', '## Targets', '', '| target | wanted | measured | met |', '|---|---|---|---|');
  for (const t of r.targets) lines.push(`| ${t.name} | ${t.target} | ${t.actual} | ${t.met ? 'yes' : '**no**'} |`);
  lines.push('');
  return lines.join('\n');
}

function stagesMarkdown(r: BenchReport): string[] {
  if (!r.stages?.length) return [];
  return [
    '## Each stage alone (input topic pre-filled, one instance, first commit → drained)',
    '',
    '| stage | input records | records/s | documents/s | peak RSS MiB |',
    '|---|---:|---:|---:|---:|',
    ...r.stages.map((s) => `| ${s.stage} | ${s.records} | ${s.recordsPerSec} | ${s.documentsPerSec} | ${s.peakRssMiB} |`),
  ];
}

/**
 * CPU per document of every process during the throughput run, and what the ceiling target
 * would take at the same cost per document: the arithmetic behind a missed throughput target.
 */
function cpuMarkdown(r: BenchReport): string[] {
  const cpu = r.pipeline.cpu;
  if (!cpu) return [];
  const names = Object.keys(cpu.msPerDocument);
  const totalMs = totalOf(cpu.msPerDocument);
  const wanted = 0.7 * r.ceilings.minDocumentsPerSec;
  return [
    '### CPU during the throughput run (from /proc, all processes on the machine that take part)',
    '',
    `| | ${names.join(' | ')} | total |`,
    `|---|${names.map(() => '---:').join('|')}|---:|`,
    `| CPU ms per document | ${names.map((n) => cpu.msPerDocument[n]).join(' | ')} | ${round(totalMs, 2)} |`,
    '',
    `${round(cpu.coresBusy, 2)} of ${r.machine.cpus} cores busy on average over ${round(cpu.wallSeconds, 1)} s. ` +
      `At these costs, 0.7 × the lower ceiling (${round(wanted)} documents/s) needs ${round((wanted * totalMs) / 1000, 2)} cores.`,
  ];
}

export function scalingMarkdown(scaling: ScalingResult): string[] {
  const lines: string[] = [];
  lines.push(
    `## Embedder scaling (OpenAI provider → fake server, ${scaling.latencyMs} ms/request, OPENAI_CONCURRENCY=1, ≤ ${scaling.maxInputsPerRequest} inputs/request, chunks topic pre-filled, embedders alone; rate = inputs the provider served per second, middle 80 %)`,
    '',
  );
  lines.push(
    '| embedders | documents/s | chunks/s | speedup | requests | chunks/request (mean, p50) | provider busy |',
    '|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const s of scaling.runs)
    lines.push(
      `| ${s.embedders} | ${s.documentsPerSec} | ${s.chunksPerSec} | ${scaling.speedup[String(s.embedders)]}× | ${s.providerRequests} | ${s.chunksPerRequestMean}, ${s.chunksPerRequestP50} | ${Math.round(s.providerBusyShare * 100)} % |`,
    );
  const b = scaling.batching;
  lines.push(
    '',
    `Batching under load (1 embedder, ≤ ${b.maxInputsPerRequest} inputs/request, ${scaling.latencyMs} ms/request, documents flowing through the live chunker): ${b.providerRequests} requests, **${b.chunksPerRequestMean} chunks/request** (p50 ${b.chunksPerRequestP50}), ${b.documentsPerSec} docs/s.`,
  );
  return lines;
}

export const ratio = (a: number, b: number): number => (b > 0 ? round(a / b, 2) : 0);

/**
 * What each document costs at each load: the backlog of the throughput run fills whole fetches,
 * a steady open-loop rate hands the stages small slices, so the same work costs more CPU.
 */
export function loadCostMarkdown(p: PipelineBenchResult): string[] {
  const rows = [
    { label: 'backlog (throughput run)', cpu: p.cpu, slices: p.slices },
    ...p.latency.map((l) => ({ label: `${Math.round(l.loadFraction * 100)} % load`, cpu: l.cpu, slices: l.slices })),
  ].filter((row) => row.cpu !== undefined);
  if (rows.length === 0) return [];
  const names = Object.keys(rows[0].cpu!.msPerDocument);
  const perSlice = (row: (typeof rows)[number], stage: string) => (row.slices?.[stage] ? String(row.slices[stage].recordsPerSlice) : '–');
  return [
    '### CPU and slice sizes by load (same processes as above; measured documents only)',
    '',
    `| run | cores busy | CPU ms/document | ${names.join(' | ')} | records/slice chunker / embedder / indexer |`,
    `|---|---:|---:|${names.map(() => '---:').join('|')}|---:|`,
    ...rows.map(
      (row) =>
        `| ${row.label} | ${round(row.cpu!.coresBusy, 2)} | ${round(totalOf(row.cpu!.msPerDocument), 2)} | ${names.map((n) => row.cpu!.msPerDocument[n] ?? '–').join(' | ')} | ${CONSUMER_STAGES.map((s) => perSlice(row, s)).join(' / ')} |`,
    ),
  ];
}

const totalOf = (values: Record<string, number>): number => Object.values(values).reduce((a, b) => a + b, 0);
