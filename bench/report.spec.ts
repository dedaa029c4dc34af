import type { PipelineBenchResult } from './pipeline-bench';
import { evaluateTargets, loadCostMarkdown, type BenchReport } from './report';

type Partial = Omit<BenchReport, 'targets' | 'finishedAt'>;

/** A report with just the fields the targets read; `peers` and `rateLimits` as a full run has them. */
function report(overrides: { baselineRatio: number; peersRatio?: number; tokenBudgetUsed: number; share429: number }): Partial {
  return {
    pipeline: {
      latency: [{ loadFraction: 0.5, completed: 10, submitted: 10, p99Ms: 1900 }],
      peakRssMiB: { indexer: 240, chunker: 260 },
    },
    stages: [{ stage: 'indexer', documentsPerSec: 95 }],
    ceilings: { elasticsearch: { documentsPerSec: 100 } },
    scaling: { speedup: { '1': 1, '2': 1.85, '3': 2.6 }, batching: { chunksPerRequestMean: 300, maxInputsPerRequest: 512 } },
    ratios: { pipelineOverBaseline: overrides.baselineRatio, pipelineOverMinCeiling: 0.3 },
    peers:
      overrides.peersRatio === undefined
        ? undefined
        : {
            latencyMs: 100,
            ratio: overrides.peersRatio,
            pipeline: { documentsPerSec: 250 },
            bestLlamaIndex: { design: 'LlamaIndex IngestionPipeline, async, embed batch 100', documentsPerSec: 125 },
          },
    rateLimits: [
      {
        name: 'request-bound: 300 requests/minute, 200 ms per request',
        runs: [
          { design: 'pipeline (1 embedder, adaptive pacing)', documentsPerSec: 115 },
          { design: 'BullMQ (2 processes x 16)', documentsPerSec: 4.5 },
        ],
      },
      {
        name: 'token-bound',
        runs: [
          {
            design: 'pipeline (2 embedders, adaptive pacing)',
            tokenBudgetUsed: overrides.tokenBudgetUsed,
            rateLimitedShare: overrides.share429,
          },
          { design: 'pipeline (2 embedders, pacing off)', tokenBudgetUsed: 1, rateLimitedShare: 0.5 },
          { design: 'BullMQ (2 processes x 16)', tokenBudgetUsed: 0.7, rateLimitedShare: 0 },
        ],
      },
    ],
  } as unknown as Partial;
}

const metOf = (targets: ReturnType<typeof evaluateTargets>) =>
  Object.fromEntries(targets.map((t) => [t.name.split(' (')[0].split(',')[0], t.met]));

describe('the benchmark targets (issue 14)', () => {
  it('judges every row from the measured figures', () => {
    const targets = evaluateTargets(report({ baselineRatio: 1.6, peersRatio: 2, tokenBudgetUsed: 0.95, share429: 0.005 }));
    expect(metOf(targets)).toEqual({
      "vs LlamaIndex's best": true,
      'end-to-end vs BullMQ baseline': true,
      '2 embedders vs 1': true, // 1.85 ≥ 1.8
      '3 embedders vs 1': false, // 2.6 < 2.7
      'indexer alone vs ES `_bulk` ceiling': true, // 0.95
      'p99 submission → searchable at 50 % load': true,
      'peak RSS per service': false, // chunker 260
      'chunks per provider request under load': true,
      'vs BullMQ': true, // 25.6×
      'rate limits used': true,
    });
    expect(targets.find((t) => t.name.startsWith('vs BullMQ'))!.actual).toBe('25.56×');
  });

  it('misses the peers, baseline and rate-limit rows below their thresholds, and leaves out peers when not run', () => {
    const missed = metOf(evaluateTargets(report({ baselineRatio: 0.93, peersRatio: 1.21, tokenBudgetUsed: 0.96, share429: 0.1 })));
    expect(missed).toMatchObject({ "vs LlamaIndex's best": false, 'end-to-end vs BullMQ baseline': false, 'rate limits used': false });
    expect(Object.keys(metOf(evaluateTargets(report({ baselineRatio: 1, tokenBudgetUsed: 1, share429: 0 }))))).not.toContain(
      "vs LlamaIndex's best",
    );
  });
});

describe('the CPU-by-load table', () => {
  const cpu = (indexer: number, es: number) => ({
    wallSeconds: 10,
    cpuSeconds: {},
    totalCpuSeconds: 0,
    coresBusy: 1.5,
    msPerDocument: { indexer, es },
  });
  it('puts the backlog run beside each open-loop load, with summed CPU and slice sizes', () => {
    const lines = loadCostMarkdown({
      cpu: cpu(2, 3),
      slices: {
        chunker: { slices: 2, recordsPerSlice: 100 },
        embedder: { slices: 1, recordsPerSlice: 500 },
        indexer: { slices: 4, recordsPerSlice: 125 },
      },
      latency: [{ loadFraction: 0.25, cpu: cpu(6, 10.5), slices: { chunker: { slices: 90, recordsPerSlice: 1.1 } } }],
    } as unknown as PipelineBenchResult);
    expect(lines).toContain('| backlog (throughput run) | 1.5 | 5 | 2 | 3 | 100 / 500 / 125 |');
    expect(lines).toContain('| 25 % load | 1.5 | 16.5 | 6 | 10.5 | 1.1 / – / – |');
  });

  it('is left out when no run measured CPU', () => {
    expect(loadCostMarkdown({ latency: [] } as unknown as PipelineBenchResult)).toEqual([]);
  });
});
