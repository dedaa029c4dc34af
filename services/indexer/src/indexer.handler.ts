import type { Client } from '@elastic/elasticsearch';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ELASTICSEARCH, METRICS_REGISTRY, PermanentError, SERVICE_CONFIG, TOPICS, TransientError } from '@rag/common';
import { lifecycleEvent, type DocumentEventType, type EmbeddedChunk, type TopicNames } from '@rag/contracts';
import { DocumentRegistry } from '@rag/document-registry';
import { ensureChunkIndex, toChunkDocument } from '@rag/search-index';
import {
  STAGE_METRICS,
  type InboundRecord,
  type OutboundRecord,
  type RecordResult,
  type StageHandler,
  type StageMetrics,
} from '@rag/stage-runtime';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { IndexerConfig } from './indexer.config';

/** Bulk item statuses worth retrying: rejected by a busy node, or the shard was unavailable. */
const TRANSIENT_ITEM_STATUSES = new Set([429, 500, 502, 503, 504]);

type Indexed = { record: InboundRecord<EmbeddedChunk>; i: number };

/**
 * Embedded chunks in, Elasticsearch documents out: one `_bulk` per slice, the chunk id as `_id`
 * (a redelivered chunk overwrites itself), per-item errors classified per record. The bulk waits
 * for a refresh (`refresh=wait_for`), so when the INDEXED event naming a chunk exists, a search
 * returns that chunk: `indexed` means searchable. Chunks of a version the registry already knows
 * to be superseded or deleted are not written (a SUPERSEDED event names them instead).
 */
@Injectable()
export class IndexerHandler implements StageHandler<'EmbeddedChunk'>, OnModuleInit {
  readonly input = 'EmbeddedChunk' as const;
  private readonly bulkSeconds: Histogram;
  private readonly itemErrors: Counter<'status'>;
  private readonly skipped: Counter;
  private readonly registry: DocumentRegistry;

  constructor(
    @Inject(ELASTICSEARCH) private readonly es: Client,
    @Inject(TOPICS) private readonly topics: TopicNames,
    @Inject(SERVICE_CONFIG) private readonly config: IndexerConfig,
    @Inject(STAGE_METRICS) private readonly stageMetrics: StageMetrics,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.registry = new DocumentRegistry(es, config.ES_REGISTRY_ALIAS);
    this.bulkSeconds = new Histogram({
      name: 'rag_elasticsearch_bulk_duration_seconds',
      help: 'Latency of one _bulk request (including the wait for the refresh that makes it searchable).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    this.itemErrors = new Counter({
      name: 'rag_elasticsearch_bulk_item_errors_total',
      help: 'Bulk items Elasticsearch rejected, by HTTP status.',
      labelNames: ['status'],
      registers: [registry],
    });
    this.skipped = new Counter({
      name: 'rag_indexer_superseded_chunks_total',
      help: 'Chunks not written because the registry knows a newer version of their document, or its deletion.',
      registers: [registry],
    });
  }

  async onModuleInit(): Promise<void> {
    await ensureChunkIndex(this.es, this.config.ES_INDEX_ALIAS, this.config.EMBEDDING_DIMENSIONS, {
      replicas: this.config.ES_NUMBER_OF_REPLICAS,
      segmentsPerTier: this.config.ES_MERGE_SEGMENTS_PER_TIER,
    });
  }

  async handle(records: InboundRecord<EmbeddedChunk>[]): Promise<RecordResult[]> {
    const now = Date.now();
    const results: RecordResult[] = records.map((r) => this.validate(r.value));
    const candidates = records.map((record, i) => ({ record, i })).filter(({ i }) => !('error' in results[i]));
    const stale = await this.supersededVersions(candidates.map(({ record }) => record.value));
    const superseded = candidates.filter(({ record }) => stale.has(versionKey(record.value)));
    const toWrite = candidates.filter(({ record }) => !stale.has(versionKey(record.value)));
    if (toWrite.length > 0) await this.bulk(toWrite, results, now);
    this.skipped.inc(superseded.length);
    const searchableAt = Date.now();
    this.attachEvents('INDEXED', toWrite, results, searchableAt);
    this.attachEvents('SUPERSEDED', superseded, results, searchableAt);
    for (const { record, i } of toWrite) {
      if ('error' in results[i]) continue;
      this.stageMetrics.endToEndSeconds.observe({ stage: 'indexer' }, Math.max(0, searchableAt - record.value.submittedAt) / 1000);
    }
    return results;
  }

