import { PermanentError } from '@rag/common';
import { chunkId, type Chunk, type DocumentSubmitted } from '@rag/contracts';
import { extractSections } from './extract-text';
import type { RecursiveTokenSplitter, TextPiece } from './text-splitter';

/** A chunk's text before it becomes a Chunk record. */
export interface DocumentPiece extends TextPiece {
  heading: string | null;
}

/**
 * The costly part of chunking (text extraction and splitting), a pure function of the body:
 * this is what runs in the parse workers. Throws PermanentError for documents that can never be
 * chunked (bad bytes, no text, too many chunks).
 */
export function splitDocument(contentType: string, content: Buffer, splitter: RecursiveTokenSplitter, maxChunks: number): DocumentPiece[] {
  const pieces = extractSections(contentType, content).flatMap((section) =>
    splitter.split(section.text).map((piece) => ({ ...piece, heading: section.heading })),
  );
  if (pieces.length > maxChunks) {
    throw new PermanentError(`document yields ${pieces.length} chunks, above CHUNK_MAX_PER_DOCUMENT=${maxChunks}`);
  }
  return pieces;
}

/** The pieces of a document as Chunk records with deterministic ids. */
export function chunksOf(doc: DocumentSubmitted, pieces: DocumentPiece[]): Chunk[] {
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

/**
 * The chunker's product, free of Kafka, in the calling thread: a document's text split into
 * chunks with deterministic ids. The chunker service runs splitDocument in parse workers instead.
 */
export function chunkDocument(doc: DocumentSubmitted, splitter: RecursiveTokenSplitter, maxChunks: number): Chunk[] {
  if (!doc.documentId) throw new PermanentError('documentId is empty');
  return chunksOf(doc, splitDocument(doc.contentType, doc.content, splitter, maxChunks));
}
