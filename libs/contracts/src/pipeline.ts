import type { ContractName } from './schemas';

const KIB = 1024;
const MIB = 1024 * KIB;

/**
 * The pipeline's shape, in one place (as Spring Kafka's destination resolver keeps its chain as
 * data): the data topics with their contract and record size, and what each consumer stage reads
 * and writes. Topic names, provisioning (topics, sizes, schemas), the stage runtime's writer
 * schemas and the DLQ tool's decoding are derived from it. Adding a stage means: a topic here if it
 * writes a new one, an entry in STAGES, its contract (.avsc + types), and its service.
 */
export const DATA_TOPICS = {
  /** Whole documents (up to the gateway's 10 MiB default limit): written by the gateway and any producer. */
  documents: { contract: 'DocumentSubmitted', maxMessageBytes: 16 * MIB },
  /** A chunk is ~400 tokens (a few KiB) plus its document's metadata, which the gateway bounds. */
  chunks: { contract: 'Chunk', maxMessageBytes: 1 * MIB },
  /** A chunk plus its vector (at most 4096 floats, 16 KiB). */
  embeddings: { contract: 'EmbeddedChunk', maxMessageBytes: 1 * MIB + 64 * KIB },
  /** Lifecycle events, folded into the document registry. */
  events: { contract: 'DocumentEvent', maxMessageBytes: 1 * MIB },
} as const satisfies Record<string, { contract: ContractName; maxMessageBytes: number }>;

export type DataTopic = keyof typeof DATA_TOPICS;

/** Consumer stages in pipeline order: the topic each consumes and the topics it produces to. */
export const STAGES = {
  chunker: { reads: 'documents', writes: ['chunks', 'events'] },
  embedder: { reads: 'chunks', writes: ['embeddings'] },
  indexer: { reads: 'embeddings', writes: ['events'] },
} as const satisfies Record<string, { reads: DataTopic; writes: readonly DataTopic[] }>;

export type ConsumerStage = keyof typeof STAGES;
export const CONSUMER_STAGES = Object.keys(STAGES) as ConsumerStage[];

/** The contract a stage consumes. */
export type StageInput<S extends ConsumerStage> = (typeof DATA_TOPICS)[(typeof STAGES)[S]['reads']]['contract'];

/** Retry and dead-letter records are the consumed bytes plus failure headers (~1.5 KiB): room on top of the input's limit. */
export const FAILURE_HEADROOM_BYTES = 64 * KIB;