  private validate(chunk: EmbeddedChunk): RecordResult {
    if (chunk.embedding.length !== this.config.EMBEDDING_DIMENSIONS) {
      return {
        error: new PermanentError(
          `embedding has ${chunk.embedding.length} dimensions, the index expects ${this.config.EMBEDDING_DIMENSIONS}`,
        ),
      };
    }
    return { outputs: [] };
  }

  /** (document, version) pairs of the slice that the registry knows to be superseded or deleted. */
  private async supersededVersions(chunks: EmbeddedChunk[]): Promise<Set<string>> {
    const stale = new Set<string>();
    if (chunks.length === 0) return stale;
    const known = await this.registry.getMany(chunks.map((c) => c.documentId));
    for (const chunk of chunks) {
      const record = known.get(chunk.documentId)?.record;
      if (!record) continue;
      const deleted = record.deletedVersion !== null && chunk.version <= record.deletedVersion;
      if (deleted || chunk.version < record.version) stale.add(versionKey(chunk));
    }
    return stale;
  }

  private async bulk(items: Indexed[], results: RecordResult[], now: number): Promise<void> {
    const operations = items.flatMap(({ record }) => [
      { index: { _index: this.config.ES_INDEX_ALIAS, _id: record.value.chunkId } },
      toChunkDocument(record.value, now),
    ]);
    const timer = this.bulkSeconds.startTimer();
    // A failing request (ES down, timeout) throws: the runtime fails the whole slice as transient.
    const response = await this.es.bulk({ operations, refresh: 'wait_for' }).finally(() => timer());
    response.items.forEach((item, n) => {
      const op = item.index;
      if (!op?.error) return;
      const status = op.status;
      this.itemErrors.inc({ status: String(status) });
      const reason = `elasticsearch rejected chunk ${op._id}: ${status} ${op.error.type}: ${op.error.reason ?? ''}`;
      results[items[n].i] = { error: TRANSIENT_ITEM_STATUSES.has(status) ? new TransientError(reason) : new PermanentError(reason) };
    });
  }

  /** One event per (document, version) of the slice, naming its chunk indices, attached to the last of its records. */
  private attachEvents(type: DocumentEventType, items: Indexed[], results: RecordResult[], now: number): void {
    const byVersion = new Map<string, { last: number; chunk: EmbeddedChunk; indices: number[] }>();
    for (const { record, i } of items) {
      if ('error' in results[i]) continue;
      const entry = byVersion.get(versionKey(record.value)) ?? { last: i, chunk: record.value, indices: [] };
      entry.last = i;
      entry.indices.push(record.value.chunkIndex);
      byVersion.set(versionKey(record.value), entry);
    }
    for (const { last, chunk, indices } of byVersion.values()) {
      const event = lifecycleEvent(type, {
        documentId: chunk.documentId,
        version: chunk.version,
        at: now,
        stage: 'indexer',
        chunkCount: chunk.chunkCount,
        chunkIndices: indices,
        submittedAt: chunk.submittedAt,
      });
      const out: OutboundRecord = { topic: this.topics.events, key: chunk.documentId, contract: 'DocumentEvent', value: event };
      (results[last] as { outputs: OutboundRecord[] }).outputs.push(out);
    }
  }
}

const versionKey = (chunk: EmbeddedChunk): string => `${chunk.documentId}\u0000${chunk.version}`;
