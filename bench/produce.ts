import { ContractSerde, type DocumentSubmitted } from '@rag/contracts';
import type { Kafka, Producer } from 'kafkajs';

/** An idempotent, acks=all producer of DocumentSubmitted records, as any upstream system would use. */
export class DocumentProducer {
  private constructor(
    private readonly producer: Producer,
    private readonly serde: ContractSerde,
    private readonly topic: string,
  ) {}

  static async connect(kafka: Kafka, registryUrl: string, topic: string): Promise<DocumentProducer> {
    const serde = ContractSerde.connect(registryUrl);
    await serde.registerWriter('DocumentSubmitted', topic);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    return new DocumentProducer(producer, serde, topic);
  }

  encode(doc: DocumentSubmitted): Buffer {
    return this.serde.encode('DocumentSubmitted', doc);
  }

  /** Pre-fills the topic in batches (throughput, not latency, matters here). */
  async fill(docs: DocumentSubmitted[], batchSize = 200): Promise<void> {
    for (let i = 0; i < docs.length; i += batchSize) {
      const messages = docs.slice(i, i + batchSize).map((d) => ({ key: d.documentId, value: this.encode(d) }));
      await this.producer.send({ topic: this.topic, acks: -1, messages });
    }
  }

  send(doc: DocumentSubmitted): Promise<unknown> {
    return this.producer.send({ topic: this.topic, acks: -1, messages: [{ key: doc.documentId, value: this.encode(doc) }] });
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}
