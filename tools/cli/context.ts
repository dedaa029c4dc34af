import {
  createKafka,
  createRootLogger,
  kafkaSecurity,
  kafkaSecurityConfigSchema,
  registryConnection,
  registryConnectionConfigSchema,
} from '@rag/common';
import { ContractSerde, topicNames, type TopicNames } from '@rag/contracts';
import type { Kafka } from 'kafkajs';

/** The global options every command gets (flags, with the services' environment variables as fallbacks). */
export interface GlobalOptions {
  gateway: string;
  brokers: string;
  registry: string;
  topicPrefix: string;
  json?: boolean;
}

export const DEFAULTS = {
  gateway: process.env.GATEWAY_URL ?? 'http://127.0.0.1:3000',
  brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
  registry: process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7',
  topicPrefix: process.env.TOPIC_PREFIX ?? 'ingest',
};

/** Kafka-side clients, created on first use: most commands only talk to the gateway. */
export class KafkaContext {
  private kafkaClient?: Kafka;
  private serdeClient?: ContractSerde;
  readonly topics: TopicNames;

  constructor(private readonly options: GlobalOptions) {
    this.topics = topicNames(options.topicPrefix);
  }

  get kafka(): Kafka {
    this.kafkaClient ??= createKafka({
      brokers: this.options.brokers.split(','),
      clientId: 'rag-stream-cli',
      logger: createRootLogger('cli', 'error'),
      // The same KAFKA_SECURITY_PROTOCOL / KAFKA_SASL_* / KAFKA_SSL_* variables as the services.
      security: kafkaSecurity(kafkaSecurityConfigSchema.parse(process.env)),
    });
    return this.kafkaClient;
  }

  get serde(): ContractSerde {
    this.serdeClient ??= ContractSerde.connect(
      registryConnection({ ...registryConnectionConfigSchema.parse(process.env), SCHEMA_REGISTRY_URL: this.options.registry }),
    );
    return this.serdeClient;
  }
}
