/** Topic names, derived from the pipeline descriptor. Override the prefix with TOPIC_PREFIX (default `ingest`). */
import { CONSUMER_STAGES, DATA_TOPICS, STAGES, type ConsumerStage, type DataTopic } from './pipeline';

/**
 * Delays of the retry tiers (RETRY_TIERS_MS): attempt n waits in tier min(n, tiers) - 1. Every
 * record in one tier waits the same time, so in each tier partition due order is log order and a
 * long wait never holds back a record that is due sooner (it sits in a shorter tier).
 */
export const DEFAULT_RETRY_TIERS_MS: readonly number[] = [5_000, 30_000, 300_000];

/** One delay tier of a stage's retries: every record in `topic` waits `delayMs` after it was produced. */
export interface RetryTier {
  delayMs: number;
  topic: string;
}

/** `5s`, `30s`, `5m`, `1h`, `1500ms`: the tier's delay as the suffix of its topic name. */
export function retryTierSuffix(delayMs: number): string {
  if (delayMs % 3_600_000 === 0) return `${delayMs / 3_600_000}h`;
  if (delayMs % 60_000 === 0) return `${delayMs / 60_000}m`;
  if (delayMs % 1_000 === 0) return `${delayMs / 1_000}s`;
  return `${delayMs}ms`;
}

/** `<prefix>.<data topic>` for every data topic of the descriptor, and the stages' retry and DLQ topics. */
export type TopicNames = { readonly [T in DataTopic]: string } & StageTopicNames;

interface StageTopicNames {
  /** The stage's retry tiers, shortest delay first: `<prefix>.<stage>.retry.<delay>`. */
  retryTiers(stage: ConsumerStage): RetryTier[];
  dlq(stage: ConsumerStage): string;
  /** The main input topic of a consumer stage. */
  input(stage: ConsumerStage): string;
  /** The data topics a consumer stage produces to. */
  outputs(stage: ConsumerStage): string[];
  /** Every topic the pipeline uses, for provisioning. */
  all(): string[];
}

export function topicNames(
  prefix = process.env.TOPIC_PREFIX ?? 'ingest',
  retryTiersMs: readonly number[] = DEFAULT_RETRY_TIERS_MS,
): TopicNames {
  const tierDelays = [...new Set(retryTiersMs)].sort((a, b) => a - b);
  const data = Object.fromEntries(Object.keys(DATA_TOPICS).map((t) => [t, `${prefix}.${t}`])) as Record<DataTopic, string>;
  const names: TopicNames = {
    ...data,
    retryTiers: (stage) => tierDelays.map((delayMs) => ({ delayMs, topic: `${prefix}.${stage}.retry.${retryTierSuffix(delayMs)}` })),
    dlq: (stage) => `${prefix}.${stage}.dlq`,
    input: (stage) => data[STAGES[stage].reads],
    outputs: (stage) => STAGES[stage].writes.map((t) => data[t]),
    all: () => [...Object.values(data), ...CONSUMER_STAGES.flatMap((s) => [...names.retryTiers(s).map((t) => t.topic), names.dlq(s)])],
  };
  return names;
}

/** Registry subject of a topic's value schema (TopicNameStrategy). */
export const valueSubject = (topic: string): string => `${topic}-value`;
