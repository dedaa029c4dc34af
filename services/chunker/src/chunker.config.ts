import { baseConfigSchema, stageConfigSchema } from '@rag/common';
import { z } from 'zod';

export const chunkerConfigSchema = baseConfigSchema.merge(stageConfigSchema).extend({
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  /** Chunk size in cl100k_base tokens. */
  CHUNK_SIZE_TOKENS: z.coerce.number().int().min(16).max(8191).default(400),
  CHUNK_OVERLAP_TOKENS: z.coerce.number().int().min(0).default(50),
  /** Upper bound of chunks per document; a larger document is rejected to the DLQ with the reason. */
  CHUNK_MAX_PER_DOCUMENT: z.coerce.number().int().min(1).default(10_000),
});

export type ChunkerConfig = z.infer<typeof chunkerConfigSchema>;
