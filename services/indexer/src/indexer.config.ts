import { baseConfigSchema, elasticsearchConfigSchema } from '@rag/common';
import { stageConfigSchema } from '@rag/stage-runtime';
import { embeddingDimensionsConfigSchema } from '@rag/embedding';
import { z } from 'zod';

/** The stage settings' own rules; the indexer only changes their defaults. */
const stage = stageConfigSchema.shape;

export const indexerConfigSchema = baseConfigSchema
  .merge(stageConfigSchema)
  .merge(elasticsearchConfigSchema)
  .merge(embeddingDimensionsConfigSchema)
  .extend({
    HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(3003),
    // Every slice's _bulk waits for a refresh (searchable on INDEXED). With slices in flight the
    // next slices' _bulk run meanwhile and kafkajs fetches on. Indexer alone: 1 slice of 2,000 per
    // partition 0.40x of the raw _bulk ceiling, 8 x 300 in flight 0.63x, 10 x 300 0.69x; peak
    // RSS in the pipeline bench 230 MiB at 8 x 300, 241-251 MiB at 10 x 300.
    STAGE_MAX_BATCH_RECORDS: stage.STAGE_MAX_BATCH_RECORDS.removeDefault().default(300),
    STAGE_PARTITIONS_CONCURRENCY: stage.STAGE_PARTITIONS_CONCURRENCY.removeDefault().default(6),
    STAGE_SLICES_IN_FLIGHT: stage.STAGE_SLICES_IN_FLIGHT.removeDefault().default(8),
    // A backlog fills whole fetches, and every vector of one lives as a JS array until its _bulk
    // answers: 10 MiB fetches peaked at 249-255 MiB RSS under a backlog, 5 MiB at 202-219 MiB.
    STAGE_FETCH_MAX_BYTES: stage.STAGE_FETCH_MAX_BYTES.removeDefault().default(6 * 1024 * 1024),
    /** Consumer group of the registry projector (lifecycle events → document registry). */
    REGISTRY_GROUP_ID: z.string().default('rag-registry'),
  });

export type IndexerConfig = z.infer<typeof indexerConfigSchema>;
