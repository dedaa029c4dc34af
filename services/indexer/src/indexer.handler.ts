import type { Client } from '@elastic/elasticsearch';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ELASTICSEARCH, PermanentError, SERVICE_CONFIG, TOPICS, TransientError } from '@rag/common';
import type { DocumentEvent, EmbeddedChunk, TopicNames } from '@rag/contracts';
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
import { METRICS_REGISTRY } from '@rag/common';
import type { IndexerConfig } from './indexer.config';

/** Bulk item statuses worth retrying: rejected by a busy node, or the shard was unavailable. */
const TRANSIENT_ITEM_STATUSES = new Set([429, 500, 502, 503, 504]);

/**
 * Embedded chunks in, Elasticsearch documents out: one `_bulk` per slice, the chunk id as
 * `_id` (so a redelivered chunk overwrites itself), per-item errors classified per record,
 * and an INDEXED event per document naming exactly the chunk indices that were written.
 */
@Injectable()
export class IndexerHandler implements StageHandler<'EmbeddedChunk'>, OnModuleInit {
  readonly input = 'EmbeddedChunk' as const;
  readonly writes = [];
  private readonly bulkSeconds: Histogram;
  private readonly itemErrors: Counter<'status'>;

  constructor(
    @Inject(ELASTICSEARCH) private readonly es: Client,
    @Inject(TOPICS) private readonly topics: TopicNames,
    @Inject(SERVICE_CONFIG) private readonly config: IndexerConfig,
    @Inject(STAGE_METRICS) private readonly stageMetrics: StageMetrics,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.bulkSeconds = new Histogram({
      name: 'rag_elasticsearch_bulk_duration_seconds',
      help: 'Latency of one _bulk request.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    this.itemErrors = new Counter({
      name: 'rag_elasticsearch_bulk_item_errors_total',
      help: 'Bulk items Elasticsearch rejected, by HTTP status.',
      labelNames: ['status'],
      registers: [registry],
    });
  }

  async onModuleInit(): Promise<void> {
    await ensureChunkIndex(this.es, this.config.ES_INDEX_ALIAS, this.config.EMBEDDING_DIMENSIONS);
  }

  async handle(records: InboundRecord<EmbeddedChunk>[]): Promise<RecordResult[]> {
    const now = Date.now();
    const results: RecordResult[] = records.map((r) => this.validate(r.value));
    const toWrite = records.map((r, i) => ({ record: r, i })).filter(({ i }) => !('error' in results[i]));
    if (toWrite.length > 0) await this.bulk(toWrite, results, now);
    this.attachIndexedEvents(records, results, now);
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

  private async bulk(items: { record: InboundRecord<EmbeddedChunk>; i: number }[], results: RecordResult[], now: number): Promise<void> {
    const operations = items.flatMap(({ record }) => [
      { index: { _index: this.config.ES_INDEX_ALIAS, _id: record.value.chunkId } },
      toChunkDocument(record.value, now),
    ]);
    const timer = this.bulkSeconds.startTimer();
    // A failing request (ES down, timeout) throws: the runtime fails the whole slice as transient.
    const response = await this.es.bulk({ operations, refresh: false }).finally(() => timer());
    response.items.forEach((item, n) => {
      const op = item.index;
      if (!op?.error) return;
      const status = op.status;
      this.itemErrors.inc({ status: String(status) });
      const reason = `elasticsearch rejected chunk ${op._id}: ${status} ${op.error.type}: ${op.error.reason ?? ''}`;
      results[items[n].i] = { error: TRANSIENT_ITEM_STATUSES.has(status) ? new TransientError(reason) : new PermanentError(reason) };
    });
  }

  /** One INDEXED event per (document, version) of the slice, attached to the last of its records. */
  private attachIndexedEvents(records: InboundRecord<EmbeddedChunk>[], results: RecordResult[], now: number): void {
    const byDocument = new Map<string, { last: number; chunk: EmbeddedChunk; indices: number[] }>();
    records.forEach((record, i) => {
      if ('error' in results[i]) return;
      const chunk = record.value;
      this.stageMetrics.endToEndSeconds.observe({ stage: 'indexer' }, Math.max(0, now - chunk.submittedAt) / 1000);
      const key = `${chunk.documentId}\u0000${chunk.version}`;
      const entry = byDocument.get(key) ?? { last: i, chunk, indices: [] };
      entry.last = i;
      entry.indices.push(chunk.chunkIndex);
      byDocument.set(key, entry);
    });
    for (const { last, chunk, indices } of byDocument.values()) {
      const event: DocumentEvent = {
        documentId: chunk.documentId,
        version: chunk.version,
        type: 'INDEXED',
        at: now,
        stage: 'indexer',
        chunkCount: chunk.chunkCount,
        chunkIndices: indices,
        reason: null,
        submittedAt: chunk.submittedAt,
      };
      const out: OutboundRecord = { topic: this.topics.events, key: chunk.documentId, contract: 'DocumentEvent', value: event };
      (results[last] as { outputs: OutboundRecord[] }).outputs.push(out);
    }
  }
}
