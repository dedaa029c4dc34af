import { connect, isIP, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { createKafka, IDEMPOTENT_PRODUCER } from '@rag/common';
import type { ISocketFactory, KafkaConfig, Producer } from 'kafkajs';
import type { Logger } from 'pino';

// kafkajs' own socket factory sets the same keep-alive.
const KEEP_ALIVE_MS = 60_000;

/**
 * Short, capped backoff: an upload waits at most KAFKA_PRODUCE_TIMEOUT_MS anyway, and one that
 * arrives while the producer is between two reconnect attempts should find the broker at most a
 * second after it is back (the services' default backoff grows to 10 s). About 30 s of retries in
 * all, after which a fenced producer stops trying.
 */
const PRODUCER_RETRY = { initialRetryTime: 100, maxRetryTime: 1_000, retries: 30 };

/**
 * An idempotent producer on a Kafka client of its own whose connections can all be cut at once.
 * After `fence()` it can never send again: open sockets are destroyed and every new one fails at
 * once, so kafkajs' internal retries of a send the gateway already answered 503 for cannot deliver
 * that document minutes later, when the broker is back.
 */
export interface FencedProducer {
  readonly producer: Producer;
  fence(): void;
}

export type FencedProducerFactory = () => FencedProducer;
export const FENCED_PRODUCER_FACTORY = Symbol('FENCED_PRODUCER_FACTORY');

/** Sockets for a kafkajs client, all of which `fence()` destroys; after it every new one fails at once. */
export function fenceableSockets(): { socketFactory: ISocketFactory; fence(): void } {
  const sockets = new Set<Socket>();
  let fenced = false;
  const socketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
    if (fenced) {
      const refused = new Socket();
      process.nextTick(() => refused.destroy(new Error('producer fenced after a failed send')));
      return refused;
    }
    // kafkajs passes its `ssl` option here: TLS (and mTLS) as its own socket factory does it.
    const socket = ssl
      ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...(typeof ssl === 'object' ? ssl : {}) }, onConnect)
      : connect({ host, port }, onConnect);
    socket.setKeepAlive(true, KEEP_ALIVE_MS);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    return socket;
  };
  return {
    socketFactory,
    fence: () => {
      fenced = true;
      for (const socket of sockets) socket.destroy();
    },
  };
}

export function fencedProducerFactory(opts: {
  brokers: string[];
  clientId: string;
  logger: Logger;
  security?: Pick<KafkaConfig, 'ssl' | 'sasl'>;
}): FencedProducerFactory {
  return () => {
    const { socketFactory, fence } = fenceableSockets();
    const producer = createKafka({ ...opts, retry: PRODUCER_RETRY, socketFactory }).producer(IDEMPOTENT_PRODUCER);
    return { producer, fence };
  };
}
