import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CONTRACT_SERDE, KAFKA, ROOT_LOGGER, SERVICE_CONFIG, TOPICS } from '@rag/common';
import type { ContractSerde, DocumentSubmitted, TopicNames } from '@rag/contracts';
import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { Observable } from 'rxjs';
import type { GatewayConfig } from '../gateway.config';
import { DocumentLifecycle, type DocumentStatus } from './document-status';

type Listener = (status: DocumentStatus) => void;

/**
 * Document statuses folded from the events topic. Every gateway instance reads the whole
 * topic (its own throwaway consumer group, nothing committed), so any instance can answer
 * for any document; memory is bounded by STATUS_MAX_DOCUMENTS (least recently updated go).
 */
@Injectable()
export class DocumentStatusStore implements OnModuleInit, OnApplicationShutdown {
  private readonly documents = new Map<string, DocumentLifecycle>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly consumer: Consumer;
  private readonly logger: Logger;

  constructor(
    @Inject(KAFKA) kafka: Kafka,
    @Inject(CONTRACT_SERDE) private readonly serde: ContractSerde,
    @Inject(TOPICS) private readonly topics: TopicNames,
    @Inject(SERVICE_CONFIG) private readonly config: GatewayConfig,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'status-store' });
    this.consumer = kafka.consumer({ groupId: `rag-gateway-status-${randomUUID()}`, maxWaitTimeInMs: 100 });
  }

  async onModuleInit(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topics.events, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        try {
          const event = await this.serde.decode('DocumentEvent', message.value);
          this.apply(event.documentId, event.version, (doc) => doc.apply(event));
        } catch (err) {
          this.logger.warn({ err, offset: message.offset }, 'skipping undecodable event');
        }
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer.disconnect();
  }

  /** The gateway knows a document as soon as Kafka acknowledged it, before its event is read back. */
  markSubmitted(doc: DocumentSubmitted): void {
    this.apply(doc.documentId, doc.version, (lifecycle) =>
      lifecycle.apply({
        documentId: doc.documentId,
        version: doc.version,
        type: 'ACCEPTED',
        at: doc.submittedAt,
        stage: 'gateway',
        chunkCount: null,
        chunkIndices: [],
        reason: null,
        submittedAt: doc.submittedAt,
      }),
    );
  }

  get(documentId: string): DocumentStatus | undefined {
    return this.documents.get(documentId)?.snapshot();
  }

  /** Emits the current status (if any), then every change; completes at indexed or failed. */
  watch(documentId: string): Observable<DocumentStatus> {
    return new Observable<DocumentStatus>((subscriber) => {
      const current = this.documents.get(documentId);
      if (current) {
        subscriber.next(current.snapshot());
        if (current.terminal) return subscriber.complete();
      }
      const listener: Listener = (status) => {
        subscriber.next(status);
        if (status.status === 'indexed' || status.status === 'failed') subscriber.complete();
      };
      const set = this.listeners.get(documentId) ?? new Set<Listener>();
      set.add(listener);
      this.listeners.set(documentId, set);
      return () => {
        set.delete(listener);
        if (set.size === 0) this.listeners.delete(documentId);
      };
    });
  }

  private apply(documentId: string, version: number, change: (doc: DocumentLifecycle) => boolean): void {
    let doc = this.documents.get(documentId);
    if (!doc) doc = new DocumentLifecycle(documentId, version);
    if (!change(doc)) return;
    // Re-insert so Map order is least-recently-updated first, then evict beyond the bound.
    this.documents.delete(documentId);
    this.documents.set(documentId, doc);
    if (this.documents.size > this.config.STATUS_MAX_DOCUMENTS) {
      const oldest = this.documents.keys().next().value;
      if (oldest !== undefined) this.documents.delete(oldest);
    }
    const listeners = this.listeners.get(documentId);
    if (listeners) {
      const snapshot = doc.snapshot();
      for (const listener of listeners) listener(snapshot);
    }
  }
}
