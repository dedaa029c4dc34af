import { type DynamicModule, Global, Module, type Provider } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { ContractSerde, topicNames } from '@rag/contracts';
import { LoggerModule } from 'nestjs-pino';
import type { z } from 'zod';
import { type BaseConfig, elasticsearchConfigSchema, validateEnv } from './config';
import { createElasticsearchClient } from './elasticsearch';
import { type Dependency, HealthController, READINESS_DEPENDENCIES } from './health';
import { kafkaSecurity, registryConnection } from './connections';
import { createKafka } from './kafka';
import { createRootLogger } from './logger';
import { createMetricsRegistry, MetricsController } from './metrics';
import { CONTRACT_SERDE, ELASTICSEARCH, KAFKA, LIVENESS_PROBES, METRICS_REGISTRY, ROOT_LOGGER, SERVICE_CONFIG, TOPICS } from './tokens';
import type { LivenessProbe } from './health';

export interface ServiceCoreOptions<S extends z.ZodTypeAny> {
  /** Service name: log field, metrics label, Kafka client id. */
  service: string;
  /** Validated environment schema of the service (extends baseConfigSchema). */
  configSchema: S;
  /** Dependencies that must answer for `/readyz` to be ready. */
  readiness: Dependency[];
  env?: Record<string, unknown>;
}

/**
 * What every service has: validated config, JSON logging, Kafka client, contract serde,
 * metrics registry and `/metrics`, and `/healthz` + `/readyz`.
 */
@Global()
@Module({})
export class ServiceCoreModule {
  static forRoot<S extends z.ZodTypeAny>(opts: ServiceCoreOptions<S>): DynamicModule {
    const config = validateEnv(opts.configSchema, opts.env ?? process.env) as BaseConfig & {
      SCHEMA_REGISTRY_URL: string;
    };
    const logger = createRootLogger(opts.service, config.LOG_LEVEL);
    const providers: Provider[] = [
      { provide: SERVICE_CONFIG, useValue: config },
      { provide: ROOT_LOGGER, useValue: logger },
      { provide: TOPICS, useValue: topicNames(config.TOPIC_PREFIX, config.RETRY_TIERS_MS) },
      { provide: METRICS_REGISTRY, useValue: createMetricsRegistry(opts.service) },
      { provide: READINESS_DEPENDENCIES, useValue: opts.readiness },
      // Filled at start-up by components that can die on their own (the stage runner registers itself).
      { provide: LIVENESS_PROBES, useValue: [] as LivenessProbe[] },
      {
        provide: KAFKA,
        useValue: createKafka({
          brokers: config.KAFKA_BROKERS,
          clientId: config.KAFKA_CLIENT_ID ?? opts.service,
          logger,
          security: kafkaSecurity(config),
        }),
      },
      { provide: CONTRACT_SERDE, useValue: ContractSerde.connect(registryConnection(config)) },
    ];
    if (opts.readiness.includes('elasticsearch')) {
      providers.push({
        provide: ELASTICSEARCH,
        useValue: createElasticsearchClient(elasticsearchConfigSchema.parse(opts.env ?? process.env)),
      });
    }
    return {
      module: ServiceCoreModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, validate: () => config }),
        LoggerModule.forRoot({
          pinoHttp: {
            logger,
            autoLogging: { ignore: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url ?? '') },
          },
        }),
        TerminusModule.forRoot({ logger: false }),
      ],
      controllers: [HealthController, MetricsController],
      providers,
      exports: providers.map((p) => (p as { provide: symbol }).provide),
    };
  }
}
