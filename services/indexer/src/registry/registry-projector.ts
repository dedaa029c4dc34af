import type { Client } from '@elastic/elasticsearch';
import type { ContractSerde } from '@rag/contracts';
import { DocumentRegistry, foldEvents, type PositionedEvent, type RegistryEffect } from '@rag/document-registry';
import { chunkIdsOf, deleteChunksById, purgeDocumentChunks } from '@rag/search-index';
import type { LivenessProbe } from '@rag/common';
import { ConsumerSupervisor, LagMonitor, settleWithin, type Stall } from '@rag/stage-runtime';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { RegistryMetrics } from './registry-metrics';

export interface RegistryProjectorSettings {
  groupId: string;
  eventsTopic: string;
  registryAlias: string;
  chunkAlias: string;
  partitionsConcurrency: number;
  /** The stages' group settings (KAFKA_SESSION_TIMEOUT_MS etc.): a crashed indexer's partitions move as fast. */
  group: { sessionTimeoutMs: number; heartbeatIntervalMs: number; rebalanceTimeoutMs: number };
  /** STAGE_STALL_TIMEOUT_MS: a consumer that consumes nothing this long while events wait is rebuilt (0 = never). */
  stallTimeoutMs: number;
}

/** Conflicting writers (another instance mid-rebalance, the gateway's acceptance) are re-read this often per batch. */
const MAX_CONFLICT_ROUNDS = 5;
const MAX_BACKOFF_MS = 10_000;
const PURGE_CONCURRENCY = 8;

/**
 * Projects the lifecycle events into the document registry, and carries out what they imply for
 * the chunk index: a completed version purges the older ones (after its own chunks are searchable),
 * a delete purges every chunk, a stale version's chunks are deleted by id.
 *
 * One consumer group (committed offsets, no history replay on restart). Events of one document
 * share a partition, so each record has one writer at a time; writes are still conditional on the
 * sequence number read. Per batch: fold → chunk deletes (wait for refresh) → registry write →
 * commit. A failure retries the same batch in place with backoff (order matters here; there is no
 * retry topic), heartbeating so the group does not rebalance meanwhile.
 *
 * Statuses are only as fresh as this consumer, so it is supervised like the stages' consumers: a
 * crash kafkajs does not restart from (after a broker restart: "Failed to find group coordinator")
 * or a stall rebuilds it, instead of leaving every status frozen until the process restarts.
 */
export class RegistryProjector implements LivenessProbe {
  readonly name = 'registry-projector';
  private consumer?: Consumer;
  private running = false;
  private readonly supervisor: ConsumerSupervisor;
  private lagMonitor?: LagMonitor;
  /** Last sign of progress (a batch arrived, the group was joined), for the stall watchdog. */
  private lastProgressAt = Date.now();
  /** Batches being projected now: they retry Elasticsearch in place on their own, so the watchdog leaves them be. */
  private batchesProjecting = 0;
  /** Commits of the current consumer not answered yet, with their start times. */
  private readonly commits = new Map<object, number>();
  private readonly registry: DocumentRegistry;

  constructor(
    private readonly kafka: Kafka,
    private readonly es: Client,
    private readonly serde: ContractSerde,
    private readonly settings: RegistryProjectorSettings,
    private readonly metrics: RegistryMetrics,
    private readonly logger: Logger,
  ) {
    this.registry = new DocumentRegistry(es, settings.registryAlias);
    this.supervisor = new ConsumerSupervisor({
      stallTimeoutMs: settings.stallTimeoutMs,
      findStall: (timeoutMs) => this.findStall(timeoutMs),
      rebuild: async (broken) => {
        await settleWithin(broken.disconnect(), 10_000);
        await this.startConsumer();
      },
      counters: { stalls: metrics.consumerStalls, rebuilds: metrics.consumerRebuilds },
      logger,
    });
  }

  isAlive(): boolean {
    return this.supervisor.isAlive();
  }

  async start(): Promise<void> {
    this.running = true;
    this.supervisor.start();
    await this.startConsumer();
    this.lagMonitor = new LagMonitor(
      this.kafka,
      this.settings.groupId,
      [this.settings.eventsTopic],
      (topic, partition, lag) => this.metrics.lag.set({ topic, partition: String(partition) }, lag),
      this.logger,
    );
    await this.lagMonitor.start();
    this.logger.info({ topic: this.settings.eventsTopic, group: this.settings.groupId }, 'registry projector consuming');
  }

  async stop(): Promise<void> {
    this.running = false;
    this.supervisor.stop();
    await this.lagMonitor?.stop();
    await this.consumer?.disconnect();
  }

