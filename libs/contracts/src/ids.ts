import { createHash } from 'node:crypto';

/**
 * Deterministic chunk id: the same (document, version, index) always maps to the same id,
 * which is the Elasticsearch _id, so replays overwrite instead of duplicating.
 */
export function chunkId(documentId: string, version: number, chunkIndex: number): string {
  const digest = createHash('sha256').update(`${documentId}\u0000${version}\u0000${chunkIndex}`).digest('base64url');
  return digest.slice(0, 32);
}
