import { Inject, Injectable } from '@nestjs/common';
import { PermanentError, SERVICE_CONFIG, TOPICS } from '@rag/common';
import { chunkId, type Chunk, type DocumentEvent, type DocumentSubmitted, type TopicNames } from '@rag/contracts';
import type { InboundRecord, OutboundRecord, RecordResult, StageHandler } from '@rag/stage-runtime';
import type { ChunkerConfig } from './chunker.config';
import { extractSections } from './extract-text';
import { RecursiveTokenSplitter } from './text-splitter';

/** Documents in, chunks out: extract text, split by tokens, give each chunk its deterministic id. */
@Injectable()
export class ChunkerHandler implements StageHandler<'DocumentSubmitted'> {
  readonly input = 'DocumentSubmitted' as const;
  readonly writes;
  private readonly splitter: RecursiveTokenSplitter;

  constructor(
    @Inject(TOPICS) private readonly topics: TopicNames,
    @Inject(SERVICE_CONFIG) private readonly config: ChunkerConfig,
  ) {
    this.writes = [{ contract: 'Chunk' as const, topic: topics.chunks }];
    this.splitter = new RecursiveTokenSplitter({
      chunkSize: config.CHUNK_SIZE_TOKENS,
      chunkOverlap: config.CHUNK_OVERLAP_TOKENS,
    });
  }

  async handle(records: InboundRecord<DocumentSubmitted>[]): Promise<RecordResult[]> {
    return records.map((record) => {
      try {
        return { outputs: this.chunk(record.value) };
      } catch (error) {
        return { error };
      }
    });
  }

  chunk(doc: DocumentSubmitted): OutboundRecord[] {
    if (!doc.documentId) throw new PermanentError('documentId is empty');
    const pieces = extractSections(doc.contentType, doc.content).flatMap((section) =>
      this.splitter.split(section.text).map((piece) => ({ ...piece, heading: section.heading })),
    );
    if (pieces.length > this.config.CHUNK_MAX_PER_DOCUMENT) {
      throw new PermanentError(
        `document yields ${pieces.length} chunks, above CHUNK_MAX_PER_DOCUMENT=${this.config.CHUNK_MAX_PER_DOCUMENT}`,
      );
    }
    const chunks: OutboundRecord[] = pieces.map((piece, index) => {
      const value: Chunk = {
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
      };
      return { topic: this.topics.chunks, key: doc.documentId, contract: 'Chunk', value };
    });
    const event: DocumentEvent = {
      documentId: doc.documentId,
      version: doc.version,
      type: 'CHUNKED',
      at: Date.now(),
      stage: 'chunker',
      chunkCount: pieces.length,
      chunkIndices: [],
      reason: null,
      submittedAt: doc.submittedAt,
    };
    return [...chunks, { topic: this.topics.events, key: doc.documentId, contract: 'DocumentEvent', value: event }];
  }
}
