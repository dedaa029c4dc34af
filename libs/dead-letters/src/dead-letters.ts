import { IDEMPOTENT_PRODUCER } from '@rag/common';
import {
  contractOfTopic,
  DEFAULT_TENANT,
  Headers,
  tenantOf,
  type ConsumerStage,
  type ContractSerde,
  type ContractName,
  type TopicNames,
} from '@rag/contracts';
import type { Kafka } from 'kafkajs';
import { readDeadLetters, reasonOf, replayHeaders, type DeadLetter } from './dead-letter-reader';

export interface DeadLetterSummary {
  stage: ConsumerStage;
  topic: string;
  records: number;
  documents: number;
  /** Most frequent first. */
  reasons: { reason: string; count: number }[];
}

export interface InspectedDeadLetter {
  partition: number;
  offset: string;
  key: string | null;
  timestamp: string;
  reason: string;
  errorClass: string | null;
  headers: Record<string, string>;
  /** The decoded record (vectors shortened to their length), or why it could not be decoded. */
  value: unknown;
}

export interface ReplayPlanEntry {
  partition: number;
  offset: string;
  key: string | null;
  target: string;
  reason: string;
}

export interface ReplayResult {
  topic: string;
  dryRun: boolean;
  replayed: number;
  records: ReplayPlanEntry[];
}

export interface DeadLetterFilter {
  /** Only records of this document (the record key). */
  document?: string;
  /** Only records of this tenant's documents (tombstones count as the default tenant's). */
  tenant?: string;
}

/**
 * The stages' dead-letter topics as an API: counts by reason, decoded records, replay to the
 * original topic (attempts reset) and purge. Used by the `dlq` commands and the gateway's admin
 * endpoints, so both answer the same.
 */
export class DeadLetters {
  private readonly contracts: Record<string, ContractName>;

  constructor(
    private readonly kafka: Kafka,
    private readonly topics: TopicNames,
    private readonly serde: ContractSerde,
    /** Distinguishes the replay groups of pipelines sharing a cluster (the topic prefix). */
    private readonly pipelineName: string,
  ) {
    this.contracts = contractOfTopic(topics);
  }

  /** Offsets of the replay group mark what was replayed, so a second `replay` does not replay again. */
  replayGroup(stage: ConsumerStage): string {
    return `rag-dlq-replay-${this.pipelineName}-${stage}`;
  }

  async summary(stage: ConsumerStage, filter: DeadLetterFilter = {}): Promise<DeadLetterSummary> {
    const topic = this.topics.dlq(stage);
    const records = await this.select(stage, await readDeadLetters(this.kafka, topic), filter);
    const byReason = new Map<string, number>();
    for (const r of records) byReason.set(reasonOf(r), (byReason.get(reasonOf(r)) ?? 0) + 1);
    return {
      stage,
      topic,
      records: records.length,
      documents: new Set(records.map((r) => r.key)).size,
      reasons: [...byReason].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
    };
  }

  async inspect(stage: ConsumerStage, options: DeadLetterFilter & { limit?: number } = {}): Promise<InspectedDeadLetter[]> {
    const records = await this.select(stage, await readDeadLetters(this.kafka, this.topics.dlq(stage)), options);
    const chosen = records.slice(0, options.limit ?? 20);
    return Promise.all(
      chosen.map(async (r) => ({
        partition: r.partition,
        offset: r.offset,
        key: r.key,
        timestamp: r.timestamp,
        reason: reasonOf(r),
        errorClass: r.headers[Headers.errorClass] ?? null,
        headers: r.headers,
        value: await this.decode(stage, r),
      })),
    );
  }

