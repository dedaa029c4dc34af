import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CONTRACT_SERDE, errorMessage, METRICS_REGISTRY, ROOT_LOGGER, SERVICE_CONFIG, TOPICS } from '@rag/common';
import {
  documentFacts,
  Headers,
  lifecycleEvent,
  type ContractSerde,
  type DocumentEvent,
  type DocumentSubmitted,
  type TopicNames,
} from '@rag/contracts';
import type { Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { GatewayConfig } from '../gateway.config';
import { FENCED_PRODUCER_FACTORY, type FencedProducer, type FencedProducerFactory } from './fenced-producer';
import { isKafkaAvailabilityError, KafkaUnavailableError } from './kafka-unavailable.error';

class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
}

/** Rejects with DeadlineExceeded unless `promise` settles within `ms`. */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new DeadlineExceeded(`Kafka did not acknowledge within ${ms} ms`)), ms);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

/** One producer and its connection attempt; retired (fenced) as a whole after a failed send. */
interface ProducerGeneration {
  fenced: FencedProducer;
  connected: Promise<Producer>;
  retired: boolean;
}

/**
 * Produces accepted documents (and their ACCEPTED event) and deletes (tombstones) with the
 * idempotent producer, acks=all, within KAFKA_PRODUCE_TIMEOUT_MS (connecting included); what Kafka
 * did not acknowledge in that time is refused with a KafkaUnavailableError (503), never reported accepted.
 *
 * Any failed or timed-out send retires its producer and the next send gets a new one (new
 * producer id), for two reasons:
 * - kafkajs rolls a failed batch's sequence numbers back. If the broker did write a batch whose
 *   answer was lost, the same producer would send the next document under the same sequence
 *   number and the broker would drop it as a duplicate while answering success: a 202 for a
 *   record Kafka never stored. A new producer id starts a fresh sequence.
 * - kafkajs keeps retrying a send on its own. A retired producer is fenced (its sockets cut, no
 *   new ones; see FencedProducer), so a document answered 503 is not delivered behind the
 *   client's back once the broker is back.
 *
 * A request already on the wire when the deadline passed (a frozen broker holds it in its socket
 * buffer) may still be written when the broker resumes. That document was answered 503; the
 * client sends it again with the same documentId and version, and every stage downstream is
 * idempotent on (documentId, version), so at worst it is processed twice with the same result.
 */
@Injectable()
export class DocumentSubmitter implements OnModuleInit, OnModuleDestroy {
  private current?: ProducerGeneration;
  private readonly logger: Logger;
  private readonly outcomes: Counter<'operation' | 'outcome'>;

  constructor(
    @Inject(FENCED_PRODUCER_FACTORY) private readonly createProducer: FencedProducerFactory,
    @Inject(CONTRACT_SERDE) private readonly serde: ContractSerde,
    @Inject(TOPICS) private readonly topics: TopicNames,
    @Inject(SERVICE_CONFIG) private readonly config: GatewayConfig,
    @Inject(ROOT_LOGGER) logger: Logger,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.logger = logger.child({ component: 'document-submitter' });
    this.outcomes = new Counter({
      name: 'rag_gateway_kafka_sends_total',
      help: 'Documents (operation=submit) and deletes (operation=delete) the gateway handed to Kafka, by outcome (accepted, kafka_unavailable, failed).',
      labelNames: ['operation', 'outcome'],
      registers: [registry],
    });
  }

  async onModuleInit(): Promise<void> {
    await this.serde.registerWriter('DocumentSubmitted', this.topics.documents);
    await this.serde.registerWriter('DocumentEvent', this.topics.events);
    // Connect early, but do not wait: the gateway also starts without Kafka, then it is not ready
    // (/readyz) and answers 503 until Kafka is back.
    this.generation();
  }

  async onModuleDestroy(): Promise<void> {
    const generation = this.current;
    this.current = undefined;
    await generation?.fenced.producer.disconnect().catch(() => undefined);
  }

