import { PermanentError } from '@rag/common';
import { chunkId, type Chunk, type DocumentSubmitted } from '@rag/contracts';
import { extractSections } from './extract-text';
import type { RecursiveTokenSplitter } from './text-splitter';

/**
 * The chunker's product, free of Kafka: a document's text split into chunks with deterministic
 * ids. Throws PermanentError for documents that can never be chunked (bad bytes, no text, too big).
 */
export function chunkDocument(doc: DocumentSubmitted, splitter: RecursiveTokenSplitter, maxChunks: number): Chunk[] {
  if (!doc.documentId) throw new PermanentError('documentId is empty');
  const pieces = extractSections(doc.contentType, doc.content).flatMap((section) =>
    splitter.split(section.text).map((piece) => ({ ...piece, heading: section.heading })),
  );
  if (pieces.length > maxChunks) {
    throw new PermanentError(`document yields ${pieces.length} chunks, above CHUNK_MAX_PER_DOCUMENT=${maxChunks}`);
  }
  return pieces.map((piece, index) => ({
    chunkId: chunkId(doc.documentId, doc.version, index),
    documentId: doc.documentId,
    version: doc.version,
    chunkIndex: index,
    chunkCount: pieces.length,
    text: piece.text,
    tokenCount: piece.tokens,
    title: doc.title,
    heading: piece.heading,
    metadata: doc.metadata,
    submittedAt: doc.submittedAt,
  }));
}
