import type { ContractName, ContractTypes, ConsumerStage } from '@rag/contracts';
import type { RetryPolicy } from './retry-policy';

/** A decoded record handed to a stage handler. */
export interface InboundRecord<T> {
  value: T;
  key: string | null;
  topic: string;
  partition: number;
  offset: string;
  headers: Record<string, string>;
  /** 0 when read from the main topic, n when read from a retry tier for the n-th time. */
  attempt: number;
}

/** A Kafka tombstone (null value) read from the stage's input: key = the id it deletes. */
export type TombstoneRecord = Omit<InboundRecord<null>, 'value'>;

/** A record a handler wants produced; the runtime encodes it with the contract's schema. */
export type OutboundRecord = {
  [N in ContractName]: { topic: string; key: string; contract: N; value: ContractTypes[N] };
}[ContractName];

/** Per-record outcome: the outputs to produce, or why it failed (see classifyError). */
export type RecordResult = { outputs: OutboundRecord[] } | { error: unknown };

/**
 * What a stage implements. `handle` gets a slice of the consumed batch (so it can batch
 * expensive calls across records) and returns one result per record, in the same order.
 * Throwing fails every record of the slice with that error.
 */
export interface StageHandler<N extends ContractName = ContractName> {
  /** Contract of the records the stage consumes. */
  readonly input: N;
  handle(records: InboundRecord<ContractTypes[N]>[]): Promise<RecordResult[]>;
  /**
   * Outputs for a tombstone, produced in log order with the slice's other outputs. A stage
   * without it dead-letters tombstones as undecodable.
   */
  handleTombstone?(record: TombstoneRecord): OutboundRecord[];
}

export interface StageRuntimeSettings {
  stage: ConsumerStage;
  groupId: string;
  maxBatchRecords: number;
  fetchMaxWaitMs: number;
  fetchMaxBytesPerPartition: number;
  fetchMaxBytes: number;
  partitionsConcurrency: number;
  /** Slices of one partition whose handlers may run at once (outputs and commits stay in order). */
  slicesInFlight: number;
  /** A record that crashed the process this many times, alone in its slice, is dead-lettered. */
  crashLoopMaxDeaths: number;
  /** See STAGE_STALL_TIMEOUT_MS (0 = no watchdog). */
  stallTimeoutMs?: number;
  /** Consumer group liveness: see KAFKA_SESSION_TIMEOUT_MS, KAFKA_HEARTBEAT_INTERVAL_MS, KAFKA_REBALANCE_TIMEOUT_MS. */
  group: {
    sessionTimeoutMs: number;
    heartbeatIntervalMs: number;
    rebalanceTimeoutMs: number;
  };
  /** How long transient failures are retried; the delays are the topics' retry tiers. */
  retry: RetryPolicy;
}
