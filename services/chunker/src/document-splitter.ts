import { join } from 'node:path';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { PermanentError, SERVICE_CONFIG } from '@rag/common';
import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, type DocumentSubmitted } from '@rag/contracts';
import { IsolatedWorkerPool } from '@rag/stage-runtime';
import { splitLimits, type ChunkerConfig } from './chunker.config';
import { splitDocument, type DocumentPiece, type SplitLimits } from './chunk-document';
import type { SplitTask, SplitWorkerSettings } from './split-document.worker';
import { RecursiveTokenSplitter } from './text-splitter';

/** The compiled worker beside this file (dist/services/chunker/src/split-document.worker.js). */
const WORKER_SCRIPT = join(__dirname, 'split-document.worker.js');

/**
 * Splits documents in parse workers (IsolatedWorkerPool) under CHUNKER_PARSE_TIMEOUT_MS and
 * CHUNKER_PARSE_MAX_MEMORY_MB, so a document that would exhaust the heap or loop costs only
 * itself. CHUNKER_WORKERS=0 splits in the service's own thread, without that protection.
 */
@Injectable()
export class DocumentSplitter implements OnApplicationShutdown {
  private readonly pool?: IsolatedWorkerPool<SplitTask, DocumentPiece[]>;
  private readonly limits: SplitLimits;

  constructor(@Inject(SERVICE_CONFIG) private readonly config: ChunkerConfig) {
    this.limits = splitLimits(config);
    const settings: SplitWorkerSettings = this.limits;
    if (config.CHUNKER_WORKERS === 0) return;
    this.pool = new IsolatedWorkerPool<SplitTask, DocumentPiece[]>({
      filename: WORKER_SCRIPT,
      taskName: 'parse',
      workers: config.CHUNKER_WORKERS,
      timeoutMs: config.CHUNKER_PARSE_TIMEOUT_MS,
      maxMemoryMb: config.CHUNKER_PARSE_MAX_MEMORY_MB,
      workerData: settings,
    });
  }

  /** Splits with the document's own chunk size and overlap when it asks for them, else the configured ones. */
  async split(doc: Pick<DocumentSubmitted, 'contentType' | 'content' | 'chunkSize' | 'chunkOverlap'>): Promise<DocumentPiece[]> {
    const { chunkSize, chunkOverlap } = this.chunking(doc);
    if (!this.pool) {
      const splitter = new RecursiveTokenSplitter({ chunkSize, chunkOverlap });
      return splitDocument(doc.contentType, doc.content, splitter, this.limits);
    }
    // The decoded content is a view into the consumed batch's buffer, which must stay intact
    // (a failed record is forwarded byte for byte): copy just its bytes once, then move that copy.
    const copy = new Uint8Array(doc.content.byteLength);
    copy.set(doc.content);
    return this.pool.run({ contentType: doc.contentType, content: copy.buffer, chunkSize, chunkOverlap }, [copy.buffer]);
  }

  /** A producer writing straight to Kafka is not validated by the gateway: bad sizes are the document's fault. */
  private chunking(doc: Pick<DocumentSubmitted, 'chunkSize' | 'chunkOverlap'>): { chunkSize: number; chunkOverlap: number } {
    const chunkSize = doc.chunkSize ?? this.config.CHUNK_SIZE_TOKENS;
    const chunkOverlap = doc.chunkOverlap ?? Math.min(this.config.CHUNK_OVERLAP_TOKENS, Math.floor(chunkSize / 4));
    if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
      throw new PermanentError(`chunkSize ${chunkSize} is outside ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE} tokens`);
    }
    if (!Number.isInteger(chunkOverlap) || chunkOverlap < 0 || chunkOverlap >= chunkSize) {
      throw new PermanentError(`chunkOverlap ${chunkOverlap} must be 0 or more and smaller than chunkSize ${chunkSize}`);
    }
    return { chunkSize, chunkOverlap };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool?.close();
  }
}
