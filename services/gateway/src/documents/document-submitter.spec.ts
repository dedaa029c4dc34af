import { topicNames, type ContractSerde, type DocumentSubmitted } from '@rag/contracts';
import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, type Producer } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { GatewayConfig } from '../gateway.config';
import { DocumentSubmitter } from './document-submitter';
import { KafkaUnavailableError } from './kafka-unavailable.error';

type SendBehaviour = 'ack' | 'hang' | Error;

/** A stand-in for kafkajs' producer: each one connects (or hangs) and sends as scripted. */
class FakeProducer {
  sent = 0;
  disconnected = false;
  fenced = false;
  constructor(
    private readonly connectAfter: 'now' | 'never' | number | Error,
    private readonly sends: SendBehaviour[],
  ) {}
  connect = (): Promise<void> => {
    const after = this.connectAfter;
    if (after === 'now') return Promise.resolve();
    if (after instanceof Error) return Promise.reject(after);
    return new Promise((resolve) => {
      if (typeof after === 'number') setTimeout(resolve, after);
    });
  };
  disconnect = async (): Promise<void> => {
    this.disconnected = true;
  };
  sendBatch = (): Promise<unknown[]> => {
    const behaviour = this.sends[this.sent++] ?? 'ack';
    if (behaviour === 'ack') return Promise.resolve([]);
    if (behaviour === 'hang') return new Promise(() => undefined);
    return Promise.reject(behaviour);
  };
  send = this.sendBatch;
}

function setup(scripts: { connectAfter?: 'now' | 'never' | number | Error; sends?: SendBehaviour[] }[]) {
  const producers: FakeProducer[] = [];
  const createProducer = () => {
    const script = scripts[producers.length] ?? {};
    const producer = new FakeProducer(script.connectAfter ?? 'now', script.sends ?? []);
    producers.push(producer);
    return { producer: producer as unknown as Producer, fence: () => (producer.fenced = true) };
  };
  const serde = { encode: () => Buffer.from('x'), registerWriter: async () => 1 } as unknown as ContractSerde;
  const config = { KAFKA_PRODUCE_TIMEOUT_MS: 50, KAFKA_UNAVAILABLE_RETRY_AFTER_SECONDS: 7 } as GatewayConfig;
  const registry = new Registry();
  const submitter = new DocumentSubmitter(createProducer, serde, topicNames('t'), config, pino({ level: 'silent' }), registry);
  return { submitter, producers, registry };
}

const doc: DocumentSubmitted = {
  documentId: 'doc-1',
  version: 1,
  title: null,
  contentType: 'text/plain',
  content: Buffer.from('hello'),
  source: 'test',
  metadata: {},
  submittedAt: 0,
};

const retriesExceeded = () =>
  new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), {
    retryCount: 10,
    retryTime: 10_000,
  });

async function outcomes(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('rag_gateway_kafka_sends_total')!.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.outcome), v.value]));
}

