import { baseConfigSchema, embeddingConfigSchema, stageConfigSchema } from '@rag/common';
import { z } from 'zod';

export const embedderConfigSchema = baseConfigSchema
  .merge(stageConfigSchema)
  .merge(embeddingConfigSchema)
  .extend({
    HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(3002),
    // Bigger slices mean more inputs per embedding request.
    STAGE_MAX_BATCH_RECORDS: z.coerce.number().int().min(1).default(512),
  });

export type EmbedderConfig = z.infer<typeof embedderConfigSchema>;
