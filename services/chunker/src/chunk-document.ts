import { PermanentError } from '@rag/common/stage-errors';
import { chunkId } from '@rag/contracts/ids';
import { tenantOf, type Chunk, type DocumentSubmitted } from '@rag/contracts/types';
import { extractSections, type ExtractionLimits } from './formats';
import type { RecursiveTokenSplitter, SectionPiece } from './text-splitter';

/** A chunk's text and where it comes from, before it becomes a Chunk record. */
export type DocumentPiece = SectionPiece;

export interface SplitLimits extends ExtractionLimits {
  maxChunks: number;
  mergeSections: boolean;
}

/**
 * The costly part of chunking (text extraction and splitting), a pure function of the body:
 * this is what runs in the parse workers. Throws PermanentError for documents that can never be
 * chunked (bad bytes, no text, encrypted, too many pages or chunks).
 */
export async function splitDocument(
  contentType: string,
  content: Uint8Array,
  splitter: RecursiveTokenSplitter,
  limits: SplitLimits,
): Promise<DocumentPiece[]> {
  const sections = await extractSections(contentType, content, limits);
  const pieces = splitter.splitSections(sections, limits.mergeSections);
  if (pieces.length > limits.maxChunks) {
    throw new PermanentError(`document yields ${pieces.length} chunks, above CHUNK_MAX_PER_DOCUMENT=${limits.maxChunks}`);
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
    headings: piece.headings,
    pageStart: piece.pageStart,
    pageEnd: piece.pageEnd,
    slideStart: piece.slideStart,
    slideEnd: piece.slideEnd,
    sheet: piece.sheet,
    tenant: tenantOf(doc),
    metadata: doc.metadata,
    submittedAt: doc.submittedAt,
  }));
}

/**
 * The chunker's product, free of Kafka, in the calling thread: a document's text split into
 * chunks with deterministic ids. The chunker service runs splitDocument in parse workers instead.
 */
export async function chunkDocument(doc: DocumentSubmitted, splitter: RecursiveTokenSplitter, limits: SplitLimits): Promise<Chunk[]> {
  if (!doc.documentId) throw new PermanentError('documentId is empty');
  return chunksOf(doc, await splitDocument(doc.contentType, doc.content, splitter, limits));
}
