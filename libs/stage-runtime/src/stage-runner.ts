import {
  DATA_TOPICS,
  Headers,
  lifecycleEvent,
  STAGES,
  type ContractName,
  type DataTopic,
  type ContractSerde,
  type ContractTypes,
  type RetryTier,
  type TopicNames,
} from '@rag/contracts';
import type { Batch, Consumer, EachBatchPayload, Kafka, KafkaMessage, Message, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { IDEMPOTENT_PRODUCER, PermanentError, classifyError, errorMessage, type ErrorKind } from '@rag/common';
import { ConsumerSupervisor, type Stall } from './consumer-supervisor';
import { settleWithin } from './deadline';
import { CrashLoopGuard, encodeMarker, partitionKey } from './crash-loop-guard';
import { attemptOf, errorClassOf, failureHeaders, firstFailureAtOf, headersToStrings, notBeforeOf } from './failure-headers';
import { LagMonitor } from './lag-monitor';
import { PartitionPipeline, SliceBudget, type SliceRange } from './partition-pipeline';
import { PRODUCE_REQUEST_MAX_BYTES, RECORD_BATCH_HEADER_BYTES, splitIntoRequests } from './produce-requests';
import { oversizeOutput, TopicLimits } from './record-limits';
import { routeFailure, type FailureDestinations } from './retry-policy';
import type { StageMetrics } from './stage-metrics';
import type { InboundRecord, OutboundRecord, StageHandler, StageRuntimeSettings } from './types';

interface Failure {
  error: unknown;
  kind: ErrorKind;
}

interface Encoded {
  topic: string;
  contract: ContractName;
  message: Message;
}

/** A consumed message and what became of it in this slice. */
interface Slot<T> {
  message: KafkaMessage;
  headers: Record<string, string>;
  attempt: number;
  value?: T;
  /** A Kafka tombstone (null value), handed to the handler's `handleTombstone`. */
  tombstone?: boolean;
  outputs?: OutboundRecord[];
  encoded?: Encoded[];
  failure?: Failure;
  routed?: 'retried' | 'dead_lettered';
}

/** A handled slice waiting for its turn to be produced and committed. */
interface PreparedSlice<T> {
  slots: Slot<T>[];
  out: Map<string, Message[]>;
  started: bigint;
}

/** Group coordinator answers that mean "this member's generation is over": kafkajs rejoins by itself. */
const GENERATION_ENDED = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'NOT_COORDINATOR_FOR_GROUP']);

/** Whether `error` (or an error it wraps: kafkajs wraps protocol errors in retry errors) ends the generation. */
export function endsGeneration(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string' && GENERATION_ENDED.has(type)) return true;
  }
  return false;
}

/**
 * The Kafka stage runtime shared by chunker, embedder and indexer.
 *
 * One consumer (one group per stage) reads the stage's main topic and its retry tiers. Each
 * consumed batch is cut into slices of at most `maxBatchRecords`; for each slice:
 * decode → handler → produce outputs, retry and dead-letter records with the idempotent
 * producer (acks=all) → commit the slice's offsets. Offsets are committed only after Kafka
 * acknowledged every output, so a crash at any point re-delivers (at-least-once) and the
 * deterministic ids downstream make that harmless. With `slicesInFlight` > 1 the handlers of
 * several slices of a partition overlap (a PartitionPipeline); outputs and commits stay in log
 * order.
 *
 * Failures never block a partition: a failed record is produced to a retry tier
 * `<stage>.retry.<delay>` with backoff headers (or to `<stage>.dlq`), and the main topic moves on.
 * Retry records are not processed before `x-retry-not-before`: the tier partition is paused and
 * resumed by a timer. All records of a tier wait the same delay, so the head of a tier partition
 * is always the first one due and waiting for it holds back nothing that is due sooner.
 *
 * A record whose outputs would not fit their topics' max.message.bytes is dead-lettered alone
 * (none of its outputs is produced), instead of making the broker reject the slice's batch.
 */
