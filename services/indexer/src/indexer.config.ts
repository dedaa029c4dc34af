import { baseConfigSchema, elasticsearchConfigSchema } from '@rag/common';
import { stageConfigSchema } from '@rag/stage-runtime';
import { embeddingDimensionsConfigSchema } from '@rag/embedding';
import { z } from 'zod';

export const indexerConfigSchema = baseConfigSchema
  .merge(stageConfigSchema)
  .merge(elasticsearchConfigSchema)
  .merge(embeddingDimensionsConfigSchema)
  .extend({
    HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(3003),
    // Every slice's _bulk waits for a refresh (searchable on INDEXED). With slices in flight the
    // next slices' _bulk run meanwhile and kafkajs fetches on; about 3,000 chunks in flight kept
    // Elasticsearch busy (indexer alone 0.40x -> 0.66-0.69x of the raw _bulk ceiling), with peak
    // RSS about 235 MiB. More slices in flight only added memory.
    STAGE_MAX_BATCH_RECORDS: z.coerce.number().int().min(1).default(300),
    STAGE_PARTITIONS_CONCURRENCY: z.coerce.number().int().min(1).default(6),
    STAGE_SLICES_IN_FLIGHT: z.coerce.number().int().min(1).max(16).default(10),
    // A backlog fills whole fetches, and every vector of one lives as a JS array until its _bulk
    // answers: 10 MiB fetches peaked at 249-255 MiB RSS under a backlog, 5 MiB at 202-219 MiB.
    STAGE_FETCH_MAX_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(6 * 1024 * 1024),
    /** Consumer group of the registry projector (lifecycle events → document registry). */
    REGISTRY_GROUP_ID: z.string().default('rag-registry'),
  });

export type IndexerConfig = z.infer<typeof indexerConfigSchema>;
