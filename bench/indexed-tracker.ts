import { ContractSerde } from '@rag/contracts';
import type { Consumer, Kafka } from 'kafkajs';
import { sleep } from './stats';

export interface DocumentProgress {
  chunkCount?: number;
  chunked?: number;
  indexed: Set<number>;
  submittedAt?: number;
  /** Indexer clock (`at`) of the INDEXED event that completed the document. */
  doneAt?: number;
  /** Bench clock when that event was received: what a subscriber to the events topic sees. */
  receivedAt?: number;
  /** Earliest INDEXED `at` of the document. */
  firstIndexedAt?: number;
  failed?: string;
}

/**
 * Follows `<prefix>.events` from the beginning and knows, per document, when its last chunk
 * was indexed: a document is complete when the chunk indices of its INDEXED events cover
 * chunkCount (events may repeat after a redelivery, hence a set).
 */
export class IndexedTracker {
  readonly docs = new Map<string, DocumentProgress>();
  private consumer?: Consumer;
  private readonly serde: ContractSerde;

  constructor(
    private readonly kafka: Kafka,
    registryUrl: string,
    private readonly topic: string,
  ) {
    this.serde = ContractSerde.connect(registryUrl);
  }

  async start(): Promise<void> {
    this.consumer = this.kafka.consumer({
      groupId: `bench-tracker-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`,
      maxWaitTimeInMs: 50,
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    const joined = new Promise<void>((resolve) => this.consumer!.on(this.consumer!.events.GROUP_JOIN, () => resolve()));
    await this.consumer.run({
      partitionsConsumedConcurrently: 3,
      eachBatch: async ({ batch }) => {
        const receivedAt = Date.now();
        for (const message of batch.messages) {
          const event = await this.serde.decode('DocumentEvent', message.value);
          const doc = this.progress(event.documentId);
          if (event.submittedAt !== null) doc.submittedAt = event.submittedAt;
          if (event.type === 'CHUNKED') {
            doc.chunkCount = event.chunkCount ?? 0;
            doc.chunked = event.at;
          } else if (event.type === 'FAILED') {
            doc.failed = event.reason ?? 'failed';
          } else if (event.type === 'INDEXED') {
            if (event.chunkCount !== null) doc.chunkCount = event.chunkCount;
            doc.firstIndexedAt = Math.min(doc.firstIndexedAt ?? event.at, event.at);
            for (const i of event.chunkIndices) doc.indexed.add(i);
            if (doc.doneAt === undefined && doc.chunkCount !== undefined && doc.indexed.size >= doc.chunkCount) {
              doc.doneAt = event.at;
              doc.receivedAt = receivedAt;
            }
          }
        }
      },
    });
    await Promise.race([joined, sleep(30_000)]);
  }

  private progress(id: string): DocumentProgress {
    let doc = this.docs.get(id);
    if (!doc) this.docs.set(id, (doc = { indexed: new Set() }));
    return doc;
  }

  /** Waits until every id is complete (or failed); returns the ids still pending at the deadline. */
  async waitUntil(ids: string[], what: 'indexed' | 'chunked', timeoutMs: number): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    let pending = ids;
    while (Date.now() < deadline) {
      pending = pending.filter((id) => {
        const d = this.docs.get(id);
        if (!d) return true;
        if (d.failed) return false;
        return what === 'indexed' ? d.doneAt === undefined : d.chunked === undefined;
      });
      if (pending.length === 0) return [];
      await sleep(100);
    }
    return pending;
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
