import { z } from 'zod';

/** Vector size: the index mapping (indexer, provisioning) and the provider (embedder, gateway) must agree. */
export const embeddingDimensionsConfigSchema = z.object({
  EMBEDDING_DIMENSIONS: z.coerce.number().int().min(8).max(4096).default(384),
});

/** The embedding provider's settings (embedder and gateway: queries are embedded by the same model). */
export const embeddingConfigSchema = embeddingDimensionsConfigSchema.extend({
  EMBEDDING_PROVIDER: z.enum(['hashing', 'openai']).default('hashing'),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_BASE_URL: z.string().url().optional(),
  OPENAI_EMBEDDING_MODEL: z.string().default('text-embedding-3-small'),
  /** Inputs per embeddings request (OpenAI accepts up to 2048). */
  OPENAI_MAX_INPUTS_PER_REQUEST: z.coerce.number().int().min(1).max(2048).default(512),
  /** Token budget per embeddings request (OpenAI allows 300k); inputs are split to stay below it. */
  OPENAI_MAX_TOKENS_PER_REQUEST: z.coerce.number().int().min(1).default(250_000),
  OPENAI_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
  /** SDK-level retries of 429/5xx (honouring Retry-After) before the record goes to the retry topic. */
  OPENAI_MAX_RETRIES: z.coerce.number().int().min(0).default(3),
  OPENAI_CONCURRENCY: z.coerce.number().int().min(1).default(4),
  /**
   * `adaptive`: pace requests by the x-ratelimit-* headers of the provider's answers, so the
   * budget is used at its refill rate without 429s; `off`: send as fast as concurrency allows.
   */
  OPENAI_RATE_LIMIT: z.enum(['adaptive', 'off']).default('adaptive'),
  /** Share of each rate limit left free for other instances' requests in flight (adaptive mode). */
  OPENAI_RATE_LIMIT_HEADROOM: z.coerce.number().min(0).max(0.5).default(0.05),
});

export type EmbeddingConfig = z.infer<typeof embeddingConfigSchema>;