  /** Resolves with the ACCEPTED event once Kafka has acknowledged the document (all in-sync replicas), else throws. */
  async submit(doc: DocumentSubmitted): Promise<DocumentEvent> {
    const accepted = lifecycleEvent('ACCEPTED', { ...documentFacts(doc), stage: 'gateway' });
    const topicMessages = [
      { topic: this.topics.documents, messages: [{ key: doc.documentId, value: this.serde.encode('DocumentSubmitted', doc) }] },
      { topic: this.topics.events, messages: [{ key: doc.documentId, value: this.serde.encode('DocumentEvent', accepted) }] },
    ];
    await this.produce('submit', (p) => p.sendBatch({ acks: -1, topicMessages }));
    return accepted;
  }

  /**
   * A delete is a tombstone on the documents topic (key = documentId, null value), so it follows
   * the document's earlier versions through the same partition; `x-document-version` names the
   * newest version it deletes. Resolves once Kafka has acknowledged it, else throws.
   */
  async delete(documentId: string, version: number): Promise<void> {
    await this.produce('delete', (p) =>
      p.send({
        topic: this.topics.documents,
        acks: -1,
        messages: [{ key: documentId, value: null, headers: { [Headers.documentVersion]: String(version) } }],
      }),
    );
  }

  /** One send, bounded by KAFKA_PRODUCE_TIMEOUT_MS; a failure retires the producer and is mapped to 503 when Kafka is unavailable. */
  private async produce(operation: 'submit' | 'delete', send: (producer: Producer) => Promise<unknown>): Promise<void> {
    const generation = this.generation();
    const sent = generation.connected.then((producer) => {
      // A connect that completes after this send was answered 503 must not send it.
      if (generation.retired) throw new DeadlineExceeded('the producer was retired before it connected');
      return send(producer);
    });
    try {
      await withDeadline(sent, this.config.KAFKA_PRODUCE_TIMEOUT_MS);
      this.outcomes.inc({ operation, outcome: 'accepted' });
    } catch (err) {
      // A send still running in the background must not surface as an unhandled rejection.
      sent.catch(() => undefined);
      this.retire(generation, err);
      const unavailable = err instanceof DeadlineExceeded || isKafkaAvailabilityError(err);
      this.outcomes.inc({ operation, outcome: unavailable ? 'kafka_unavailable' : 'failed' });
      if (!unavailable) throw err;
      const what = operation === 'submit' ? 'the document was' : 'the delete was';
      throw new KafkaUnavailableError(
        `${what} not accepted because Kafka is unavailable (${errorMessage(err)}); send it again after ${this.config.KAFKA_UNAVAILABLE_RETRY_AFTER_SECONDS} s`,
        this.config.KAFKA_UNAVAILABLE_RETRY_AFTER_SECONDS,
        { cause: err },
      );
    }
  }

  /** The current producer, or a new one that starts connecting now (connecting counts against a send's deadline). */
  private generation(): ProducerGeneration {
    if (!this.current) {
      const fenced = this.createProducer();
      const generation: ProducerGeneration = { fenced, connected: fenced.producer.connect().then(() => fenced.producer), retired: false };
      // A producer that could not connect is of no further use: the next send starts a new one.
      generation.connected.catch((err: unknown) => this.retire(generation, err));
      this.current = generation;
    }
    return this.current;
  }

  /**
   * Retires `generation` (if still current): fenced, so none of its sends can still reach Kafka
   * through kafkajs' internal retries, and the next send gets a new producer.
   */
  private retire(generation: ProducerGeneration, reason: unknown): void {
    if (generation.retired) return;
    generation.retired = true;
    generation.fenced.fence();
    if (this.current === generation) this.current = undefined;
    this.logger.warn({ err: errorMessage(reason) }, 'Kafka producer failed to connect or send; it is fenced and replaced');
    generation.fenced.producer.disconnect().catch(() => undefined);
  }
}
