import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_CONFIG, TOPICS } from '@rag/common';
import type { DocumentEvent, DocumentSubmitted, TopicNames } from '@rag/contracts';
import type { InboundRecord, OutboundRecord, RecordResult, StageHandler } from '@rag/stage-runtime';
import type { ChunkerConfig } from './chunker.config';
import { chunkDocument } from './chunk-document';
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
    const chunks = chunkDocument(doc, this.splitter, this.config.CHUNK_MAX_PER_DOCUMENT);
    const outputs: OutboundRecord[] = chunks.map((value) => ({ topic: this.topics.chunks, key: doc.documentId, contract: 'Chunk', value }));
    const event: DocumentEvent = {
      documentId: doc.documentId,
      version: doc.version,
      type: 'CHUNKED',
      at: Date.now(),
      stage: 'chunker',
      chunkCount: chunks.length,
      chunkIndices: [],
      reason: null,
      submittedAt: doc.submittedAt,
    };
    return [...outputs, { topic: this.topics.events, key: doc.documentId, contract: 'DocumentEvent', value: event }];
  }
}
