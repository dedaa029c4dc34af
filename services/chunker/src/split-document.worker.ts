import { workerData } from 'node:worker_threads';
import { serveIsolatedTasks } from '@rag/stage-runtime';
import { splitDocument, type DocumentPiece } from './chunk-document';
import { RecursiveTokenSplitter } from './text-splitter';

/** Fixed for the life of the worker (from the chunker's configuration). */
export interface SplitWorkerSettings {
  chunkSize: number;
  chunkOverlap: number;
  maxChunks: number;
}

/** One document to split; `content` is moved (transferred) here, not copied. */
export interface SplitTask {
  contentType: string;
  content: ArrayBuffer;
}

const settings = workerData as SplitWorkerSettings;
const splitter = new RecursiveTokenSplitter({ chunkSize: settings.chunkSize, chunkOverlap: settings.chunkOverlap });

serveIsolatedTasks<SplitTask, DocumentPiece[]>((task) =>
  splitDocument(task.contentType, Buffer.from(task.content), splitter, settings.maxChunks),
);
