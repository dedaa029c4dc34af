import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { ROOT_LOGGER, SERVICE_CONFIG } from '@rag/common';
import { DocumentRegistry, isSettled, toDocumentStatus, type DocumentStatus } from '@rag/document-registry';
import type { Logger } from 'pino';
import { Observable, type Subscriber } from 'rxjs';
import type { GatewayConfig } from '../gateway.config';
import { DOCUMENT_REGISTRY } from './registry.provider';

interface Watch {
  subscribers: Set<Subscriber<DocumentStatus>>;
  last?: string;
}

/**
 * Live status for Server-Sent Events, read from the registry like every other status: one timer
 * polls all watched documents with one multi-get per tick, so the cost grows with open streams,
 * not with documents, and every gateway instance answers the same.
 */
@Injectable()
export class StatusWatcher implements OnModuleDestroy {
  private readonly watches = new Map<string, Watch>();
  private timer?: NodeJS.Timeout;
  private polling = false;
  private readonly logger: Logger;

  constructor(
    @Inject(DOCUMENT_REGISTRY) private readonly registry: DocumentRegistry,
    @Inject(SERVICE_CONFIG) private readonly config: GatewayConfig,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'status-watcher' });
  }

  /** Emits the current status (once known), then every change; completes once indexed, failed or deleted. */
  watch(documentId: string): Observable<DocumentStatus> {
    return new Observable<DocumentStatus>((subscriber) => {
      const watch = this.watches.get(documentId) ?? { subscribers: new Set() };
      watch.subscribers.add(subscriber);
      this.watches.set(documentId, watch);
      watch.last = undefined; // a new subscriber gets the current status on the next tick
      this.schedule(0);
      return () => {
        watch.subscribers.delete(subscriber);
        if (watch.subscribers.size === 0) this.watches.delete(documentId);
      };
    });
  }

  onModuleDestroy(): void {
    clearTimeout(this.timer);
    for (const watch of this.watches.values()) for (const s of watch.subscribers) s.complete();
    this.watches.clear();
  }

  private schedule(delayMs: number): void {
    if (this.polling || this.watches.size === 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), delayMs);
  }

  private async poll(): Promise<void> {
    this.polling = true;
    try {
      const found = await this.registry.getMany([...this.watches.keys()]);
      for (const [documentId, watch] of this.watches) {
        const stored = found.get(documentId);
        if (!stored) continue;
        const status = toDocumentStatus(stored.record);
        const serialized = JSON.stringify(status);
        if (serialized === watch.last) continue;
        watch.last = serialized;
        for (const subscriber of watch.subscribers) {
          subscriber.next(status);
          if (isSettled(status.status)) subscriber.complete();
        }
      }
    } catch (err) {
      this.logger.warn({ err }, 'status poll failed; retrying');
    } finally {
      this.polling = false;
      this.schedule(this.config.STATUS_POLL_INTERVAL_MS);
    }
  }
}
