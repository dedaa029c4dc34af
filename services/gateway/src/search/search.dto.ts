import type { ChunkLocation } from '@rag/contracts';
import { z } from 'zod';

export const searchRequestSchema = z
  .object({
    query: z.string().trim().min(1, 'query must not be empty').max(4096),
    k: z.number().int().min(1).max(100).optional(),
    /** Combine kNN with BM25 on the chunk text (scores are added; boosts weigh them). */
    hybrid: z.boolean().default(false),
    filter: z
      .object({
        documentId: z.union([z.string(), z.array(z.string()).max(1000)]).optional(),
        metadata: z.record(z.string(), z.string()).optional(),
        /** Chunks whose page range (PDF) contains this page. */
        page: z.number().int().min(1).optional(),
        /** Chunks whose slide range (PPTX) contains this slide. */
        slide: z.number().int().min(1).optional(),
        /** Chunks of this worksheet (XLSX). */
        sheet: z.string().min(1).max(256).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type SearchRequest = z.infer<typeof searchRequestSchema>;

export interface SearchHit extends ChunkLocation {
  chunkId: string;
  documentId: string;
  version: number;
  chunkIndex: number;
  title: string | null;
  heading: string | null;
  headings: string[];
  text: string;
  score: number;
  metadata: Record<string, string>;
}
