import type { Client } from '@elastic/elasticsearch';
import type { ContractSerde } from '@rag/contracts';
import { DocumentRegistry, foldEvents, type PositionedEvent, type RegistryEffect } from '@rag/document-registry';
import { chunkIdsOf, deleteChunksById, purgeDocumentChunks } from '@rag/search-index';
import type { LivenessProbe } from '@rag/common';
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
 */
export class RegistryProjector implements LivenessProbe {
  readonly name = 'registry-projector';
  private consumer?: Consumer;
  private crashed = false;
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
  }

  isAlive(): boolean {
    return !this.crashed;
  }

  async start(): Promise<void> {
    this.consumer = this.kafka.consumer({
      groupId: this.settings.groupId,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
      sessionTimeout: this.settings.group.sessionTimeoutMs,
      heartbeatInterval: this.settings.group.heartbeatIntervalMs,
      rebalanceTimeout: this.settings.group.rebalanceTimeoutMs,
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      this.logger.error({ err: payload.error, restart: payload.restart }, 'registry consumer crashed');
      if (!payload.restart) this.crashed = true;
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.settings.eventsTopic, fromBeginning: true });
    // Not awaited, like the stage's consumer: the join may wait for a crashed member's session.
    void this.consumer
      .run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.settings.partitionsConcurrency,
        eachBatch: (payload) => this.onBatch(payload),
      })
      .catch((err: unknown) => {
        this.crashed = true;
        this.logger.error({ err }, 'registry consumer could not start');
      });
    this.logger.info({ topic: this.settings.eventsTopic, group: this.settings.groupId }, 'registry projector consuming');
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
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
    await this.consumer!.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
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
