import { PermanentError } from '@rag/common/stage-errors';
import { unzipSync, type Unzipped } from 'fflate';

const MiB = 1024 * 1024;

/**
 * Zip-bomb guard for the Office formats, before any library inflates the package: the sizes the
 * central directory declares must stay within `maxUnzippedBytes` in all. A package that lies
 * about its sizes is still caught by the parse worker's memory and time budget.
 */
export function checkZipBudget(content: Uint8Array, maxUnzippedBytes: number): void {
  let declared = 0;
  try {
    unzipSync(content, {
      filter: (file) => {
        declared += file.originalSize;
        return false;
      },
    });
  } catch (err) {
    throw new PermanentError(`corrupt: not a readable zip package (${(err as Error).message})`);
  }
  if (declared > maxUnzippedBytes) {
    throw new PermanentError(
      `zip bomb guard: the package declares ${(declared / MiB).toFixed(0)} MiB uncompressed, above CHUNKER_MAX_UNZIPPED_MB=${Math.round(maxUnzippedBytes / MiB)}`,
    );
  }
}

/** The entries `wanted` picks, inflated (after checkZipBudget). */
export function readZipEntries(content: Uint8Array, wanted: (name: string) => boolean): Unzipped {
  try {
    return unzipSync(content, { filter: (file) => wanted(file.name) });
  } catch (err) {
    throw new PermanentError(`corrupt: zip package cannot be inflated (${(err as Error).message})`);
  }
}
