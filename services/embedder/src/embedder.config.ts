import { baseConfigSchema, elasticsearchConfigSchema } from '@rag/common';
import { stageConfigSchema } from '@rag/stage-runtime';
import { embeddingConfigSchema } from '@rag/embedding';
import { z } from 'zod';

export const embedderConfigSchema = baseConfigSchema
  .merge(stageConfigSchema)
  .merge(embeddingConfigSchema)
  .merge(elasticsearchConfigSchema)
  .extend({
    HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(3002),
    // Bigger slices mean more inputs per embedding request.
    STAGE_MAX_BATCH_RECORDS: z.coerce.number().int().min(1).default(512),
    /**
     * Reuse vectors already in the chunk index for unchanged text: `auto` = on for providers that
     * cost requests (openai), off for the local hashing provider (computing is cheaper than a lookup).
     */
    EMBEDDING_CACHE: z.enum(['auto', 'on', 'off']).default('auto'),
  });

export type EmbedderConfig = z.infer<typeof embedderConfigSchema>;

/** Whether the embedding cache is on, from the raw environment (the module's imports depend on it). */
export function embeddingCacheEnabled(env: Record<string, string | undefined>): boolean {
  const setting = env.EMBEDDING_CACHE ?? 'auto';
  return setting === 'on' || (setting === 'auto' && env.EMBEDDING_PROVIDER === 'openai');
}
