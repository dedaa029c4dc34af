import { baseConfigSchema } from '@rag/common';
import { stageConfigSchema } from '@rag/stage-runtime';
import { z } from 'zod';

export const chunkerConfigSchema = baseConfigSchema.merge(stageConfigSchema).extend({
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  /** Chunk size in cl100k_base tokens. */
  CHUNK_SIZE_TOKENS: z.coerce.number().int().min(16).max(8191).default(400),
  CHUNK_OVERLAP_TOKENS: z.coerce.number().int().min(0).default(50),
  /** Upper bound of chunks per document; a larger document is rejected to the DLQ with the reason. */
  CHUNK_MAX_PER_DOCUMENT: z.coerce.number().int().min(1).default(10_000),
  /**
   * Parse workers (threads) per instance. One fits the 384Mi container beside the service's own
   * 160 MiB heap; each more needs up to CHUNKER_PARSE_MAX_MEMORY_MB + ~40 MiB. 0 parses in the
   * service's thread: no protection against documents that exhaust the heap or loop.
   */
  CHUNKER_WORKERS: z.coerce.number().int().min(0).max(64).default(1),
  /** Wall-clock budget to extract and split one document; over it the document is dead-lettered. */
  CHUNKER_PARSE_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /** Heap of each parse worker; a 10 MiB HTML document needs ~128 MiB, over it the document is dead-lettered. */
  CHUNKER_PARSE_MAX_MEMORY_MB: z.coerce.number().int().min(16).max(16_384).default(128),
});

export type ChunkerConfig = z.infer<typeof chunkerConfigSchema>;