  private async startConsumer(): Promise<void> {
    if (!this.running) return;
    const consumer = this.kafka.consumer({
      groupId: this.settings.groupId,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
      sessionTimeout: this.settings.group.sessionTimeoutMs,
      heartbeatInterval: this.settings.group.heartbeatIntervalMs,
      rebalanceTimeout: this.settings.group.rebalanceTimeoutMs,
    });
    this.consumer = consumer;
    this.commits.clear();
    this.lastProgressAt = Date.now();
    this.supervisor.watch(consumer);
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.lastProgressAt = Date.now();
      this.supervisor.joined();
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.settings.eventsTopic, fromBeginning: true });
    // Not awaited, like the stage's consumer: the join may wait for a crashed member's session.
    this.supervisor.supervise(
      consumer,
      consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.settings.partitionsConcurrency,
        eachBatch: (payload) => this.onBatch(consumer, payload),
      }),
    );
  }

  /** Stuck: a commit unanswered for the stall timeout, or events waiting while nothing was consumed that long. */
  private findStall(timeoutMs: number): Stall | undefined {
    const waitingMs = Date.now() - Math.min(...this.commits.values());
    if (waitingMs >= timeoutMs) return { reason: 'a registry commit has not returned; rebuilding the consumer', facts: { waitingMs } };
    if (this.batchesProjecting > 0) return undefined;
    const lag = this.lagMonitor?.lagOf(this.settings.eventsTopic) ?? 0;
    const idleMs = Date.now() - this.lastProgressAt;
    if (lag === 0 || idleMs < timeoutMs) return undefined;
    return { reason: 'registry consumer stalled: events waiting and nothing consumed; rebuilding it', facts: { lag, idleMs } };
  }

  private async onBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    this.lastProgressAt = Date.now();
    if (batch.messages.length === 0) return;
    this.batchesProjecting++;
    try {
      await this.projectBatch(consumer, payload);
    } finally {
      this.batchesProjecting--;
      this.lastProgressAt = Date.now();
    }
  }

  private async projectBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const events: PositionedEvent[] = [];
    for (const message of batch.messages) {
      try {
        events.push({ event: await this.serde.decode('DocumentEvent', message.value), partition: batch.partition, offset: message.offset });
      } catch (err) {
        // Lifecycle events are written by this pipeline only; one that does not decode cannot be folded.
        this.metrics.undecodable.inc();
        this.logger.warn({ err, partition: batch.partition, offset: message.offset }, 'skipping undecodable lifecycle event');
      }
    }
    for (let attempt = 1; payload.isRunning() && !payload.isStale(); attempt++) {
      try {
        const timer = this.metrics.batchSeconds.startTimer();
        await this.project(events);
        timer();
        break;
      } catch (err) {
        const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(attempt, 6));
        this.metrics.failures.inc();
        this.logger.warn({ err, attempt, delayMs: delay, partition: batch.partition }, 'registry projection failed; retrying the batch');
        await sleepWithHeartbeat(delay, payload);
      }
    }
    if (!payload.isRunning() || payload.isStale()) return;
    const last = batch.messages[batch.messages.length - 1].offset;
    payload.resolveOffset(last);
    const commit = {};
    this.commits.set(commit, Date.now());
    try {
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
    } finally {
      this.commits.delete(commit);
    }
    for (const { event } of events) this.metrics.events.inc({ type: event.type });
  }

  /** Folds the events of a batch into their documents' records, runs the chunk deletes, writes the records. */
  async project(events: PositionedEvent[]): Promise<void> {
    const byDocument = new Map<string, PositionedEvent[]>();
    for (const positioned of events) {
      const list = byDocument.get(positioned.event.documentId);
      if (list) list.push(positioned);
      else byDocument.set(positioned.event.documentId, [positioned]);
    }
    let pending = [...byDocument.keys()];
    for (let round = 0; round < MAX_CONFLICT_ROUNDS && pending.length > 0; round++) {
      const stored = await this.registry.getMany(pending);
      const folds = pending.map((id) => ({ read: stored.get(id), ...foldEvents(stored.get(id)?.record, byDocument.get(id)!) }));
      const changed = folds.filter((f) => f.changed && f.record);
      await this.runEffects(changed.flatMap((f) => f.effects));
      const conflicts = await this.registry.write(changed.map((f) => ({ record: f.record!, read: f.read })));
      pending = [...conflicts];
    }
    if (pending.length > 0) throw new Error(`registry records kept changing under this writer: ${pending.slice(0, 5).join(', ')}`);
  }

  private async runEffects(effects: RegistryEffect[]): Promise<void> {
    const byId = effects.flatMap((e) => (e.kind === 'deleteChunks' ? chunkIdsOf(e.documentId, e.version, e.chunkIndices) : []));
    if (byId.length > 0)
      this.metrics.chunksDeleted.inc({ reason: 'stale' }, await deleteChunksById(this.es, this.settings.chunkAlias, byId));
    const purges = effects.filter((e) => e.kind !== 'deleteChunks');
    for (let i = 0; i < purges.length; i += PURGE_CONCURRENCY) {
      await Promise.all(
        purges.slice(i, i + PURGE_CONCURRENCY).map(async (effect) => {
          const range =
            effect.kind === 'purgeOlderVersions'
              ? { below: effect.below }
              : effect.kind === 'purgeDeleted' && effect.upTo !== null
                ? { upTo: effect.upTo }
                : {};
          const deleted = await purgeDocumentChunks(this.es, this.settings.chunkAlias, effect.documentId, range);
          this.metrics.chunksDeleted.inc({ reason: effect.kind === 'purgeOlderVersions' ? 'superseded' : 'deleted' }, deleted);
        }),
      );
    }
  }
}

async function sleepWithHeartbeat(ms: number, payload: EachBatchPayload): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && payload.isRunning()) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, until - Date.now())));
    await payload.heartbeat().catch(() => undefined);
  }
}
