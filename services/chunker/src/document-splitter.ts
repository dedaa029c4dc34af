import { join } from 'node:path';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { SERVICE_CONFIG } from '@rag/common';
import { IsolatedWorkerPool } from '@rag/stage-runtime';
import type { ChunkerConfig } from './chunker.config';
import { splitDocument, type DocumentPiece } from './chunk-document';
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
  private readonly inProcess?: RecursiveTokenSplitter;

  constructor(@Inject(SERVICE_CONFIG) private readonly config: ChunkerConfig) {
    const settings: SplitWorkerSettings = {
      chunkSize: config.CHUNK_SIZE_TOKENS,
      chunkOverlap: config.CHUNK_OVERLAP_TOKENS,
      maxChunks: config.CHUNK_MAX_PER_DOCUMENT,
    };
    if (config.CHUNKER_WORKERS === 0) {
      this.inProcess = new RecursiveTokenSplitter({ chunkSize: settings.chunkSize, chunkOverlap: settings.chunkOverlap });
      return;
    }
    this.pool = new IsolatedWorkerPool<SplitTask, DocumentPiece[]>({
      filename: WORKER_SCRIPT,
      taskName: 'parse',
      workers: config.CHUNKER_WORKERS,
      timeoutMs: config.CHUNKER_PARSE_TIMEOUT_MS,
      maxMemoryMb: config.CHUNKER_PARSE_MAX_MEMORY_MB,
      workerData: settings,
    });
  }

  async split(contentType: string, content: Buffer): Promise<DocumentPiece[]> {
    if (!this.pool) return splitDocument(contentType, content, this.inProcess!, this.config.CHUNK_MAX_PER_DOCUMENT);
    // The decoded content is a view into the consumed batch's buffer, which must stay intact
    // (a failed record is forwarded byte for byte): copy just its bytes once, then move that copy.
    const copy = new Uint8Array(content.byteLength);
    copy.set(content);
    return this.pool.run({ contentType, content: copy.buffer }, [copy.buffer]);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool?.close();
  }
}