describe('DocumentSubmitter', () => {
  it('resolves once Kafka acknowledges and keeps using the same producer', async () => {
    const { submitter, producers, registry } = setup([]);
    await submitter.submit(doc);
    await submitter.submit(doc);
    expect(producers).toHaveLength(1);
    expect(producers[0].sent).toBe(2);
    expect(await outcomes(registry)).toEqual({ accepted: 2 });
  });

  it('refuses a document Kafka does not acknowledge within the deadline, then sends the next one with a new producer', async () => {
    const { submitter, producers, registry } = setup([{ sends: ['hang'] }]);
    const started = Date.now();
    const refusal = await submitter.submit(doc).catch((err: unknown) => err);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(refusal).toBeInstanceOf(KafkaUnavailableError);
    expect((refusal as KafkaUnavailableError).retryAfterSeconds).toBe(7);
    expect((refusal as KafkaUnavailableError).retriable).toBe(true);
    expect(producers[0].fenced).toBe(true);
    expect(producers[0].disconnected).toBe(true);

    await submitter.submit(doc);
    expect(producers).toHaveLength(2);
    expect(producers[1].sent).toBe(1);
    expect(await outcomes(registry)).toEqual({ kafka_unavailable: 1, accepted: 1 });
  });

  it('bounds a connect that never completes, and never sends on it', async () => {
    const { submitter, producers } = setup([{ connectAfter: 'never' }]);
    await expect(submitter.submit(doc)).rejects.toBeInstanceOf(KafkaUnavailableError);
    expect(producers[0].fenced).toBe(true);
    await submitter.submit(doc);
    expect(producers).toHaveLength(2);
    expect(producers[0].sent).toBe(0);
  });

  it('does not send a refused document when its late connect completes', async () => {
    const { submitter, producers } = setup([{ connectAfter: 100 }]);
    await expect(submitter.submit(doc)).rejects.toBeInstanceOf(KafkaUnavailableError);
    await new Promise((r) => setTimeout(r, 150));
    expect(producers[0].sent).toBe(0);
  });

  it('maps kafkajs connection failures (retries exhausted) to KafkaUnavailableError', async () => {
    const { submitter, producers } = setup([{ sends: [retriesExceeded()] }]);
    const refusal = (await submitter.submit(doc).catch((err: unknown) => err)) as KafkaUnavailableError;
    expect(refusal).toBeInstanceOf(KafkaUnavailableError);
    expect(refusal.message).toMatch(/ECONNREFUSED/);
    expect(refusal.cause).toBeInstanceOf(KafkaJSNumberOfRetriesExceeded);
    expect(producers[0].disconnected).toBe(true);
  });

  it('passes a definite rejection by the broker through unchanged, and still replaces the producer', async () => {
    const tooLarge = new KafkaJSProtocolError({
      message: 'The request included a message larger than the max message size',
      type: 'MESSAGE_TOO_LARGE',
      code: 10,
      retriable: false,
    } as never);
    const { submitter, producers, registry } = setup([{ sends: [tooLarge] }]);
    await expect(submitter.submit(doc)).rejects.toBe(tooLarge);
    await submitter.submit(doc);
    expect(producers).toHaveLength(2);
    expect(await outcomes(registry)).toEqual({ failed: 1, accepted: 1 });
  });

  it('starts without waiting for Kafka; a connect that never finishes is replaced after the first refused send', async () => {
    const { submitter, producers } = setup([{ connectAfter: 'never' }]);
    await submitter.onModuleInit();
    expect(producers).toHaveLength(1);
    await expect(submitter.submit(doc)).rejects.toBeInstanceOf(KafkaUnavailableError);
    await submitter.submit(doc);
    expect(producers).toHaveLength(2);
  });

  it('replaces a producer whose connect failed before the next send', async () => {
    const { submitter, producers } = setup([{ connectAfter: retriesExceeded() }]);
    await submitter.onModuleInit();
    await new Promise((r) => setImmediate(r));
    expect(producers[0].fenced).toBe(true);
    await submitter.submit(doc);
    expect(producers).toHaveLength(2);
  });

  it('bounds a delete (tombstone) the same way', async () => {
    const { submitter, producers, registry } = setup([{ sends: ['hang'] }]);
    await expect(submitter.delete('doc-1', 1)).rejects.toBeInstanceOf(KafkaUnavailableError);
    await submitter.delete('doc-1', 1);
    expect(producers).toHaveLength(2);
    const metric = await registry.getSingleMetric('rag_gateway_kafka_sends_total')!.get();
    expect(metric.values.map((v) => `${v.labels.operation}:${v.labels.outcome}=${v.value}`).sort()).toEqual([
      'delete:accepted=1',
      'delete:kafka_unavailable=1',
    ]);
  });

  it('replaces a failed producer only once when several sends on it fail together', async () => {
    const { submitter, producers } = setup([{ sends: ['hang', 'hang', 'hang'] }]);
    const refusals = await Promise.all([1, 2, 3].map(() => submitter.submit(doc).catch((err: unknown) => err)));
    expect(refusals.every((r) => r instanceof KafkaUnavailableError)).toBe(true);
    await submitter.submit(doc);
    expect(producers).toHaveLength(2);
  });
});
