import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CONTRACT_SERDE, IDEMPOTENT_PRODUCER, KAFKA, TOPICS } from '@rag/common';
import {
  documentFacts,
  Headers,
  lifecycleEvent,
  type ContractSerde,
  type DocumentEvent,
  type DocumentSubmitted,
  type TopicNames,
} from '@rag/contracts';
import type { Kafka, Producer } from 'kafkajs';

/** Produces accepted documents (and their ACCEPTED event) with the idempotent producer, acks=all. */
@Injectable()
export class DocumentSubmitter implements OnModuleInit, OnModuleDestroy {
  private readonly producer: Producer;

  constructor(
    @Inject(KAFKA) kafka: Kafka,
    @Inject(CONTRACT_SERDE) private readonly serde: ContractSerde,
    @Inject(TOPICS) private readonly topics: TopicNames,
  ) {
    this.producer = kafka.producer(IDEMPOTENT_PRODUCER);
  }

  async onModuleInit(): Promise<void> {
    await this.serde.registerWriter('DocumentSubmitted', this.topics.documents);
    await this.serde.registerWriter('DocumentEvent', this.topics.events);
    await this.producer.connect();
  }

  async onModuleDestroy(): Promise<void> {
    await this.producer.disconnect();
  }

  /** Resolves with the ACCEPTED event once Kafka has acknowledged the document (all in-sync replicas). */
  async submit(doc: DocumentSubmitted): Promise<DocumentEvent> {
    const accepted = lifecycleEvent('ACCEPTED', { ...documentFacts(doc), stage: 'gateway' });
    await this.producer.sendBatch({
      acks: -1,
      topicMessages: [
        { topic: this.topics.documents, messages: [{ key: doc.documentId, value: this.serde.encode('DocumentSubmitted', doc) }] },
        { topic: this.topics.events, messages: [{ key: doc.documentId, value: this.serde.encode('DocumentEvent', accepted) }] },
      ],
    });
    return accepted;
  }

  /**
   * A delete is a tombstone on the documents topic (key = documentId, null value), so it follows
   * the document's earlier versions through the same partition; `x-document-version` names the
   * newest version it deletes. Resolves once Kafka has acknowledged it.
   */
  async delete(documentId: string, version: number): Promise<void> {
    await this.producer.send({
      topic: this.topics.documents,
      acks: -1,
      messages: [{ key: documentId, value: null, headers: { [Headers.documentVersion]: String(version) } }],
    });
  }
}
