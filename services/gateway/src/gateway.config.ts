import { baseConfigSchema, elasticsearchConfigSchema } from '@rag/common';
import { embeddingConfigSchema } from '@rag/embedding';
import { z } from 'zod';

export const gatewayConfigSchema = baseConfigSchema
  .merge(elasticsearchConfigSchema)
  .merge(embeddingConfigSchema)
  .extend({
    HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    /** Largest accepted text document (upload or JSON text), bytes. */
    MAX_DOCUMENT_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(10 * 1024 * 1024),
    /**
     * Largest accepted PDF/DOCX/PPTX/XLSX upload, bytes: the body travels in one record of the
     * documents topic (max.message.bytes 16 MiB), so at most ~15 MiB.
     */
    MAX_BINARY_DOCUMENT_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .max(16 * 1024 * 1024 - 64 * 1024)
      .default(15 * 1024 * 1024),
    /**
     * Bounds of a document's metadata (400 above). Metadata is copied into every chunk: with the
     * defaults it adds at most 64 × (256 + 2048) bytes ≈ 144 KiB to a chunk record, well inside
     * the chunk topic's 1 MiB max.message.bytes.
     */
    MAX_METADATA_ENTRIES: z.coerce.number().int().min(0).default(64),
    MAX_METADATA_KEY_BYTES: z.coerce.number().int().positive().default(256),
    MAX_METADATA_VALUE_BYTES: z.coerce.number().int().positive().default(2048),
    /** Base of the statusUrl returned by POST /v1/documents; defaults to the request's host. */
    PUBLIC_BASE_URL: z.string().url().optional(),
    /** How often open status streams (SSE) re-read their documents from the registry. */
    STATUS_POLL_INTERVAL_MS: z.coerce.number().int().min(50).default(250),
    /** Longest an upload waits for Kafka's acknowledgement (connecting included) before answering 503. */
    KAFKA_PRODUCE_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    /** Retry-After (seconds) of the 503 answered when Kafka is unavailable. */
    KAFKA_UNAVAILABLE_RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).default(5),
    /** `api-key`: every API route needs a key (API_KEYS / API_KEYS_FILE); `none`: open, for a trusted network only. */
    GATEWAY_AUTH: z.enum(['api-key', 'none']).default('api-key'),
    /** JSON array of `{id, tenant, scopes, sha256}` (see `rag-stream keys create`). */
    API_KEYS: z.string().optional(),
    /** A file holding the same JSON array (e.g. a mounted Secret). */
    API_KEYS_FILE: z.string().optional(),
    /** Requests per second per key (token bucket refill; 0 = no limit) and the burst above it. */
    RATE_LIMIT_PER_KEY: z.coerce.number().min(0).default(50),
    RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(100),
    /** Open status streams (SSE) per key; one more answers 429. */
    SSE_MAX_STREAMS_PER_KEY: z.coerce.number().int().min(1).default(20),
    /** A status stream ends after this long, even if the document is not finished (clients reconnect). */
    SSE_MAX_DURATION_MS: z.coerce
      .number()
      .int()
      .min(1_000)
      .default(15 * 60_000),
    /** Comment lines sent this often on idle streams, so proxies keep them open. */
    SSE_HEARTBEAT_MS: z.coerce.number().int().min(1_000).default(15_000),
    /** Server timeouts: whole request headers, whole request (a 15 MiB upload on a slow link), idle keep-alive. */
    HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(30_000),
    HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(300_000),
    /** Above the 60 s idle timeout of common load balancers, so they close first. */
    HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(65_000),
    SEARCH_DEFAULT_K: z.coerce.number().int().min(1).max(100).default(10),
    /**
     * Consumer groups of the stages, for the admin pipeline view: `chunker=g1,embedder=g2`;
     * a stage not listed is `rag-<stage>` (the stages' KAFKA_GROUP_ID default).
     */
    PIPELINE_GROUPS: z.string().default(''),
  });

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
