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
    SEARCH_DEFAULT_K: z.coerce.number().int().min(1).max(100).default(10),
    /**
     * Consumer groups of the stages, for the admin pipeline view: `chunker=g1,embedder=g2`;
     * a stage not listed is `rag-<stage>` (the stages' KAFKA_GROUP_ID default).
     */
    PIPELINE_GROUPS: z.string().default(''),
  });

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
