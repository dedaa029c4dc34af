import { envBool } from '@rag/common';
import { z } from 'zod';

/** Settings of a consumer stage (chunker, embedder, indexer): batching, concurrency, retries. */
export const stageConfigSchema = z.object({
  KAFKA_GROUP_ID: z.string().optional(),
  /** Records handed to the handler at once; outputs are produced and offsets committed per such slice. */
  STAGE_MAX_BATCH_RECORDS: z.coerce.number().int().min(1).default(256),
  /**
   * How long the broker holds a fetch that finds no data (Kafka's fetch.max.wait.ms, same
   * default). A fetch returns as soon as any record arrives, so this sets the idle polling rate,
   * not latency: 100 ms kept an idle pipeline's Kafka broker at 4-5 % of a core, 500 ms at 3 %.
   */
  STAGE_FETCH_MAX_WAIT_MS: z.coerce.number().int().min(0).default(500),
  STAGE_FETCH_MAX_BYTES_PER_PARTITION: z.coerce
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024),
  /** Upper bound of one fetch response over all partitions: what a backlog costs in memory. */
  STAGE_FETCH_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024),
  /** Partitions processed in parallel by one instance. */
  STAGE_PARTITIONS_CONCURRENCY: z.coerce.number().int().min(1).default(3),
  /**
   * Slices whose handlers may run at once in one instance, over all its partitions. 1: each
   * partition handles one slice at a time (up to STAGE_PARTITIONS_CONCURRENCY partitions). Above
   * 1, a partition's next slices are handled while earlier ones wait, and kafkajs fetches on;
   * outputs and commits still go in log order. For handlers whose effects are idempotent and
   * order-free per record. Retry tiers always take one slice at a time.
   */
  STAGE_SLICES_IN_FLIGHT: z.coerce.number().int().min(1).max(16).default(1),
  /** A record that crashed the process this many times (handled alone) is dead-lettered instead of handled again. */
  STAGE_CRASH_LOOP_MAX_DEATHS: z.coerce.number().int().min(1).default(3),
  /**
   * The input topic has lag, no slice is running and none has run (nor a group join happened)
   * for this long: the consumer is stuck (seen after a broker restart: joined, fetching nothing)
   * and is rebuilt. 0 turns the watchdog off.
   */
  STAGE_STALL_TIMEOUT_MS: z.coerce.number().int().min(0).default(60_000),
  /** Attempts on the retry tiers before dead-lettering (5 s, 30 s, 5 min, 5 min, 5 min with the default tiers). */
  RETRY_MAX_ATTEMPTS: z.coerce.number().int().min(0).default(5),
  /** A transient failure is dead-lettered only after this long since its first failure (rides out outages). */
  RETRY_MIN_WINDOW_MS: z.coerce.number().int().min(0).default(300_000),
  KAFKA_AUTO_PROVISION: envBool.default('false'),
  /**
   * How long the group coordinator waits for a heartbeat before it drops a member and hands its
   * partitions to the others: bounds the pause after a crashed instance (kill -9, OOM, lost node).
   * The broker accepts 6000 to 1800000 (group.min/max.session.timeout.ms).
   */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(1).default(6_000),
  /** Heartbeat period, also while a long handler runs; about a third of the session timeout or less. */
  KAFKA_HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(1).default(1_000),
  /** How long a rebalance waits for members to rejoin (a member finishes its in-flight slice first). */
  KAFKA_REBALANCE_TIMEOUT_MS: z.coerce.number().int().min(1).default(60_000),
});

export type StageConfig = z.infer<typeof stageConfigSchema>;
