import { parentPort } from 'node:worker_threads';

/** What a worker says: ready once its modules are loaded, then one reply per task. */
export type IsolatedWorkerMessage<O> =
  { ready: true } | { ok: true; output: O } | { ok: false; error: { message: string; kind: 'transient' | 'permanent' } };

/**
 * The worker side of IsolatedWorkerPool: call it once at the top level of the worker script with
 * the function to run on each task. Imports nothing but worker_threads, so a worker loads only
 * what its work needs.
 *
 * Errors are sent back with their kind: a StageError keeps its own; anything else (a RangeError
 * from a too deep structure, a bug on strange input) is permanent, because isolated work is pure
 * computation on the record and repeating it gives the same result.
 */
export function serveIsolatedTasks<I, O>(work: (input: I) => O | Promise<O>): void {
  const port = parentPort;
  if (!port) throw new Error('serveIsolatedTasks must run in a worker thread');
  port.on('message', async (input: I) => {
    let reply: IsolatedWorkerMessage<O>;
    try {
      reply = { ok: true, output: await work(input) };
    } catch (err) {
      const kind = (err as { kind?: unknown } | null)?.kind === 'transient' ? 'transient' : 'permanent';
      reply = { ok: false, error: { message: err instanceof Error ? err.message || err.name : String(err), kind } };
    }
    port.postMessage(reply);
  });
  // Tasks are sent only from now on, so loading the worker's modules never eats into a task's time budget.
  port.postMessage({ ready: true } satisfies IsolatedWorkerMessage<O>);
}
