import { DEFAULT_RETRY_TIERS_MS } from '@rag/contracts';
import { z } from 'zod';

/** Parses a comma-separated list ("a:1,b:2"). */
const csv = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string()).min(1));

/** Parses a comma-separated list of positive integers ("5000,30000"). */
const positiveInts = z
  .string()
  .transform((s) => s.split(',').map((p) => Number(p.trim())))
  .pipe(z.array(z.number().int().positive()).min(1));

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/**
 * Settings every service reads from the environment. Each field's default is documented in the
 * README's configuration table; this schema is where they are defined and validated.
 */
export const baseConfigSchema = z.object({
  /** Port of the HTTP server (health, readiness, metrics; the API for the gateway). */
  HTTP_PORT: z.coerce.number().int().min(0).max(65535),
  HTTP_HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  KAFKA_BROKERS: csv.default('127.0.0.1:9092'),
  KAFKA_CLIENT_ID: z.string().optional(),
  SCHEMA_REGISTRY_URL: z.string().url().default('http://127.0.0.1:8081/apis/ccompat/v7'),
  TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]+$/)
    .default('ingest'),
  /** Graceful shutdown: how long in-flight work may take to finish before the process exits. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  /**
   * Delays of the retry tiers, ms: one topic `<prefix>.<stage>.retry.<delay>` per tier; attempt n
   * waits in tier min(n, tiers). Here (not in the stage schema) because topic names derive from it.
   */
  RETRY_TIERS_MS: positiveInts.default(DEFAULT_RETRY_TIERS_MS.join(',')),
});

export const elasticsearchConfigSchema = z.object({
  ELASTICSEARCH_URL: z.string().url().default('http://127.0.0.1:9200'),
  ELASTICSEARCH_USERNAME: z.string().optional(),
  ELASTICSEARCH_PASSWORD: z.string().optional(),
  /** Alias that reads and writes go through; the concrete index is `<alias>-000001`. */
  ES_INDEX_ALIAS: z.string().default('rag-chunks'),
  /** Alias of the document registry index (one record per document: version, status, progress). */
  ES_REGISTRY_ALIAS: z.string().default('rag-documents'),
});

/** Settings of a consumer stage (chunker, embedder, indexer): batching, concurrency, retries. */
export const stageConfigSchema = z.object({
  KAFKA_GROUP_ID: z.string().optional(),
  /** Records handed to the handler at once; outputs are produced and offsets committed per such slice. */
  STAGE_MAX_BATCH_RECORDS: z.coerce.number().int().min(1).default(256),
  /** How long the broker may wait to fill a fetch (the linger of batch consumption). */
  STAGE_FETCH_MAX_WAIT_MS: z.coerce.number().int().min(0).default(100),
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
  /** A record that crashed the process this many times (handled alone) is dead-lettered instead of handled again. */
  STAGE_CRASH_LOOP_MAX_DEATHS: z.coerce.number().int().min(1).default(3),
  /** Attempts on the retry tiers before dead-lettering (5 s, 30 s, 5 min, 5 min, 5 min with the default tiers). */
  RETRY_MAX_ATTEMPTS: z.coerce.number().int().min(0).default(5),
  /** A transient failure is dead-lettered only after this long since its first failure (rides out outages). */
  RETRY_MIN_WINDOW_MS: z.coerce.number().int().min(0).default(300_000),
  KAFKA_AUTO_PROVISION: bool.default('false'),
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

export type BaseConfig = z.infer<typeof baseConfigSchema>;
export type StageConfig = z.infer<typeof stageConfigSchema>;
export type ElasticsearchConfig = z.infer<typeof elasticsearchConfigSchema>;

/** Validates `env` against `schema`; the error lists every bad variable so a misconfigured pod fails fast. */
export function validateEnv<S extends z.ZodTypeAny>(schema: S, env: Record<string, unknown>): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  return parsed.data;
}