  /**
   * Produces dead letters back to the topic they failed on. Without `document` or `all` only what
   * was not replayed before, and the replay group is then moved past it.
   */
  async replay(stage: ConsumerStage, options: DeadLetterFilter & { all?: boolean; dryRun?: boolean } = {}): Promise<ReplayResult> {
    const topic = this.topics.dlq(stage);
    const group = this.replayGroup(stage);
    // The replay group is shared: a replay of one document or one tenant must not move it past others' records.
    const fromScratch = options.all === true || options.document !== undefined || options.tenant !== undefined;
    const records = await readDeadLetters(this.kafka, topic, fromScratch ? {} : { afterGroup: group });
    const chosen = await this.select(stage, records, options);
    const plan = chosen.map((record) => ({ record, target: record.headers[Headers.originalTopic] ?? this.topics.input(stage) }));
    const result: ReplayResult = {
      topic,
      dryRun: options.dryRun === true,
      replayed: 0,
      records: plan.map(({ record, target }) => ({
        partition: record.partition,
        offset: record.offset,
        key: record.key,
        target,
        reason: reasonOf(record),
      })),
    };
    if (options.dryRun || plan.length === 0) return result;
    const now = Date.now();
    const byTarget = new Map<string, { key: string | null; value: Buffer | null; headers: Record<string, string> }[]>();
    for (const { record, target } of plan) {
      const messages = byTarget.get(target) ?? [];
      messages.push({ key: record.key, value: record.value, headers: replayHeaders(record.headers, now) });
      byTarget.set(target, messages);
    }
    const producer = this.kafka.producer(IDEMPOTENT_PRODUCER);
    await producer.connect();
    try {
      await producer.sendBatch({ acks: -1, topicMessages: [...byTarget].map(([t, messages]) => ({ topic: t, messages })) });
    } finally {
      await producer.disconnect();
    }
    if (!fromScratch) await this.markReplayed(group, topic, records);
    return { ...result, replayed: plan.length };
  }

  /** Records a purge would delete: Kafka deletes whole partition prefixes, never single records. */
  async count(stage: ConsumerStage): Promise<number> {
    const offsets = await this.withAdmin((admin) => admin.fetchTopicOffsets(this.topics.dlq(stage)));
    return offsets.reduce((n, p) => n + Number(BigInt(p.high) - BigInt(p.low)), 0);
  }

  /** Deletes every record of the stage's DLQ; returns how many. */
  async purge(stage: ConsumerStage): Promise<{ topic: string; purged: number }> {
    const topic = this.topics.dlq(stage);
    return this.withAdmin(async (admin) => {
      const offsets = await admin.fetchTopicOffsets(topic);
      const purged = offsets.reduce((n, p) => n + Number(BigInt(p.high) - BigInt(p.low)), 0);
      await admin.deleteTopicRecords({ topic, partitions: offsets.map((p) => ({ partition: p.partition, offset: p.high })) });
      return { topic, purged };
    });
  }

  private async select(stage: ConsumerStage, records: DeadLetter[], filter: DeadLetterFilter): Promise<DeadLetter[]> {
    const ofDocument = filter.document ? records.filter((r) => r.key === filter.document) : records;
    if (filter.tenant === undefined) return ofDocument;
    const tenants = await Promise.all(ofDocument.map((r) => this.tenantOfRecord(stage, r)));
    return ofDocument.filter((_, i) => tenants[i] === filter.tenant);
  }

  private async tenantOfRecord(stage: ConsumerStage, record: DeadLetter): Promise<string> {
    if (record.value === null) return DEFAULT_TENANT;
    const decoded = await this.decode(stage, record);
    return tenantOf((decoded ?? {}) as { tenant?: string | null });
  }

  private async decode(stage: ConsumerStage, record: DeadLetter): Promise<unknown> {
    const contract = this.contracts[record.headers[Headers.originalTopic] ?? this.topics.input(stage)];
    try {
      if (!contract) throw new Error(`no contract for topic ${record.headers[Headers.originalTopic]}`);
      const decoded = await this.serde.decode(contract, record.value);
      return JSON.parse(
        JSON.stringify(decoded, (k, v: unknown) => (k === 'embedding' && Array.isArray(v) ? `[${v.length} floats]` : v)),
      ) as unknown;
    } catch (err) {
      return { undecodable: (err as Error).message, bytes: record.value?.subarray(0, 64).toString('hex') ?? null };
    }
  }

  /** Commits the replay group past what was just replayed (only when replaying everything pending). */
  private async markReplayed(group: string, topic: string, records: DeadLetter[]): Promise<void> {
    const last = new Map<number, bigint>();
    for (const r of records) last.set(r.partition, BigInt(r.offset));
    if (last.size === 0) return;
    await this.withAdmin((admin) =>
      admin.setOffsets({
        groupId: group,
        topic,
        partitions: [...last].map(([partition, offset]) => ({ partition, offset: (offset + 1n).toString() })),
      }),
    );
  }

  private async withAdmin<T>(work: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return await work(admin);
    } finally {
      await admin.disconnect();
    }
  }
}