export class StageRunner<N extends ContractName> {
  private consumer?: Consumer;
  private producer?: Producer;
  private lagMonitor?: LagMonitor;
  private limits?: TopicLimits;
  private crashLoopGuard?: CrashLoopGuard;
  private readonly resumeTimers = new Set<NodeJS.Timeout>();
  private running = false;
  /** Rebuilds the consumer after crashes kafkajs does not restart from, and when it stalls. */
  private readonly supervisor: ConsumerSupervisor;
  /** Last sign of progress (a slice ended, a batch arrived, the group was joined), for the stall watchdog. */
  private lastProgressAt = Date.now();
  /** Handlers running now: bounded by their own limits, so the watchdog leaves them be. */
  private handlersRunning = 0;
  /** Produce and commit calls of the current clients not answered yet, with their start times. */
  private readonly kafkaCalls = new Map<object, number>();
  /** Slices handed to the handler and not committed yet, per partition of the current consumer. */
  private readonly pipelines = new Map<string, PartitionPipeline>();
  /** With pipelined slices: how many may be in flight over all partitions. */
  private readonly budget: SliceBudget;
  /** Partitions paused because a commit found the generation over: resumed by the next group join. */
  private readonly pausedUntilJoin = new Map<string, { topic: string; partitions: number[] }>();
  /** When the first of them was paused: a join that does not come within the stall timeout is a stall. */
  private pausedForJoinSince?: number;
  /** Partitions per topic from the last group join; undefined until the first join. */
  private assignment?: Record<string, number[]>;
  readonly name: string;

  constructor(
    private readonly kafka: Kafka,
    private readonly serde: ContractSerde,
    private readonly topics: TopicNames,
    private readonly handler: StageHandler<N>,
    private readonly settings: StageRuntimeSettings,
    private readonly metrics: StageMetrics,
    private readonly logger: Logger,
  ) {
    this.name = `${settings.stage}-consumer`;
    this.budget = new SliceBudget(settings.slicesInFlight);
    const labels = { stage: settings.stage };
    this.supervisor = new ConsumerSupervisor({
      stallTimeoutMs: settings.stallTimeoutMs ?? 0,
      findStall: (timeoutMs) => this.findStall(timeoutMs),
      rebuild: (broken) => this.rebuildClients(broken),
      counters: { stalls: metrics.consumerStalls.labels(labels), rebuilds: metrics.consumerRebuilds.labels(labels) },
      logger,
    });
  }

  get inputTopic(): string {
    return this.topics.input(this.settings.stage);
  }

  get retryTiers(): RetryTier[] {
    return this.topics.retryTiers(this.settings.stage);
  }

  private get retryTopics(): string[] {
    return this.retryTiers.map((t) => t.topic);
  }

  private get failureDestinations(): FailureDestinations {
    return { tiers: this.retryTiers, dlq: this.dlqTopic };
  }

  get dlqTopic(): string {
    return this.topics.dlq(this.settings.stage);
  }

  isAlive(): boolean {
    return this.supervisor.isAlive();
  }

  /** Shown by /readyz: whether the consumer is in its group yet, and which partitions it holds. */
  describe(): Record<string, unknown> {
    return { joinedGroup: this.assignment !== undefined, assignment: this.assignment ?? {} };
  }

