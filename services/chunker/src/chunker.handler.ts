import { Inject, Injectable } from '@nestjs/common';
import { PermanentError, SERVICE_CONFIG, TOPICS } from '@rag/common';
import { documentFacts, Headers, lifecycleEvent, type DocumentSubmitted, type TopicNames } from '@rag/contracts';
import type { InboundRecord, OutboundRecord, RecordResult, StageHandler, TombstoneRecord } from '@rag/stage-runtime';
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
    const event = lifecycleEvent('CHUNKED', { ...documentFacts(doc), stage: 'chunker', chunkCount: chunks.length });
    return [...outputs, { topic: this.topics.events, key: doc.documentId, contract: 'DocumentEvent', value: event }];
  }

  /**
   * A tombstone on the documents topic deletes the document: it becomes a DELETED event, in log
   * order after the events of the versions submitted before it; the indexer's registry projector
   * then removes the chunks.
   */
  handleTombstone(record: TombstoneRecord): OutboundRecord[] {
    if (!record.key) throw new PermanentError('tombstone without a key: the key must be the documentId to delete');
    const header = Number(record.headers[Headers.documentVersion] ?? 0);
    const version = Number.isSafeInteger(header) && header > 0 ? header : 0;
    const event = lifecycleEvent('DELETED', { documentId: record.key, version, stage: 'chunker' });
    return [{ topic: this.topics.events, key: record.key, contract: 'DocumentEvent', value: event }];
  }
}
