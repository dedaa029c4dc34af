import type { Client } from '@elastic/elasticsearch';
import { type BeforeApplicationShutdown, Inject, Injectable, Module, type OnApplicationBootstrap } from '@nestjs/common';
import {
  CONTRACT_SERDE,
  ELASTICSEARCH,
  KAFKA,
  LIVENESS_PROBES,
  METRICS_REGISTRY,
  ROOT_LOGGER,
  SERVICE_CONFIG,
  TOPICS,
  type LivenessProbe,
} from '@rag/common';
import type { ContractSerde, TopicNames } from '@rag/contracts';
import { ensureRegistryIndex } from '@rag/document-registry';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { IndexerConfig } from '../indexer.config';
import { RegistryMetrics } from './registry-metrics';
import { RegistryProjector } from './registry-projector';

const REGISTRY_PROJECTOR = Symbol('REGISTRY_PROJECTOR');

/** Starts the projector after the app is up (its index exists first) and stops it on shutdown. */
@Injectable()
class RegistryProjectorLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(REGISTRY_PROJECTOR) private readonly projector: RegistryProjector,
    @Inject(ELASTICSEARCH) private readonly es: Client,
    @Inject(SERVICE_CONFIG) private readonly config: IndexerConfig,
    @Inject(LIVENESS_PROBES) private readonly probes: LivenessProbe[],
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await ensureRegistryIndex(this.es, this.config.ES_REGISTRY_ALIAS, this.config.ES_NUMBER_OF_REPLICAS);
    this.probes.push(this.projector);
    await this.projector.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.projector.stop();
  }
}

/** The document registry's writer, hosted by the indexer (which owns the chunk index it purges). */
@Module({
  providers: [
    {
      provide: REGISTRY_PROJECTOR,
      inject: [KAFKA, ELASTICSEARCH, CONTRACT_SERDE, TOPICS, SERVICE_CONFIG, METRICS_REGISTRY, ROOT_LOGGER],
      useFactory: (
        kafka: Kafka,
        es: Client,
        serde: ContractSerde,
        topics: TopicNames,
        cfg: IndexerConfig,
        registry: Registry,
        logger: Logger,
      ) =>
        new RegistryProjector(
          kafka,
          es,
          serde,
          {
            groupId: cfg.REGISTRY_GROUP_ID,
            eventsTopic: topics.events,
            registryAlias: cfg.ES_REGISTRY_ALIAS,
            chunkAlias: cfg.ES_INDEX_ALIAS,
            partitionsConcurrency: cfg.STAGE_PARTITIONS_CONCURRENCY,
            group: {
              sessionTimeoutMs: cfg.KAFKA_SESSION_TIMEOUT_MS,
              heartbeatIntervalMs: cfg.KAFKA_HEARTBEAT_INTERVAL_MS,
              rebalanceTimeoutMs: cfg.KAFKA_REBALANCE_TIMEOUT_MS,
            },
            stallTimeoutMs: cfg.STAGE_STALL_TIMEOUT_MS,
          },
          new RegistryMetrics(registry),
          logger.child({ component: 'registry-projector' }),
        ),
    },
    RegistryProjectorLifecycle,
  ],
})
export class RegistryProjectorModule {}
