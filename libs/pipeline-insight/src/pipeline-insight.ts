import { CONSUMER_STAGES, type ConsumerStage, type TopicNames } from '@rag/contracts';
import type { Admin, Kafka } from 'kafkajs';

/** One stage at one moment, from the broker's view of its consumer group and topics. */
export interface StageSnapshot {
  stage: ConsumerStage;
  group: string;
  /** Group state as the coordinator reports it (Stable, PreparingRebalance, Empty, Dead, …). */
  state: string;
  /** Members of the consumer group: the running instances. */
  instances: number;
  /** Records in the stage's input and retry topics not yet committed by its group. */
  lag: number;
  /** Committed offsets summed over those topics: grows by one per record the stage finished. */
  consumed: number;
  /** Records ever sent to the stage's retry tiers. */
  retried: number;
  /** Records ever dead-lettered by the stage. */
  deadLettered: number;
  /** Records in the DLQ now (after purges). */
  deadLetters: number;
}

export interface PipelineSnapshot {
  /** Epoch ms when the snapshot was taken. */
  at: number;
  /** Records ever written to the documents topic. */
  submitted: number;
  stages: StageSnapshot[];
}

export interface StageRates {
  stage: ConsumerStage;
  recordsPerSecond: number;
  retriesPerSecond: number;
  deadLettersPerSecond: number;
}

interface TopicEnds {
  /** Sum of high watermarks. */
  high: number;
  /** Sum of log start offsets. */
  low: number;
  byPartition: Map<number, { high: bigint; low: bigint }>;
}

/**
 * What the console's pipeline view and `rag-stream top` show: instances, lag and progress of every
 * stage, read from Kafka itself (group membership, committed offsets, high watermarks), so it needs
 * neither Prometheus nor access to the services. Rates come from two snapshots (`stageRates`).
 */
export class PipelineInsight {
  private admin?: Admin;

  constructor(
    private readonly kafka: Kafka,
    private readonly topics: TopicNames,
    private readonly groups: Record<ConsumerStage, string>,
  ) {}

  async snapshot(): Promise<PipelineSnapshot> {
    const admin = await this.connected();
    const at = Date.now();
    const described = await admin.describeGroups(CONSUMER_STAGES.map((s) => this.groups[s]));
    const groupInfo = new Map(described.groups.map((g) => [g.groupId, g]));
    const ends = new Map<string, TopicEnds>();
    const endsOf = async (topic: string): Promise<TopicEnds> => {
      const known = ends.get(topic);
      if (known) return known;
      const offsets = await admin.fetchTopicOffsets(topic);
      const entry: TopicEnds = { high: 0, low: 0, byPartition: new Map() };
      for (const p of offsets) {
        entry.high += Number(p.high);
        entry.low += Number(p.low);
        entry.byPartition.set(p.partition, { high: BigInt(p.high), low: BigInt(p.low) });
      }
      ends.set(topic, entry);
      return entry;
    };
    const stages = await Promise.all(
      CONSUMER_STAGES.map(async (stage): Promise<StageSnapshot> => {
        const group = this.groups[stage];
        const retryTopics = this.topics.retryTiers(stage).map((t) => t.topic);
        const consumedTopics = [this.topics.input(stage), ...retryTopics];
        let lag = 0n;
        let consumed = 0n;
        const committed = await admin.fetchOffsets({ groupId: group, topics: consumedTopics });
        for (const { topic, partitions } of committed) {
          const topicEnds = await endsOf(topic);
          for (const { partition, offset } of partitions) {
            const end = topicEnds.byPartition.get(partition);
            if (!end) continue;
            // No commit yet (-1): everything since the log start is lag.
            const from = BigInt(offset) >= 0n ? BigInt(offset) : end.low;
            if (BigInt(offset) >= 0n) consumed += BigInt(offset);
            if (end.high > from) lag += end.high - from;
          }
        }
        const retried = (await Promise.all(retryTopics.map(endsOf))).reduce((n, e) => n + e.high, 0);
        const dlq = await endsOf(this.topics.dlq(stage));
        const info = groupInfo.get(group);
        return {
          stage,
          group,
          state: info?.state ?? 'Unknown',
          instances: info?.members.length ?? 0,
          lag: Number(lag),
          consumed: Number(consumed),
          retried,
          deadLettered: dlq.high,
          deadLetters: dlq.high - dlq.low,
        };
      }),
    );
    const submitted = (await endsOf(this.topics.documents)).high;
    return { at, submitted, stages };
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect();
  }

  private async connected(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    return this.admin;
  }
}

/** Per-second rates between two snapshots of the same pipeline (0 when no time passed). */
export function stageRates(previous: PipelineSnapshot, current: PipelineSnapshot): StageRates[] {
  const seconds = (current.at - previous.at) / 1000;
  const perSecond = (before: number, after: number) => (seconds > 0 ? Math.max(0, after - before) / seconds : 0);
  return current.stages.map((now) => {
    const before = previous.stages.find((s) => s.stage === now.stage) ?? now;
    return {
      stage: now.stage,
      recordsPerSecond: perSecond(before.consumed, now.consumed),
      retriesPerSecond: perSecond(before.retried, now.retried),
      deadLettersPerSecond: perSecond(before.deadLettered, now.deadLettered),
    };
  });
}
