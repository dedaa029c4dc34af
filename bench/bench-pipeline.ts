import { Client } from '@elastic/elasticsearch';
import { topicNames, type DocumentSubmitted, type TopicNames } from '@rag/contracts';
import { Kafka, logLevel } from 'kafkajs';
import { provisionIndex, provisionSchemas, provisionTopics } from '../tools/provision/provision';
import { STACK, uniqueSuffix } from '@rag/testkit';
import { freePort, ServiceProcess, waitFor, type ServiceName } from '@rag/testkit';

/** What every benchmark section that runs services needs. */
export interface BenchRunOptions {
  corpus: DocumentSubmitted[];
  partitions: number;
  drainTimeoutMs: number;
  /** Per-service environment overrides (recorded in the report). */
  serviceEnv: Partial<Record<ServiceName, Record<string, string>>>;
  log: (line: string) => void;
}

/**
 * The pipeline on the local stack for one benchmark run, like test/support/pipeline.ts (which
 * uses jest's `expect` and so cannot be compiled into dist): its own topic prefix, index alias
 * and consumer groups, the services as OS processes from dist/.
 */
export class BenchPipeline {
  readonly id = uniqueSuffix();
  readonly prefix = `b${this.id}`;
  readonly alias = `rag-chunks-${this.prefix}`;
  readonly registryAlias = `rag-documents-${this.prefix}`;
  readonly topics: TopicNames = topicNames(this.prefix);
  readonly kafka = new Kafka({ clientId: `bench-${this.id}`, brokers: STACK.brokers, logLevel: logLevel.NOTHING });
  readonly services = new Map<string, ServiceProcess>();

  constructor(
    private readonly options: { partitions: number; dimensions: number; env?: Partial<Record<ServiceName, Record<string, string>>> },
  ) {}

  async provision(): Promise<void> {
    await provisionTopics(this.kafka, this.topics, {
      partitions: this.options.partitions,
      replicationFactor: 1,
      dlqRetentionMs: 86_400_000,
      eventsRetentionMs: 86_400_000,
    });
    await provisionSchemas(STACK.registryUrl, this.topics);
    const es = new Client({ node: STACK.elasticsearchUrl });
    await provisionIndex(es, this.alias, this.options.dimensions, this.registryAlias);
    await es.close();
  }

  async startService(name: ServiceName, instance = 0): Promise<ServiceProcess> {
    const env = {
      KAFKA_BROKERS: STACK.brokers.join(','),
      SCHEMA_REGISTRY_URL: STACK.registryUrl,
      ELASTICSEARCH_URL: STACK.elasticsearchUrl,
      TOPIC_PREFIX: this.prefix,
      ES_INDEX_ALIAS: this.alias,
      ES_REGISTRY_ALIAS: this.registryAlias,
      REGISTRY_GROUP_ID: `${this.prefix}-registry`,
      EMBEDDING_DIMENSIONS: String(this.options.dimensions),
      LOG_LEVEL: 'warn',
      // The services default to group `rag-<stage>` whatever the prefix: concurrent pipelines on
      // one Kafka (tests, other runs) would share groups and rebalance each other.
      KAFKA_GROUP_ID: `${this.prefix}-${name}`,
      ...this.options.env?.[name],
    };
    const service = new ServiceProcess(name, await freePort(), env, instance);
    this.services.set(`${name}#${instance}`, service);
    return service.start();
  }

  /**
   * Waits until `members` instances of a stage form a stable group with partitions assigned, so
   * a measurement starts after the joins and their rebalances, not during them.
   */
  async waitForStableGroup(name: ServiceName, members: number, timeoutMs = 60_000): Promise<void> {
    const groupId = `${this.prefix}-${name}`;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await waitFor(
        `${members} stable member(s) in ${groupId}`,
        async () => {
          const [group] = (await admin.describeGroups([groupId])).groups;
          return group?.state === 'Stable' && group.members.length === members && group.members.every((m) => m.memberAssignment.length > 0);
        },
        timeoutMs,
      );
    } finally {
      await admin.disconnect();
    }
  }

  service(name: ServiceName, instance = 0): ServiceProcess {
    const s = this.services.get(`${name}#${instance}`);
    if (!s) throw new Error(`${name}#${instance} not started`);
    return s;
  }

  /** Stops the services, then removes the run's topics and index (vectors are large). */
  async stop(): Promise<void> {
    await Promise.all([...this.services.values()].map((s) => s.stop()));
    const admin = this.kafka.admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${this.prefix}.`));
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
    const es = new Client({ node: STACK.elasticsearchUrl });
    for (const alias of [this.alias, this.registryAlias]) {
      await es.indices.delete({ index: `${alias}-*`, ignore_unavailable: true, allow_no_indices: true }).catch(() => undefined);
      await es.indices.deleteIndexTemplate({ name: `${alias}-template` }).catch(() => undefined);
    }
    await es.close();
  }
}
