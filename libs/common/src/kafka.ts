import { Kafka, logLevel, type ISocketFactory, type KafkaConfig, type LogEntry, type ProducerConfig, type RetryOptions } from 'kafkajs';
import type { Logger } from 'pino';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** Routes kafkajs logs into the service's structured logger. */
function pinoLogCreator(logger: Logger) {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      kafkaLogger[LEVELS[level] ?? 'info'](extra, message);
    };
}

// kafkajs 2's default partitioner is the Java client's (murmur2), which is what we want:
// a document keyed by id lands on the same partition whichever client produced it.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

export function createKafka(opts: {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Replaces the default backoff below. */
  retry?: RetryOptions;
  socketFactory?: ISocketFactory;
}): Kafka {
  const config: KafkaConfig = {
    clientId: opts.clientId,
    brokers: opts.brokers,
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(opts.logger),
    // Ride out a broker restart: kafkajs retries with its own exponential backoff.
    retry: opts.retry ?? { initialRetryTime: 300, retries: 10, maxRetryTime: 10_000 },
    ...(opts.socketFactory && { socketFactory: opts.socketFactory }),
  };
  return new Kafka(config);
}

/** Every producer in the pipeline: idempotent, acks=all (set per send), ordered per partition. */
export const IDEMPOTENT_PRODUCER: ProducerConfig = {
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
};
