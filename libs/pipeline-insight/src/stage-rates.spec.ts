import { stageRates, type PipelineSnapshot, type StageSnapshot } from './pipeline-insight';

const stage = (over: Partial<StageSnapshot>): StageSnapshot => ({
  stage: 'chunker',
  group: 'rag-chunker',
  state: 'Stable',
  instances: 1,
  lag: 0,
  consumed: 0,
  retried: 0,
  deadLettered: 0,
  deadLetters: 0,
  ...over,
});

const snapshot = (at: number, stages: StageSnapshot[]): PipelineSnapshot => ({ at, submitted: 0, stages });

describe('stageRates', () => {
  it('divides the growth of each counter by the seconds between the snapshots', () => {
    const before = snapshot(10_000, [stage({ consumed: 100, retried: 4, deadLettered: 1 }), stage({ stage: 'embedder', consumed: 50 })]);
    const after = snapshot(12_000, [stage({ consumed: 300, retried: 10, deadLettered: 2 }), stage({ stage: 'embedder', consumed: 50 })]);
    expect(stageRates(before, after)).toEqual([
      { stage: 'chunker', recordsPerSecond: 100, retriesPerSecond: 3, deadLettersPerSecond: 0.5 },
      { stage: 'embedder', recordsPerSecond: 0, retriesPerSecond: 0, deadLettersPerSecond: 0 },
    ]);
  });

  it('never reports a negative rate (a group reset to an earlier offset) and is 0 without elapsed time', () => {
    const before = snapshot(1_000, [stage({ consumed: 500 })]);
    expect(stageRates(before, snapshot(2_000, [stage({ consumed: 200 })]))[0]?.recordsPerSecond).toBe(0);
    expect(stageRates(before, snapshot(1_000, [stage({ consumed: 900 })]))[0]?.recordsPerSecond).toBe(0);
  });

  it('treats a stage missing from the earlier snapshot as starting now', () => {
    const rates = stageRates(snapshot(0, []), snapshot(1_000, [stage({ stage: 'indexer', consumed: 40 })]));
    expect(rates).toEqual([{ stage: 'indexer', recordsPerSecond: 0, retriesPerSecond: 0, deadLettersPerSecond: 0 }]);
  });
});
