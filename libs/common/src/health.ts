import type { Client } from '@elastic/elasticsearch';
import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Kafka } from 'kafkajs';
import type { BaseConfig } from './config';
import { registryConnection, registryRequest, type RegistryConnection } from './connections';
import { ELASTICSEARCH, KAFKA, LIVENESS_PROBES, SERVICE_CONFIG } from './tokens';

export type Dependency = 'kafka' | 'registry' | 'elasticsearch';
export const READINESS_DEPENDENCIES = Symbol('READINESS_DEPENDENCIES');

/** Something whose failure means the process must be restarted (for example a crashed consumer). */
export interface LivenessProbe {
  readonly name: string;
  isAlive(): boolean;
  /** Details shown with the probe's status (for a stage: whether it has joined its group yet). */
  describe?(): Record<string, unknown>;
}

const PROBE_TIMEOUT_MS = 3_000;

function withTimeout<T>(promise: Promise<T>, ms = PROBE_TIMEOUT_MS): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

/** Why Kafka refused, in a few words (an auth failure, a socket error code, a timeout). */
export function kafkaFailure(err: unknown): string {
  const error = err as Error & { code?: string; cause?: unknown };
  if (error.name === 'KafkaJSSASLAuthenticationError') return 'authentication failed';
  if (error.name === 'KafkaJSNumberOfRetriesExceeded' && error.cause) return kafkaFailure(error.cause);
  if (typeof error.code === 'string') return error.code;
  return error.message?.startsWith('timed out') ? error.message : (error.name ?? 'unreachable');
}

/** Why Elasticsearch refused: its HTTP status, else the client's error name or socket code. */
export function elasticsearchFailure(err: unknown): string {
  const error = err as Error & { meta?: { statusCode?: number }; code?: string; cause?: { code?: string } };
  if (error.meta?.statusCode) return `HTTP ${error.meta.statusCode}`;
  return error.cause?.code ?? error.code ?? error.name ?? 'unreachable';
}

/**
 * `/healthz`, liveness: the process works (for a stage: its consumer has not crashed for good).
 * `/readyz`, readiness: liveness plus every dependency answers (Kafka, the registry, Elasticsearch
 * where used). For a stage it does not wait for the consumer group join: after a crash of another
 * member that join can take a session timeout, and the instance is working (joining) meanwhile;
 * the stage's entry reports `joinedGroup` and `assignedPartitions` so the wait is visible.
 */
const HEALTH_BODY: SchemaObject = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'error'] },
    info: { type: 'object' },
    error: { type: 'object' },
    details: { type: 'object' },
  },
};

@ApiTags('operations')
@Controller()
export class HealthController {
  private readonly admin;
  private registryTarget?: RegistryConnection;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(SERVICE_CONFIG) private readonly config: BaseConfig,
    @Inject(KAFKA) kafka: Kafka,
    @Inject(READINESS_DEPENDENCIES) private readonly dependencies: Dependency[],
    @Inject(LIVENESS_PROBES) private readonly probes: LivenessProbe[],
    @Optional() @Inject(ELASTICSEARCH) private readonly elasticsearch?: Client,
  ) {
    this.admin = kafka.admin();
  }

  @Get('healthz')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process works (for a stage: its consumer has not crashed)' })
  @ApiResponse({ status: 200, description: 'alive', schema: HEALTH_BODY })
  @ApiResponse({ status: 503, description: 'restart me', schema: HEALTH_BODY })
  liveness() {
    return this.health.check(this.probes.map((probe) => async () => this.probe(probe)));
  }

  @Get('readyz')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: liveness plus every dependency answers' })
  @ApiResponse({ status: 200, description: 'ready', schema: HEALTH_BODY })
  @ApiResponse({ status: 503, description: 'a dependency does not answer', schema: HEALTH_BODY })
  readiness() {
    const checks = {
      kafka: () => this.kafka(),
      registry: () => this.registry(),
      elasticsearch: () => this.es(),
    };
    return this.health.check([...this.probes.map((probe) => async () => this.probe(probe)), ...this.dependencies.map((d) => checks[d])]);
  }

  private probe(probe: LivenessProbe): HealthIndicatorResult {
    const session = this.indicators.check(probe.name);
    return probe.isAlive() ? session.up(probe.describe?.()) : session.down({ message: `${probe.name} is not running` });
  }

  private async kafka(): Promise<HealthIndicatorResult> {
    const session = this.indicators.check('kafka');
    try {
      await withTimeout(this.admin.connect());
      const cluster = await withTimeout(this.admin.describeCluster());
      return session.up({ brokers: cluster.brokers.length });
    } catch (err) {
      return session.down({ message: kafkaFailure(err) });
    }
  }

  /** The answer names the failure (HTTP status or error code), never the URL or credentials. */
  private async registry(): Promise<HealthIndicatorResult> {
    const session = this.indicators.check('registry');
    try {
      this.registryTarget ??= registryConnection(this.config);
      const { status } = await registryRequest(this.registryTarget, 'GET', '/subjects', undefined, PROBE_TIMEOUT_MS);
      return status >= 200 && status < 300 ? session.up() : session.down({ message: `HTTP ${status}` });
    } catch (err) {
      return session.down({ message: (err as NodeJS.ErrnoException).code ?? 'unreachable' });
    }
  }

  private async es(): Promise<HealthIndicatorResult> {
    const session = this.indicators.check('elasticsearch');
    if (!this.elasticsearch) return session.down({ message: 'no client configured' });
    try {
      // Cluster health rather than ping: `/` is served by an optional module (rest-root).
      const health = await this.elasticsearch.cluster.health({}, { requestTimeout: PROBE_TIMEOUT_MS });
      return health.status === 'red' ? session.down({ message: 'cluster status red' }) : session.up({ cluster: health.status });
    } catch (err) {
      return session.down({ message: elasticsearchFailure(err) });
    }
  }
}
