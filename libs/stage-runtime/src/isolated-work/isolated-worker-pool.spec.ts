import { join } from 'node:path';
import { PermanentError, TransientError } from '@rag/common';
import { IsolatedWorkCrashedError, IsolatedWorkerPool, ResourceBudgetExceededError } from './isolated-worker-pool';

type TestTask =
  { kind: 'echo'; value: string; bytes?: ArrayBuffer } | { kind: 'loop' | 'allocate' | 'recurse' | 'throw' | 'throw-transient' | 'exit' };

const WORKER = join(__dirname, 'test-worker.fixture.js');

describe('IsolatedWorkerPool', () => {
  let pool: IsolatedWorkerPool<TestTask, unknown>;

  beforeEach(() => {
    pool = new IsolatedWorkerPool({ filename: WORKER, taskName: 'parse', workers: 2, timeoutMs: 1_500, maxMemoryMb: 32 });
  });

  afterEach(async () => {
    await pool.close();
  });

  const echo = () => pool.run({ kind: 'echo', value: 'still works' });

  it('returns results and moves transferred buffers instead of copying them', async () => {
    const bytes = new Uint8Array([1, 2, 3]).buffer;
    await expect(pool.run({ kind: 'echo', value: 'hi', bytes }, [bytes])).resolves.toEqual({ echoed: 'hi', bytes: 3 });
    expect(bytes.byteLength).toBe(0); // detached: it now belongs to the worker
  });

  it('runs tasks on all workers in parallel', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => pool.run({ kind: 'echo', value: `n${i}` })));
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => ({ echoed: `n${i}`, bytes: 0 })));
  });

  it('ends a task over its time budget with a permanent reason and replaces the worker', async () => {
    const started = Date.now();
    const [a, b] = await Promise.allSettled([pool.run({ kind: 'loop' }), pool.run({ kind: 'loop' })]);
    for (const outcome of [a, b]) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason as ResourceBudgetExceededError;
      expect(error).toBeInstanceOf(ResourceBudgetExceededError);
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.budget).toBe('time');
      expect(error.message).toBe('parse exceeded 1500 ms');
    }
    expect(Date.now() - started).toBeLessThan(2 * 1_500); // both loops ran at once, one per worker
    await expect(echo()).resolves.toEqual({ echoed: 'still works', bytes: 0 });
    expect(pool.size).toBe(2);
  });

  it('ends a task over its memory budget with a permanent reason and replaces the worker', async () => {
    const error = await pool.run({ kind: 'allocate' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceBudgetExceededError);
    expect((error as ResourceBudgetExceededError).budget).toBe('memory');
    expect((error as Error).message).toBe('parse exceeded 32 MiB');
    await expect(echo()).resolves.toEqual({ echoed: 'still works', bytes: 0 });
    expect(pool.size).toBe(2);
  });

  it('turns a worker that exits mid-task into a permanent crash error and replaces the worker', async () => {
    const error = await pool.run({ kind: 'exit' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IsolatedWorkCrashedError);
    expect((error as Error).message).toBe('parse worker exited with code 3');
    await expect(echo()).resolves.toEqual({ echoed: 'still works', bytes: 0 });
  });

  it('keeps the kind of an error thrown by the work; any other error, a stack overflow too, is permanent', async () => {
    await expect(pool.run({ kind: 'throw-transient' })).rejects.toEqual(new TransientError('dependency down'));
    const thrown = await pool.run({ kind: 'throw' }).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(PermanentError);
    expect((thrown as Error).message).toBe('bad content');
    const overflow = await pool.run({ kind: 'recurse' }).catch((e: unknown) => e);
    expect(overflow).toBeInstanceOf(PermanentError);
    expect((overflow as Error).message).toMatch(/Maximum call stack size exceeded/);
    await expect(echo()).resolves.toEqual({ echoed: 'still works', bytes: 0 });
  });

  it('fails waiting tasks as transient when workers cannot even start (a broken build, not a bad record)', async () => {
    const broken = new IsolatedWorkerPool<TestTask, unknown>({
      filename: join(__dirname, 'broken-worker.fixture.js'),
      taskName: 'parse',
      workers: 1,
      timeoutMs: 1_000,
      maxMemoryMb: 16,
    });
    const error = await broken.run({ kind: 'echo', value: 'x' }).catch((e: unknown) => e);
    await broken.close();
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toMatch(/parse worker failed to start: .*cannot load the parser/);
  });

  it('refuses a missing worker script at construction and new tasks once closed', async () => {
    expect(
      () =>
        new IsolatedWorkerPool({ filename: join(__dirname, 'missing.js'), taskName: 'parse', workers: 1, timeoutMs: 1, maxMemoryMb: 16 }),
    ).toThrow(/does not exist/);
    await pool.close();
    await expect(echo()).rejects.toBeInstanceOf(TransientError);
  });
});
