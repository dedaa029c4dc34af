import { workerData } from 'node:worker_threads';
import { serveIsolatedTasks } from '@rag/stage-runtime/isolated-work/serve-isolated-tasks';
import { splitDocument, type DocumentPiece, type SplitLimits } from './chunk-document';
import { RecursiveTokenSplitter } from './text-splitter';

/** Fixed for the life of the worker (from the chunker's configuration). */
export type SplitWorkerSettings = SplitLimits;

/** One document to split; `content` is moved (transferred) here, not copied. */
export interface SplitTask {
  contentType: string;
  content: ArrayBuffer;
  chunkSize: number;
  chunkOverlap: number;
}

const settings = workerData as SplitWorkerSettings;
/** Splitters by chunk size and overlap: documents may ask for their own. */
const splitters = new Map<string, RecursiveTokenSplitter>();

function splitterFor(chunkSize: number, chunkOverlap: number): RecursiveTokenSplitter {
  const key = `${chunkSize}/${chunkOverlap}`;
  let splitter = splitters.get(key);
  if (!splitter) {
    splitter = new RecursiveTokenSplitter({ chunkSize, chunkOverlap });
    if (splitters.size >= 32) splitters.clear();
    splitters.set(key, splitter);
  }
  return splitter;
}

serveIsolatedTasks<SplitTask, DocumentPiece[]>((task) =>
  splitDocument(task.contentType, new Uint8Array(task.content), splitterFor(task.chunkSize, task.chunkOverlap), settings),
);