  async start(): Promise<void> {
    // What the stage writes comes from the pipeline descriptor; every stage may write FAILED events.
    const outputs = [...new Set<DataTopic>([...STAGES[this.settings.stage].writes, 'events'])];
    for (const topic of outputs) await this.serde.registerWriter(DATA_TOPICS[topic].contract, this.topics[topic]);
    await this.serde.prepareReader(this.handler.input, this.inputTopic);
    const written = [...outputs.map((t) => this.topics[t]), ...this.retryTopics, this.dlqTopic];
    this.limits = new TopicLimits(this.kafka, written, this.logger);
    await this.limits.start();
    this.producer = await this.connectProducer();
    this.crashLoopGuard = new CrashLoopGuard(
      this.kafka,
      this.settings.groupId,
      this.settings.maxBatchRecords,
      this.settings.crashLoopMaxDeaths,
      this.logger,
    );
    this.running = true;
    this.supervisor.start();
    await this.startConsumer();
    this.lagMonitor = new LagMonitor(
      this.kafka,
      this.settings.groupId,
      [this.inputTopic, ...this.retryTopics],
      (topic, partition, lag) => this.metrics.lag.set({ stage: this.settings.stage, topic, partition: String(partition) }, lag),
      this.logger,
    );
    await this.lagMonitor.start();
    this.logger.info({ input: this.inputTopic, retry: this.retryTopics, group: this.settings.groupId }, 'stage consuming');
  }

  private async connectProducer(): Promise<Producer> {
    const producer = this.kafka.producer(IDEMPOTENT_PRODUCER);
    await producer.connect();
    return producer;
  }

