import { type DynamicModule, Inject, Injectable, Module, type OnApplicationBootstrap, type Type } from '@nestjs/common';
import {
  CONTRACT_SERDE,
  KAFKA,
  LIVENESS_PROBES,
  METRICS_REGISTRY,
  ROOT_LOGGER,
  SERVICE_CONFIG,
  TOPICS,
  type LivenessProbe,
} from '@rag/common';
import type { ConsumerStage, ContractSerde, TopicNames } from '@rag/contracts';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { StageConfig } from './stage.config';
import { StageMetrics } from './stage-metrics';
import { StageRunner } from './stage-runner';
import { StageTransport } from './stage-transport';
import type { StageHandler, StageRuntimeSettings } from './types';

export const STAGE_HANDLER = Symbol('STAGE_HANDLER');
export const STAGE_RUNNER = Symbol('STAGE_RUNNER');
export const STAGE_METRICS = Symbol('STAGE_METRICS');
const STAGE_NAME = Symbol('STAGE_NAME');

export function stageSettings(stage: ConsumerStage, cfg: StageConfig): StageRuntimeSettings {
  return {
    stage,
    groupId: cfg.KAFKA_GROUP_ID ?? `rag-${stage}`,
    maxBatchRecords: cfg.STAGE_MAX_BATCH_RECORDS,
    fetchMaxWaitMs: cfg.STAGE_FETCH_MAX_WAIT_MS,
    fetchMaxBytesPerPartition: cfg.STAGE_FETCH_MAX_BYTES_PER_PARTITION,
    fetchMaxBytes: cfg.STAGE_FETCH_MAX_BYTES,
    partitionsConcurrency: cfg.STAGE_PARTITIONS_CONCURRENCY,
    slicesInFlight: cfg.STAGE_SLICES_IN_FLIGHT,
    crashLoopMaxDeaths: cfg.STAGE_CRASH_LOOP_MAX_DEATHS,
    stallTimeoutMs: cfg.STAGE_STALL_TIMEOUT_MS,
    group: {
      sessionTimeoutMs: cfg.KAFKA_SESSION_TIMEOUT_MS,
      heartbeatIntervalMs: cfg.KAFKA_HEARTBEAT_INTERVAL_MS,
      rebalanceTimeoutMs: cfg.KAFKA_REBALANCE_TIMEOUT_MS,
    },
    retry: {
      maxAttempts: cfg.RETRY_MAX_ATTEMPTS,
      minWindowMs: cfg.RETRY_MIN_WINDOW_MS,
    },
  };
}

/** Registers the runner as a liveness probe; starting and stopping it is the StageTransport's job. */
@Injectable()
class StageLifecycle implements OnApplicationBootstrap {
  constructor(
    @Inject(STAGE_RUNNER) private readonly runner: StageRunner<never>,
    @Inject(LIVENESS_PROBES) private readonly probes: LivenessProbe[],
  ) {}

  onApplicationBootstrap(): void {
    this.probes.push(this.runner);
  }
}

/**
 * Turns a Nest module into a Kafka stage: `StageRuntimeModule.forStage('chunker', ChunkerHandler)`.
 * The handler is an ordinary provider (it gets DI); the runtime does consumption, retries,
 * dead-lettering, commits, metrics and shutdown. The stage starts as a Nest microservice:
 * `bootstrapService(Module, { microservices: [StageTransport] })` connects the StageTransport.
 */
@Module({})
export class StageRuntimeModule {
  static forStage(stage: ConsumerStage, handler: Type<StageHandler>, extraProviders: DynamicModule['providers'] = []): DynamicModule {
    return {
      module: StageRuntimeModule,
      providers: [
        ...extraProviders,
        handler,
        { provide: STAGE_NAME, useValue: stage },
        { provide: STAGE_HANDLER, useExisting: handler },
        { provide: STAGE_METRICS, useFactory: (r: Registry) => new StageMetrics(r), inject: [METRICS_REGISTRY] },
        {
          provide: STAGE_RUNNER,
          inject: [KAFKA, CONTRACT_SERDE, TOPICS, STAGE_HANDLER, SERVICE_CONFIG, STAGE_METRICS, ROOT_LOGGER],
          useFactory: (
            kafka: Kafka,
            serde: ContractSerde,
            topics: TopicNames,
            h: StageHandler,
            cfg: StageConfig,
            metrics: StageMetrics,
            logger: Logger,
          ) => new StageRunner(kafka, serde, topics, h, stageSettings(stage, cfg), metrics, logger.child({ component: 'stage' })),
        },
        { provide: StageTransport, inject: [STAGE_RUNNER], useFactory: (runner: StageRunner<never>) => new StageTransport(runner) },
        StageLifecycle,
      ],
      exports: [STAGE_METRICS, StageTransport],
    };
  }
}
