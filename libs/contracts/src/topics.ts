/** Topic names, in one place. Override the prefix with TOPIC_PREFIX (default `ingest`). */
export type ConsumerStage = 'chunker' | 'embedder' | 'indexer';
export const CONSUMER_STAGES: readonly ConsumerStage[] = ['chunker', 'embedder', 'indexer'];

export interface TopicNames {
  documents: string;
  chunks: string;
  embeddings: string;
  events: string;
  retry(stage: ConsumerStage): string;
  dlq(stage: ConsumerStage): string;
  /** The main input topic of a consumer stage. */
  input(stage: ConsumerStage): string;
  /** Every topic the pipeline uses, for provisioning. */
  all(): string[];
}

export function topicNames(prefix = process.env.TOPIC_PREFIX ?? 'ingest'): TopicNames {
  const names = {
    documents: `${prefix}.documents`,
    chunks: `${prefix}.chunks`,
    embeddings: `${prefix}.embeddings`,
    events: `${prefix}.events`,
    retry: (stage: ConsumerStage) => `${prefix}.${stage}.retry`,
    dlq: (stage: ConsumerStage) => `${prefix}.${stage}.dlq`,
    input: (stage: ConsumerStage) => ({ chunker: names.documents, embedder: names.chunks, indexer: names.embeddings })[stage],
    all: () => [
      names.documents,
      names.chunks,
      names.embeddings,
      names.events,
      ...CONSUMER_STAGES.flatMap((s) => [names.retry(s), names.dlq(s)]),
    ],
  };
  return names;
}

/** Registry subject of a topic's value schema (TopicNameStrategy). */
export const valueSubject = (topic: string): string => `${topic}-value`;
