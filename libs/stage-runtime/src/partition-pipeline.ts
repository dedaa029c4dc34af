import type { SliceMarker } from './crash-loop-guard';

/** What a partition's committed offset says: consume from `offset`; `marker` names the slices in flight. */
export interface PartitionCommit {
  offset: string;
  marker?: SliceMarker;
}

/** First and last offset of a slice, and how often a slice starting there has been begun (see CrashLoopGuard). */
export interface SliceRange {
  first: string;
  last: string;
  attempt: number;
}

interface PendingSlice extends SliceRange {
  done: Promise<void>;
}

/**
 * The slices of one partition between their hand-off to the handler and their commit.
 *
 * Handlers of up to `depth` slices run at once, so a handler that waits (the indexer's `_bulk`
 * waits for a refresh) does not hold back the next slice's work. What leaves the stage does not
 * overlap: each slice's outputs are produced after the previous slice's, and every commit is
 * made after the previous one was acknowledged, in log order.
 *
 * The committed offset is always the first offset of the oldest slice in flight (or the end of
 * the last finished one), with a crash-loop marker spanning every slice in flight: a process that
 * dies anywhere in the pipeline resumes from the oldest unfinished record, and knows which
 * records were in its handlers when it died.
 *
 * After a failure (an output or a commit Kafka did not take) nothing more is produced or
 * committed: the owner rebuilds the consumer, which resumes from the last commit.
 */
export class PartitionPipeline {
  private readonly pending: PendingSlice[] = [];
  /** Resolves when the newest slice's outputs are produced and its commit is acknowledged. */
  private tail: Promise<void> = Promise.resolve();
  private commits: Promise<void> = Promise.resolve();
  private finishedTo?: string;
  private failed?: unknown;
  /** Set when the partition was revoked (or the consumer replaced): finish nothing more. */
  private discarded = false;

  constructor(
    private readonly depth: number,
    private readonly commit: (state: PartitionCommit) => Promise<void>,
    private readonly onFailure: (error: unknown) => void,
  ) {}

  get failure(): unknown {
    return this.failed;
  }

  get inFlight(): number {
    return this.pending.length;
  }

  get stopped(): boolean {
    return this.failed !== undefined || this.discarded;
  }

  /** Waits until another slice may start: fewer than `depth` in flight (or the pipeline stopped). */
  async admit(limit = this.depth): Promise<void> {
    while (this.pending.length >= limit && !this.stopped) await this.pending[0].done;
  }

  /** Waits until every slice in flight is committed (or dropped). */
  async drain(): Promise<void> {
    await this.admit(1);
  }

  /** Stops finishing slices: what was not committed is redelivered to whoever owns the partition next. */
  discard(): void {
    this.discarded = true;
  }

  /**
   * Registers a slice, commits the marker that shows it in flight, then starts `prepare` (decode,
   * handle, encode). `finish` (produce the outputs) runs once `prepare` is done and the previous
   * slice is committed; then this slice's commit. Resolves when the handler may run, i.e. after
   * the marker commit; `done` resolves when the slice is committed or dropped, never rejects.
   */
  async start<T>(range: SliceRange, prepare: () => Promise<T>, finish: (prepared: T) => Promise<void>): Promise<{ done: Promise<void> }> {
    if (this.stopped) throw new Error('the partition pipeline stopped', { cause: this.failed });
    let settle!: () => void;
    const slice: PendingSlice = { ...range, done: new Promise<void>((resolve) => (settle = resolve)) };
    this.pending.push(slice);
    try {
      await this.commitState();
    } catch (error) {
      this.remove(slice);
      settle();
      this.fail(error);
      throw error;
    }
    const prepared = prepare();
    const previous = this.tail;
    this.tail = (async () => {
      try {
        const value = await prepared;
        await previous;
        if (this.stopped) return;
        await finish(value);
        if (this.stopped) return;
        this.finishedTo = (BigInt(range.last) + 1n).toString();
        this.remove(slice);
        await this.commitState();
      } catch (error) {
        this.fail(error);
      } finally {
        this.remove(slice);
        settle();
      }
    })();
    return { done: slice.done };
  }

  /** Commits the partition's state as it is when the commit's turn comes (commits never overlap). */
  private commitState(): Promise<void> {
    const next = this.commits.then(async () => {
      if (this.stopped) return;
      const oldest = this.pending[0];
      if (!oldest) {
        if (this.finishedTo !== undefined) await this.commit({ offset: this.finishedTo });
        return;
      }
      const newest = this.pending[this.pending.length - 1];
      await this.commit({ offset: oldest.first, marker: { first: oldest.first, last: newest.last, attempt: oldest.attempt } });
    });
    // A failed commit fails its caller; the queue itself goes on (the pipeline is stopped by then).
    this.commits = next.catch(() => undefined);
    return next;
  }

  private remove(slice: PendingSlice): void {
    const i = this.pending.indexOf(slice);
    if (i >= 0) this.pending.splice(i, 1);
  }

  private fail(error: unknown): void {
    if (this.stopped) return;
    this.failed = error;
    this.onFailure(error);
  }
}

/**
 * Slices in flight over all partitions of one instance: what bounds its memory when partitions
 * pipeline their slices (each holds its records, decoded, until committed).
 */
export class SliceBudget {
  private used = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {}

  async acquire(): Promise<void> {
    while (this.used >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.used++;
  }

  release(): void {
    this.used--;
    this.waiting.shift()?.();
  }
}
