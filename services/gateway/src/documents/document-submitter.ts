import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CONTRACT_SERDE, IDEMPOTENT_PRODUCER, KAFKA, TOPICS } from '@rag/common';
import type { ContractSerde, DocumentEvent, DocumentSubmitted, TopicNames } from '@rag/contracts';
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

  /** Resolves once Kafka has acknowledged the document (all in-sync replicas). */
  async submit(doc: DocumentSubmitted): Promise<void> {
    const accepted: DocumentEvent = {
      documentId: doc.documentId,
      version: doc.version,
      type: 'ACCEPTED',
      at: Date.now(),
      stage: 'gateway',
      chunkCount: null,
      chunkIndices: [],
      reason: null,
      submittedAt: doc.submittedAt,
    };
    await this.producer.sendBatch({
      acks: -1,
      topicMessages: [
        { topic: this.topics.documents, messages: [{ key: doc.documentId, value: this.serde.encode('DocumentSubmitted', doc) }] },
        { topic: this.topics.events, messages: [{ key: doc.documentId, value: this.serde.encode('DocumentEvent', accepted) }] },
      ],
    });
  }
}