  private async startConsumer(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.settings.groupId,
      maxWaitTimeInMs: this.settings.fetchMaxWaitMs,
      maxBytesPerPartition: this.settings.fetchMaxBytesPerPartition,
      maxBytes: this.settings.fetchMaxBytes,
      allowAutoTopicCreation: false,
      sessionTimeout: this.settings.group.sessionTimeoutMs,
      heartbeatInterval: this.settings.group.heartbeatIntervalMs,
      rebalanceTimeout: this.settings.group.rebalanceTimeoutMs,
    });
    this.consumer = consumer;
    this.discardPipelines();
    this.pausedUntilJoin.clear();
    this.pausedForJoinSince = undefined;
    // Calls of the replaced clients no longer hold anything up, and a new consumer has not stalled yet.
    this.kafkaCalls.clear();
    this.lastProgressAt = Date.now();
    this.supervisor.watch(consumer);
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.lastProgressAt = Date.now();
      this.crashLoopGuard?.forget(payload.memberId);
      this.supervisor.joined();
      this.assignment = payload.memberAssignment;
      this.discardPipelines();
      this.resumeAfterJoin(consumer);
      this.metrics.groupJoins.inc({ stage: this.settings.stage });
      this.logger.info({ memberAssignment: payload.memberAssignment, durationMs: payload.duration }, 'joined consumer group');
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [this.inputTopic, ...this.retryTopics], fromBeginning: true });
    // Not awaited: `run` resolves only after the group join, which after a crash of another member
    // waits for that member's session to expire. The process serves /healthz, /readyz and /metrics
    // meanwhile; join failures surface as CRASH events (kafkajs restarts the consumer).
    this.supervisor.supervise(
      consumer,
      consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.settings.partitionsConcurrency,
        eachBatch: (payload) => this.onBatch(payload),
      }),
    );
  }

  /**
   * The watchdog's question (see ConsumerSupervisor). The consumer is stuck when, for the stall
   * timeout, a produce or commit has not returned (kafkajs bounds its requests, so such a call is
   * lost), a partition waited for a rejoin that did not come, or no handler ran, nothing moved and
   * the input lagged. Running handlers are bounded by their own timeouts. Only the main input
   * counts: retry tiers lag on purpose while they wait.
   */
  private findStall(timeoutMs: number): Stall | undefined {
    const waitingMs = Date.now() - Math.min(...this.kafkaCalls.values());
    if (waitingMs >= timeoutMs) return { reason: 'a produce or commit has not returned; rebuilding the clients', facts: { waitingMs } };
    const pausedMs = Date.now() - (this.pausedForJoinSince ?? Infinity);
    if (pausedMs >= timeoutMs)
      return { reason: 'partitions paused for a rejoin that did not come; rebuilding the consumer', facts: { pausedMs } };
    if (this.handlersRunning > 0) return undefined;
    const lag = this.lagMonitor?.lagOf(this.inputTopic) ?? 0;
    const idleMs = Date.now() - this.lastProgressAt;
    if (lag === 0 || idleMs < timeoutMs) return undefined;
    return { reason: 'consumer stalled: input lagging and nothing consumed; rebuilding it', facts: { lag, idleMs } };
  }

  /** Runs a produce or commit, visible to the watchdog while it waits for Kafka. */
  private async kafkaCall<T>(call: () => Promise<T>): Promise<T> {
    const token = {};
    this.kafkaCalls.set(token, Date.now());
    try {
      return await call();
    } finally {
      this.kafkaCalls.delete(token);
    }
  }

  /** A new consumer, and a new producer too: an idempotent producer may be the broken part. */
  private async rebuildClients(broken: Consumer): Promise<void> {
    if (!this.running) return;
    // A hung client may never finish disconnecting: give it a few seconds, then go on without it.
    await settleWithin(broken.disconnect(), 10_000);
    const oldProducer = this.producer;
    this.producer = await this.connectProducer();
    await settleWithin(oldProducer?.disconnect(), 10_000);
    await this.startConsumer();
  }

  /** Finishes the in-flight slices (kafkajs waits for eachBatch), then leaves the group and disconnects. */
  async stop(): Promise<void> {
    this.running = false;
    this.supervisor.stop();
    for (const timer of this.resumeTimers) clearTimeout(timer);
    this.resumeTimers.clear();
    this.limits?.stop();
    await this.lagMonitor?.stop();
    await this.drainPipelines();
    await this.consumer?.disconnect();
    await this.producer?.disconnect();
    await this.crashLoopGuard?.stop();
    this.logger.info('stage stopped');
  }

  /** Slices handed over before the stop get produced and committed; nothing new is fetched meanwhile. */
  private async drainPipelines(): Promise<void> {
    if (this.pipelines.size === 0) return;
    try {
      this.consumer?.pause([this.inputTopic, ...this.retryTopics].map((topic) => ({ topic })));
    } catch {
      // Not running: nothing more is fetched anyway.
    }
    const drained = Promise.all([...this.pipelines.values()].map((p) => p.drain()));
    await settleWithin(drained, this.settings.group.rebalanceTimeoutMs);
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const consumer = this.consumer!;
    this.lastProgressAt = Date.now();
    const isRetry = this.retryTopics.includes(batch.topic);
    let messages = batch.messages;
    let deferred: KafkaMessage | undefined;
    if (isRetry) {
      const now = Date.now();
      const firstNotDue = messages.findIndex((m) => notBeforeOf(headersToStrings(m.headers)) > now);
      if (firstNotDue >= 0) {
        deferred = messages[firstNotDue];
        messages = messages.slice(0, firstNotDue);
      }
    }
    // Retry tiers are paused and rewound (deferPartition): their slices run one at a time.
    const depth = isRetry ? 1 : this.settings.slicesInFlight;
    const pipeline = this.pipelineOf(consumer, batch.topic, batch.partition, depth);
    const stopHeartbeats = this.heartbeatWhileBusy(payload);
    try {
      for (let i = 0; i < messages.length;) {
        await pipeline.admit();
        if (pipeline.stopped || !this.running || !payload.isRunning() || payload.isStale()) return;
        const head = messages.slice(i, i + this.settings.maxBatchRecords);
        const plan = await this.crashLoopGuard!.plan(
          batch.topic,
          batch.partition,
          head.map((m) => m.offset),
        );
        // A slice of one that died runs alone, so a death points at its records only.
        if (plan.action === 'dead-letter' || plan.suspect) await pipeline.drain();
        if (pipeline.stopped) return;
        const slice = plan.action === 'handle' ? head.slice(0, plan.records) : head.slice(0, 1);
        const crashed = plan.action === 'dead-letter' ? new PermanentError(`crashed the stage ${plan.deaths} times`) : undefined;
        const range = plan.action === 'handle' ? plan.marker : { first: slice[0].offset, last: slice[0].offset, attempt: plan.deaths };
        const started = await this.startSlice(pipeline, depth > 1, batch, slice, range, isRetry, crashed);
        if (!started) return;
        i += slice.length;
        if (depth === 1) {
          await started.done;
          this.throwIfFailed(pipeline);
        }
        // kafkajs fetches on from here. With slices in flight, a failure rebuilds the consumer,
        // which resumes from the last commit, not from this position.
        payload.resolveOffset(slice[slice.length - 1].offset);
        await payload.heartbeat();
      }
    } finally {
      stopHeartbeats();
    }
    if (deferred) this.deferPartition(batch, deferred, payload);
  }

  /**
   * Hands a slice to the partition's pipeline; resolves once its handler runs, `done` when it is
   * committed (or dropped). Undefined when the stage stopped while the slice waited for the budget.
   */
  private async startSlice(
    pipeline: PartitionPipeline,
    budgeted: boolean,
    batch: Batch,
    slice: KafkaMessage[],
    range: SliceRange,
    isRetry: boolean,
    crashed?: Error,
  ): Promise<{ done: Promise<void> } | undefined> {
    if (budgeted) {
      await this.budget.acquire();
      if (!this.running || pipeline.stopped) {
        this.budget.release();
        return undefined;
      }
    }
    const settled = () => {
      if (budgeted) this.budget.release();
      this.lastProgressAt = Date.now();
    };
    try {
      const { done } = await pipeline.start(
        range,
        () => this.prepareSlice(batch, slice, crashed),
        (prepared) => this.finishSlice(batch, slice, prepared, isRetry),
      );
      return { done: done.finally(settled) };
    } catch (error) {
      settled();
      throw error;
    }
  }

  /**
   * With one slice in flight, a failure is thrown to kafkajs as before pipelining: it fetches
   * again from the last resolved offset, the start of the failed slice (and pipelineOf starts a
   * fresh pipeline for it).
   */
  private throwIfFailed(pipeline: PartitionPipeline): void {
    if (pipeline.failure !== undefined) throw pipeline.failure;
  }

  private pipelineOf(consumer: Consumer, topic: string, partition: number, depth: number): PartitionPipeline {
    const key = partitionKey(topic, partition);
    let pipeline = this.pipelines.get(key);
    // One slice at a time, a failure was thrown to kafkajs, which fetches the slice again: start clean.
    // With slices in flight, a failed pipeline stays (its partition paused) until the rebuild.
    if (!pipeline || (depth === 1 && pipeline.stopped)) {
      pipeline = new PartitionPipeline(
        depth,
        async ({ offset, marker }) => {
          const metadata = marker && encodeMarker(this.crashLoopGuard!.markerOf(marker));
          await this.kafkaCall(() => consumer.commitOffsets([{ topic, partition, offset, ...(metadata && { metadata }) }]));
          if (!marker) this.crashLoopGuard?.finished(topic, partition);
        },
        (error) => {
          // The process lives on: the slice's marker is no sign of a death when it is fetched again.
          this.crashLoopGuard?.finished(topic, partition);
          if (depth > 1) this.onPipelineFailure(consumer, topic, partition, error);
        },
      );
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /**
   * A slice whose outputs or commit Kafka did not take, with later slices already fetched and
   * resolved: kafkajs would fetch on past it. The partition is paused and the consumer rebuilt,
   * which resumes from the last commit (the start of the failed slice).
   */
  private onPipelineFailure(consumer: Consumer, topic: string, partition: number, error: unknown): void {
    try {
      consumer.pause([{ topic, partitions: [partition] }]);
    } catch {
      // Not running any more: the rebuild starts from the commit anyway.
    }
    if (endsGeneration(error)) {
      // A rebalance: kafkajs rejoins on its next heartbeat, and the join resumes every partition
      // from its commit. Rebuilding would leave the group as a new member, so the partition's
      // next owner would take this live member's slices in flight for a crash.
      this.logger.info({ topic, partition, reason: errorMessage(error) }, 'commit refused by a rebalance; waiting for the rejoin');
      this.pausedUntilJoin.set(partitionKey(topic, partition), { topic, partitions: [partition] });
      this.pausedForJoinSince ??= Date.now();
      return;
    }
    this.logger.warn({ err: error, topic, partition }, 'slice failed with later slices in flight; rebuilding the consumer');
    this.supervisor.scheduleRebuild(consumer);
  }

  /** Partitions paused for a rebalance fetch again: the join reset every position to its commit. */
  private resumeAfterJoin(consumer: Consumer): void {
    const partitions = [...this.pausedUntilJoin.values()];
    this.pausedUntilJoin.clear();
    this.pausedForJoinSince = undefined;
    if (partitions.length > 0) consumer.resume(partitions);
  }

  /** A new group generation (or a new consumer) redelivers from the commits: what was in flight is dropped. */
  private discardPipelines(): void {
    for (const pipeline of this.pipelines.values()) pipeline.discard();
    this.pipelines.clear();
  }

  /**
   * kafkajs heartbeats only between batches, so a slice that waits on a slow provider longer than
   * the session timeout would get the member dropped and its partitions redelivered elsewhere. A
   * timer heartbeats meanwhile. kafkajs shares one in-flight heartbeat between callers and skips it
   * when the last one is younger than the interval, so concurrent partitions do not multiply them.
   * A failed heartbeat (for example "rebalance in progress") is left to the loop's own heartbeat
   * after the slice, which makes kafkajs rejoin.
   */
  private heartbeatWhileBusy(payload: EachBatchPayload): () => void {
    const timer = setInterval(() => {
      payload.heartbeat().catch((error: unknown) => this.logger.debug({ err: error }, 'heartbeat during a slice failed'));
    }, this.settings.group.heartbeatIntervalMs);
    return () => clearInterval(timer);
  }

  /**
   * The head of a retry tier partition is not due yet: rewind to it, pause, and resume when it is.
   * Every record behind it in this tier is due no sooner (same delay, produced later).
   */
  private deferPartition(batch: Batch, message: KafkaMessage, payload: EachBatchPayload): void {
    if (!this.consumer || !payload.isRunning()) return;
    const dueIn = Math.max(0, notBeforeOf(headersToStrings(message.headers)) - Date.now());
    const partition = [{ topic: batch.topic, partitions: [batch.partition] }];
    this.consumer.pause(partition);
    this.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: message.offset });
    const timer = setTimeout(() => {
      this.resumeTimers.delete(timer);
      if (this.running) this.consumer?.resume(partition);
    }, dueIn);
    this.resumeTimers.add(timer);
  }

  /**
   * Decode → handler → encode, and what is sent where (outputs, retries, dead letters).
   * `crashed`: the record is not handled again but routed with this error (see CrashLoopGuard).
   */
  private async prepareSlice(batch: Batch, messages: KafkaMessage[], crashed?: Error): Promise<PreparedSlice<ContractTypes[N]>> {
    const started = process.hrtime.bigint();
    this.metrics.batchRecords.observe({ stage: this.settings.stage }, messages.length);
    this.handlersRunning++;
    try {
      const slots = await this.decode(messages);
      if (crashed) for (const slot of slots) slot.failure = { error: crashed, kind: 'permanent' };
      else await this.handle(batch, slots);
      this.encodeOutputs(batch, slots);
      this.rejectOversizeOutputs(slots);
      return { slots, out: this.collectOutgoing(batch, slots), started };
    } finally {
      this.handlersRunning--;
    }
  }

  /** Produces a prepared slice's records (acks=all); the pipeline commits after this. */
  private async finishSlice(
    batch: Batch,
    messages: KafkaMessage[],
    prepared: PreparedSlice<ContractTypes[N]>,
    isRetry: boolean,
  ): Promise<void> {
    const requestMaxBytes = Math.min(PRODUCE_REQUEST_MAX_BYTES, this.limits!.smallest() - RECORD_BATCH_HEADER_BYTES);
    for (const topicMessages of splitIntoRequests(prepared.out, requestMaxBytes)) {
      await this.kafkaCall(() => this.producer!.sendBatch({ acks: -1, topicMessages }));
    }
    this.metrics.batchSeconds.observe({ stage: this.settings.stage }, Number(process.hrtime.bigint() - prepared.started) / 1e9);
    this.countOutcomes(prepared.slots, isRetry);
    // Fresh lag for this partition; the LagMonitor covers idle partitions.
    const next = Number(messages[messages.length - 1].offset) + 1;
    const labels = { stage: this.settings.stage, topic: batch.topic, partition: String(batch.partition) };
    this.metrics.lag.set(labels, Math.max(0, Number(batch.highWatermark) - next));
  }

  private async decode(messages: KafkaMessage[]): Promise<Slot<ContractTypes[N]>[]> {
    return Promise.all(
      messages.map(async (message) => {
        const headers = headersToStrings(message.headers);
        const slot: Slot<ContractTypes[N]> = { message, headers, attempt: attemptOf(headers) };
        if (message.value === null && this.handler.handleTombstone) {
          slot.tombstone = true;
          return slot;
        }
        try {
          slot.value = await this.serde.decode(this.handler.input, message.value);
        } catch (error) {
          slot.failure = { error, kind: classifyError(error) };
        }
        return slot;
      }),
    );
  }

  private async handle(batch: Batch, slots: Slot<ContractTypes[N]>[]): Promise<void> {
    for (const slot of slots.filter((s) => s.tombstone)) this.handleTombstone(batch, slot);
    const ready = slots.filter((s) => !s.failure && !s.tombstone);
    if (ready.length === 0) return;
    const records: InboundRecord<ContractTypes[N]>[] = ready.map((s) => ({
      value: s.value as ContractTypes[N],
      key: s.message.key?.toString('utf8') ?? null,
      topic: batch.topic,
      partition: batch.partition,
      offset: s.message.offset,
      headers: s.headers,
      attempt: s.attempt,
    }));
    const timer = this.metrics.handlerSeconds.startTimer({ stage: this.settings.stage });
    try {
      const results = await this.handler.handle(records);
      if (results.length !== records.length) {
        throw new Error(`handler returned ${results.length} results for ${records.length} records`);
      }
      results.forEach((result, i) => {
        if ('error' in result) ready[i].failure = { error: result.error, kind: classifyError(result.error) };
        else ready[i].outputs = result.outputs;
      });
    } catch (error) {
      const failure = { error, kind: classifyError(error) };
      for (const slot of ready) slot.failure = failure;
      this.logger.warn({ err: error, records: ready.length, kind: failure.kind }, 'handler failed for the whole slice');
    } finally {
      timer();
    }
  }

  private handleTombstone(batch: Batch, slot: Slot<ContractTypes[N]>): void {
    try {
      slot.outputs = this.handler.handleTombstone!({
        key: slot.message.key?.toString('utf8') ?? null,
        topic: batch.topic,
        partition: batch.partition,
        offset: slot.message.offset,
        headers: slot.headers,
        attempt: slot.attempt,
      });
    } catch (error) {
      slot.failure = { error, kind: classifyError(error) };
    }
  }

  /**
   * Outputs are encoded per record, so a record whose output violates its schema fails alone.
   * Each carries the position of the record it came from (lineage; also lets a chaos test prove
   * a redelivery), set here so the size check counts these headers too.
   */
  private encodeOutputs(batch: Batch, slots: Slot<ContractTypes[N]>[]): void {
    for (const slot of slots) {
      if (slot.failure || !slot.outputs) continue;
      const headers = {
        [Headers.sourceTopic]: batch.topic,
        [Headers.sourcePartition]: String(batch.partition),
        [Headers.sourceOffset]: slot.message.offset,
      };
      try {
        slot.encoded = slot.outputs.map((o) => ({
          topic: o.topic,
          contract: o.contract,
          message: { key: o.key, value: this.serde.encode(o.contract, o.value as never), headers },
        }));
      } catch (error) {
        slot.failure = { error, kind: classifyError(error) };
      }
    }
  }

  /**
   * A record with an output its topic would reject fails alone, as a whole (none of its outputs
   * is produced): the broker would otherwise refuse the batch and fail every record of the slice.
   */
  private rejectOversizeOutputs(slots: Slot<ContractTypes[N]>[]): void {
    const limits = this.limits!;
    for (const slot of slots) {
      const error = slot.encoded && oversizeOutput(slot.encoded, (topic) => limits.limitOf(topic));
      if (!error) continue;
      slot.failure = { error, kind: classifyError(error) };
      slot.encoded = undefined;
    }
  }

  private collectOutgoing(batch: Batch, slots: Slot<ContractTypes[N]>[]): Map<string, Message[]> {
    const out = new Map<string, Message[]>();
    const push = (topic: string, message: Message) => {
      const list = out.get(topic);
      if (list) list.push(message);
      else out.set(topic, [message]);
    };
    const now = Date.now();
    for (const slot of slots) {
      if (!slot.failure) {
        for (const { topic, message } of slot.encoded ?? []) push(topic, message);
        continue;
      }
      const { kind, error } = slot.failure;
      const message = errorMessage(error);
      const firstFailureAt = firstFailureAtOf(slot.headers, now);
      const route = routeFailure({ kind, attempt: slot.attempt, firstFailureAt, now }, this.settings.retry, this.failureDestinations);
      const headers = failureHeaders({
        source: { topic: batch.topic, partition: batch.partition, offset: slot.message.offset, headers: slot.headers },
        stage: this.settings.stage,
        attempt: route.attempt,
        notBefore: route.destination === 'retry' ? route.notBefore : undefined,
        firstFailureAt,
        kind,
        errorClass: errorClassOf(error),
        message,
      });
      const record: Message = { key: slot.message.key, value: slot.message.value, headers };
      push(route.topic, record);
      if (route.destination === 'retry') {
        slot.routed = 'retried';
      } else {
        slot.routed = 'dead_lettered';
        const failed = this.failedEvent(slot, message, now);
        if (failed) push(this.topics.events, failed);
        this.logger.warn(
          { offset: slot.message.offset, topic: batch.topic, partition: batch.partition, kind, attempt: route.attempt, reason: message },
          'record dead-lettered',
        );
      }
    }
    return out;
  }

  /** A FAILED lifecycle event, so the gateway's status endpoint says which stage failed and why. */
  private failedEvent(slot: Slot<ContractTypes[N]>, reason: string, now: number): Message | undefined {
    const documentId = slot.message.key?.toString('utf8');
    if (!documentId) return undefined;
    const value = slot.value as { version?: number; submittedAt?: number; tenant?: string | null } | undefined;
    const event = lifecycleEvent('FAILED', {
      documentId,
      version: value?.version ?? 0,
      at: now,
      stage: this.settings.stage,
      chunkIndices: value && 'chunkIndex' in value ? [(value as { chunkIndex: number }).chunkIndex] : [],
      reason: reason.slice(0, 1_000),
      submittedAt: value?.submittedAt ?? null,
      // A document whose first event is its failure (produced straight to Kafka) still gets its owner.
      tenant: value?.tenant ?? null,
    });
    try {
      return { key: documentId, value: this.serde.encode('DocumentEvent', event) };
    } catch (error) {
      this.logger.error({ err: error }, 'could not encode FAILED event');
      return undefined;
    }
  }

  private countOutcomes(slots: Slot<ContractTypes[N]>[], isRetry: boolean): void {
    const source = isRetry ? 'retry' : 'main';
    const counts = { ok: 0, retried: 0, dead_lettered: 0 };
    for (const slot of slots) {
      counts[slot.routed ?? 'ok'] += 1;
    }
    for (const [outcome, n] of Object.entries(counts)) {
      if (n > 0) this.metrics.records.inc({ stage: this.settings.stage, source, outcome }, n);
    }
  }
}
