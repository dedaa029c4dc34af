import { DEFAULT_RETRY_TIERS_MS } from '@rag/contracts';
import { z } from 'zod';
import { kafkaSecurityConfigSchema, registryConnectionConfigSchema } from './connections';

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

export { envBool } from './env-bool';

/**
 * Settings every service reads from the environment. Each field's default is documented in the
 * README's configuration table; this schema is where they are defined and validated.
 */
export const baseConfigSchema = kafkaSecurityConfigSchema.merge(registryConnectionConfigSchema).extend({
  /** Port of the HTTP server (health, readiness, metrics; the API for the gateway). */
  HTTP_PORT: z.coerce.number().int().min(0).max(65535),
  HTTP_HOST: z.string().default('127.0.0.1'),
  /**
   * When set, /metrics and /readyz are served on this port only (same host), apart from the API:
   * scrapes and probes stay inside the cluster while the public port is exposed.
   */
  INTERNAL_HTTP_PORT: z.coerce.number().int().min(1).max(65535).optional(),
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
  /** An API key (the base64 `encoded` value Elasticsearch returns); takes precedence over username/password. */
  ELASTICSEARCH_API_KEY: z.string().optional(),
  /** Elastic Cloud deployment id; replaces ELASTICSEARCH_URL. */
  ELASTICSEARCH_CLOUD_ID: z.string().optional(),
  /** PEM bundle of the CA that signs Elasticsearch's certificate, or its SHA-256 fingerprint (hex). */
  ELASTICSEARCH_CA_FILE: z.string().optional(),
  ELASTICSEARCH_CA_FINGERPRINT: z.string().optional(),
  /** Replicas of the chunk and registry indices (0 on one node; at least 1 in production clusters). */
  ES_NUMBER_OF_REPLICAS: z.coerce.number().int().min(0).default(0),
  /**
   * Segments per merge tier of the chunk index (Elasticsearch's default is 10). More means fewer
   * merges, each of which rebuilds HNSW graphs, and more segments for a kNN search to visit.
   */
  ES_MERGE_SEGMENTS_PER_TIER: z.coerce.number().int().min(2).default(30),
  /** Alias that reads and writes go through; the concrete index is `<alias>-000001`. */
  ES_INDEX_ALIAS: z.string().default('rag-chunks'),
  /** Alias of the document registry index (one record per document: version, status, progress). */
  ES_REGISTRY_ALIAS: z.string().default('rag-documents'),
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;
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
