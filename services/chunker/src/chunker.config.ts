import { baseConfigSchema, envBool } from '@rag/common';
import { stageConfigSchema } from '@rag/stage-runtime';
import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from '@rag/contracts';
import { z } from 'zod';

/** The stage settings' own rules; the chunker only changes their defaults. */
const stage = stageConfigSchema.shape;

export const chunkerConfigSchema = baseConfigSchema.merge(stageConfigSchema).extend({
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  // A fetch's documents are decoded, sent to the parse worker and encoded as chunks while the
  // fetch is held: in the pipeline bench 10 MiB fetches peaked at 248-260 MiB RSS, 6 MiB at 236-244.
  STAGE_FETCH_MAX_BYTES: stage.STAGE_FETCH_MAX_BYTES.removeDefault().default(6 * 1024 * 1024),
  /** Chunk size in cl100k_base tokens. */
  CHUNK_SIZE_TOKENS: z.coerce.number().int().min(MIN_CHUNK_SIZE).max(MAX_CHUNK_SIZE).default(400),
  CHUNK_OVERLAP_TOKENS: z.coerce.number().int().min(0).default(50),
  /**
   * Merge consecutive small sections into one chunk up to the chunk size (headings kept). false
   * gives every section its own chunks (the behaviour before 0.2; `npm run eval` compares both).
   */
  CHUNK_MERGE_SECTIONS: envBool.default('true'),
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
  /** PDFs with more pages are failed before any page is read. */
  CHUNKER_MAX_PAGES: z.coerce.number().int().min(1).default(2_000),
  /** Zip-bomb guard of DOCX/PPTX/XLSX: the most a package may declare uncompressed, in all. */
  CHUNKER_MAX_UNZIPPED_MB: z.coerce.number().int().min(1).default(256),
});

export type ChunkerConfig = z.infer<typeof chunkerConfigSchema>;

/** The limits a parse worker applies to every document (from the configuration). */
export function splitLimits(config: ChunkerConfig) {
  return {
    maxChunks: config.CHUNK_MAX_PER_DOCUMENT,
    mergeSections: config.CHUNK_MERGE_SECTIONS,
    maxPages: config.CHUNKER_MAX_PAGES,
    maxUnzippedBytes: config.CHUNKER_MAX_UNZIPPED_MB * 1024 * 1024,
  };
}
