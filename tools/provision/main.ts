import {
  baseConfigSchema,
  createElasticsearchClient,
  createKafka,
  createRootLogger,
  elasticsearchConfigSchema,
  kafkaSecurity,
  registryConnection,
  validateEnv,
} from '@rag/common';
import { topicNames } from '@rag/contracts';
import { embeddingDimensionsConfigSchema } from '@rag/embedding';
import { Command } from 'commander';
import { z } from 'zod';
import { provisionIndex, provisionSchemas, provisionTopics } from './provision';

const DAY_MS = 24 * 60 * 60 * 1000;

const program = new Command('provision')
  .description('Create the pipeline topics, register the Avro schemas (BACKWARD) and install the Elasticsearch index. Idempotent.')
  .option(
    '--partitions <n>',
    'partitions per topic (the most instances a stage can scale to)',
    (v) => Number(v),
    Number(process.env.TOPIC_PARTITIONS ?? 6),
  )
  .option('--replication-factor <n>', 'replicas per partition', (v) => Number(v), Number(process.env.TOPIC_REPLICATION_FACTOR ?? 1))
  .option('--dlq-retention-days <n>', 'how long dead-lettered records are kept', (v) => Number(v), 30)
  .option('--events-retention-days <n>', 'how long lifecycle events are kept', (v) => Number(v), 7)
  .option('--skip-elasticsearch', 'do not touch Elasticsearch')
  .action(
    async (opts: {
      partitions: number;
      replicationFactor: number;
      dlqRetentionDays: number;
      eventsRetentionDays: number;
      skipElasticsearch?: boolean;
    }) => {
      const env = validateEnv(
        baseConfigSchema
          .merge(elasticsearchConfigSchema)
          .merge(embeddingDimensionsConfigSchema)
          .extend({
            HTTP_PORT: z.coerce.number().default(0),
          }),
        process.env,
      );
      const logger = createRootLogger('provision', env.LOG_LEVEL);
      const topics = topicNames(env.TOPIC_PREFIX, env.RETRY_TIERS_MS);
      const kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: 'rag-provision', logger, security: kafkaSecurity(env) });
      const report = await provisionTopics(kafka, topics, {
        partitions: opts.partitions,
        replicationFactor: opts.replicationFactor,
        dlqRetentionMs: opts.dlqRetentionDays * DAY_MS,
        eventsRetentionMs: opts.eventsRetentionDays * DAY_MS,
      });
      logger.info(report, 'topics provisioned');
      const schemas = await provisionSchemas(registryConnection(env), topics);
      logger.info({ schemas }, 'schemas registered (BACKWARD)');
      if (!opts.skipElasticsearch) {
        await provisionIndex(createElasticsearchClient(env), env.ES_INDEX_ALIAS, env.EMBEDDING_DIMENSIONS, env.ES_REGISTRY_ALIAS, {
          replicas: env.ES_NUMBER_OF_REPLICAS,
          segmentsPerTier: env.ES_MERGE_SEGMENTS_PER_TIER,
        });
        logger.info(
          { alias: env.ES_INDEX_ALIAS, registryAlias: env.ES_REGISTRY_ALIAS, dimensions: env.EMBEDDING_DIMENSIONS },
          'elasticsearch chunk index and document registry ready',
        );
      }
    },
  );

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`provision failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
