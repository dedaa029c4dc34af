import { PartitionPipeline, SliceBudget, type PartitionCommit } from './partition-pipeline';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));
const range = (first: number, last: number) => ({ first: String(first), last: String(last), attempt: 1 });

function recorder() {
  const commits: PartitionCommit[] = [];
  const events: string[] = [];
  const failures: unknown[] = [];
  const commit = async (state: PartitionCommit) => {
    commits.push(state);
  };
  return { commits, events, failures, commit, onFailure: (e: unknown) => failures.push(e) };
}

describe('PartitionPipeline', () => {
  it('runs handlers of several slices at once but produces and commits in log order', async () => {
    const r = recorder();
    const pipeline = new PartitionPipeline(3, r.commit, r.onFailure);
    const handlers = [deferred(), deferred(), deferred()];
    const dones: Promise<void>[] = [];
    for (let i = 0; i < 3; i++) {
      const { done } = await pipeline.start(
        range(i * 10, i * 10 + 9),
        async () => {
          r.events.push(`handle ${i}`);
          await handlers[i].promise;
        },
        async () => {
          r.events.push(`finish ${i}`);
        },
      );
      dones.push(done);
    }
    // All three handlers started before any finished.
    expect(r.events).toEqual(['handle 0', 'handle 1', 'handle 2']);
    // The newest marker spans every slice in flight, from the oldest: a crash resumes at 0.
    expect(r.commits.at(-1)).toEqual({ offset: '0', marker: { first: '0', last: '29', attempt: 1 } });

    handlers[2].resolve();
    handlers[1].resolve();
    await flush();
    expect(r.events).not.toContain('finish 1');
    expect(r.events).not.toContain('finish 2');

    handlers[0].resolve();
    await Promise.all(dones);
    expect(r.events.filter((e) => e.startsWith('finish'))).toEqual(['finish 0', 'finish 1', 'finish 2']);
    const afterStarts = r.commits.slice(3);
    expect(afterStarts).toEqual([
      { offset: '10', marker: { first: '10', last: '29', attempt: 1 } },
      { offset: '20', marker: { first: '20', last: '29', attempt: 1 } },
      { offset: '30' },
    ]);
    expect(r.failures).toEqual([]);
  });

  it('never commits past a slice that is not finished', async () => {
    const r = recorder();
    const pipeline = new PartitionPipeline(4, r.commit, r.onFailure);
    const first = deferred();
    await pipeline.start(
      range(0, 4),
      () => first.promise,
      async () => undefined,
    );
    const { done } = await pipeline.start(
      range(5, 9),
      async () => undefined,
      async () => undefined,
    );
    await flush();
    for (const c of r.commits) expect(BigInt(c.offset)).toBeLessThanOrEqual(0n);
    first.resolve();
    await done;
    expect(r.commits.at(-1)).toEqual({ offset: '10' });
  });

  it('admits no more than `depth` slices, then the next one when the oldest is committed', async () => {
    const r = recorder();
    const pipeline = new PartitionPipeline(2, r.commit, r.onFailure);
    const gates = [deferred(), deferred()];
    await pipeline.start(
      range(0, 0),
      () => gates[0].promise,
      async () => undefined,
    );
    await pipeline.start(
      range(1, 1),
      () => gates[1].promise,
      async () => undefined,
    );
    let admitted = false;
    const admission = pipeline.admit().then(() => (admitted = true));
    await flush();
    expect(admitted).toBe(false);
    gates[0].resolve();
    await admission;
    expect(pipeline.inFlight).toBe(1);
  });

  it('after a failed finish, produces and commits nothing more and reports the failure once', async () => {
    const r = recorder();
    const pipeline = new PartitionPipeline(3, r.commit, r.onFailure);
    const boom = new Error('produce failed');
    const finished: number[] = [];
    const dones: Promise<void>[] = [];
    for (let i = 0; i < 3; i++) {
      const { done } = await pipeline.start(
        range(i, i),
        async () => undefined,
        async () => {
          if (i === 1) throw boom;
          finished.push(i);
        },
      );
      dones.push(done);
    }
    await Promise.all(dones);
    expect(finished).toEqual([0]);
    expect(r.failures).toEqual([boom]);
    expect(pipeline.failure).toBe(boom);
    // The last commit is the end of slice 0 (with 1 and 2 still marked): a restart resumes at 1.
    expect(r.commits.at(-1)).toEqual({ offset: '1', marker: { first: '1', last: '2', attempt: 1 } });
    expect(pipeline.stopped).toBe(true);
  });

  it('a failed commit stops the pipeline', async () => {
    const failures: unknown[] = [];
    let calls = 0;
    const pipeline = new PartitionPipeline(
      2,
      async () => {
        if (++calls === 2) throw new Error('commit refused');
      },
      (e) => failures.push(e),
    );
    const { done } = await pipeline.start(
      range(0, 0),
      async () => undefined,
      async () => undefined,
    );
    await done;
    expect(failures).toHaveLength(1);
    expect(pipeline.stopped).toBe(true);
    await expect(
      pipeline.start(
        range(1, 1),
        async () => undefined,
        async () => undefined,
      ),
    ).rejects.toThrow();
  });

  it('a discarded pipeline (partition revoked) finishes and commits nothing more', async () => {
    const r = recorder();
    const pipeline = new PartitionPipeline(2, r.commit, r.onFailure);
    const gate = deferred();
    let finishedAfterDiscard = false;
    const { done } = await pipeline.start(
      range(0, 0),
      () => gate.promise,
      async () => {
        finishedAfterDiscard = true;
      },
    );
    const commitsBefore = r.commits.length;
    pipeline.discard();
    gate.resolve();
    await done;
    expect(finishedAfterDiscard).toBe(false);
    expect(r.commits).toHaveLength(commitsBefore);
    expect(r.failures).toEqual([]);
  });
});

describe('SliceBudget', () => {
  it('lets `size` holders in at once and the next waiter in on each release, in order', async () => {
    const budget = new SliceBudget(2);
    const entered: number[] = [];
    const holders = [0, 1, 2, 3].map((n) => budget.acquire().then(() => entered.push(n)));
    await flush();
    expect(entered).toEqual([0, 1]);
    budget.release();
    await flush();
    expect(entered).toEqual([0, 1, 2]);
    budget.release();
    await Promise.all(holders);
    expect(entered).toEqual([0, 1, 2, 3]);
  });
});
