import { existsSync } from 'node:fs';
import { Worker, type Transferable } from 'node:worker_threads';
import { PermanentError, TransientError } from '@rag/common';
import type { IsolatedWorkerMessage } from './serve-isolated-tasks';

/** A task went over its time or memory budget; its worker was replaced. */
export class ResourceBudgetExceededError extends PermanentError {
  constructor(
    message: string,
    readonly budget: 'time' | 'memory',
  ) {
    super(message);
  }
}

/** A task crashed its worker (uncaught error, abort, exit); the worker was replaced. */
export class IsolatedWorkCrashedError extends PermanentError {}

export interface IsolatedWorkerPoolOptions {
  /** Absolute path of the compiled worker script; it calls serveIsolatedTasks. */
  filename: string;
  /** What the work is called in reasons: "parse" gives "parse exceeded 30 s". */
  taskName: string;
  /** Worker threads, each running one task at a time. */
  workers: number;
  /** Wall-clock budget of one task; the worker is terminated past it. */
  timeoutMs: number;
  /** V8 old-generation heap of each worker (resourceLimits), separate from the process's own heap. */
  maxMemoryMb: number;
  /** Passed to every worker as workerData. */
  workerData?: unknown;
}

interface Task<I, O> {
  input: I;
  transfer: Transferable[];
  resolve: (output: O) => void;
  reject: (error: Error) => void;
}

interface WorkerSlot<I, O> {
  worker: Worker;
  task?: Task<I, O>;
  timer?: NodeJS.Timeout;
  /** Said it is ready (modules loaded); a worker that dies before is not respawned in a tight loop. */
  ready: boolean;
  gone: boolean;
}

/** A worker that died before it was ready is replaced after this delay, not in a tight loop. */
const RESPAWN_AFTER_STARTUP_FAILURE_MS = 1_000;

/**
 * Runs CPU- and memory-heavy work of a record in worker threads, where a record that blows the
 * heap, loops or crashes costs only itself: over budget it is rejected with a
 * ResourceBudgetExceededError (permanent, so the record is dead-lettered with the reason), a crash
 * with an IsolatedWorkCrashedError, and the worker is replaced. The caller's event loop stays
 * free (Kafka heartbeats, health checks) while the work runs.
 *
 * Built on node:worker_threads rather than a pool library: what is needed is small (a fixed
 * number of workers, one task each, a timer, resourceLimits) and the failure handling is the
 * point, so it is spelled out here where it can be tested: which error ends a task, and that a
 * dead or timed-out worker is replaced by a fresh one.
 */
export class IsolatedWorkerPool<I, O> {
  private readonly slots = new Set<WorkerSlot<I, O>>();
  private readonly idle: WorkerSlot<I, O>[] = [];
  private readonly queue: Task<I, O>[] = [];
  private closed = false;

  constructor(private readonly options: IsolatedWorkerPoolOptions) {
    if (!existsSync(options.filename)) throw new Error(`worker script ${options.filename} does not exist (was the project built?)`);
    for (let i = 0; i < options.workers; i++) this.spawn();
  }

  /** Runs one task; `transfer` lists ArrayBuffers to move to the worker instead of copying them. */
  run(input: I, transfer: Transferable[] = []): Promise<O> {
    if (this.closed) return Promise.reject(new TransientError(`${this.options.taskName} pool is closed`));
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, transfer, resolve, reject });
      this.dispatch();
    });
  }

  /** Workers currently alive (for health and tests). */
  get size(): number {
    return this.slots.size;
  }

  /** Stops every worker; queued and running tasks fail as transient (the record is retried elsewhere). */
  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new TransientError(`${this.options.taskName} pool is closing`));
    await Promise.all([...this.slots].map((slot) => this.retire(slot, new TransientError(`${this.options.taskName} pool is closing`))));
  }

  private spawn(): void {
    const { maxMemoryMb } = this.options;
    const worker = new Worker(this.options.filename, {
      workerData: this.options.workerData,
      resourceLimits: { maxOldGenerationSizeMb: maxMemoryMb, maxYoungGenerationSizeMb: Math.min(16, Math.max(1, maxMemoryMb / 8)) },
    });
    const slot: WorkerSlot<I, O> = { worker, ready: false, gone: false };
    this.slots.add(slot);
    worker.on('message', (message: IsolatedWorkerMessage<O>) => {
      if ('ready' in message) {
        slot.ready = true;
        this.idle.push(slot);
        this.dispatch();
      } else this.onReply(slot, message);
    });
    worker.on('error', (err: Error & { code?: string }) => {
      const error =
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new ResourceBudgetExceededError(`${this.options.taskName} exceeded ${maxMemoryMb} MiB`, 'memory')
          : new IsolatedWorkCrashedError(`${this.options.taskName} crashed its worker: ${err.message}`);
      void this.retire(slot, error);
    });
    worker.on('exit', (code) => {
      void this.retire(slot, new IsolatedWorkCrashedError(`${this.options.taskName} worker exited with code ${code}`));
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const slot = this.idle.pop()!;
      const task = this.queue.shift()!;
      slot.task = task;
      slot.timer = setTimeout(() => {
        const budget = formatDuration(this.options.timeoutMs);
        void this.retire(slot, new ResourceBudgetExceededError(`${this.options.taskName} exceeded ${budget}`, 'time'));
      }, this.options.timeoutMs);
      slot.worker.postMessage(task.input, task.transfer);
    }
  }

  private onReply(slot: WorkerSlot<I, O>, reply: Exclude<IsolatedWorkerMessage<O>, { ready: true }>): void {
    const task = slot.task;
    if (!task || slot.gone) return;
    clearTimeout(slot.timer);
    slot.task = undefined;
    this.idle.push(slot);
    if (reply.ok) task.resolve(reply.output);
    else task.reject(reply.error.kind === 'transient' ? new TransientError(reply.error.message) : new PermanentError(reply.error.message));
    this.dispatch();
  }

  /** The worker is lost (over budget, crashed, exited, closing): settle its task and replace it. */
  private async retire(slot: WorkerSlot<I, O>, error: Error): Promise<void> {
    if (slot.gone) return;
    slot.gone = true;
    clearTimeout(slot.timer);
    this.slots.delete(slot);
    const idleAt = this.idle.indexOf(slot);
    if (idleAt >= 0) this.idle.splice(idleAt, 1);
    slot.task?.reject(error);
    slot.task = undefined;
    if (!this.closed) {
      if (slot.ready) this.spawn();
      else {
        // A worker that cannot even load is a broken deployment, not a bad record: fail what waits as transient.
        for (const task of this.queue.splice(0))
          task.reject(new TransientError(`${this.options.taskName} worker failed to start: ${error.message}`));
        setTimeout(() => !this.closed && this.spawn(), RESPAWN_AFTER_STARTUP_FAILURE_MS).unref();
      }
    }
    await slot.worker.terminate();
  }
}

function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
