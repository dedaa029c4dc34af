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

/**
 * Ride out a broker restart or a leader fail-over (a dead broker is fenced after the controller's
 * broker.session.timeout.ms, 9 s by default): retries every 2 s at most, for about 35 s in all.
 * A longer cap (it was 10 s) left clients idle for up to 10 s after the cluster had recovered.
 */
export const KAFKA_CLIENT_RETRY = { initialRetryTime: 300, maxRetryTime: 2_000, retries: 20 } as const;

export function createKafka(opts: {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Replaces KAFKA_CLIENT_RETRY. */
  retry?: RetryOptions;
  socketFactory?: ISocketFactory;
  /** TLS and SASL (kafkaSecurity(config)); plaintext without. */
  security?: Pick<KafkaConfig, 'ssl' | 'sasl'>;
}): Kafka {
  const config: KafkaConfig = {
    clientId: opts.clientId,
    brokers: opts.brokers,
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(opts.logger),
    // Ride out a broker restart or a leader fail-over (KAFKA_CLIENT_RETRY).
    retry: opts.retry ?? KAFKA_CLIENT_RETRY,
    ...opts.security,
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
