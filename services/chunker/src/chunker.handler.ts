import { Inject, Injectable } from '@nestjs/common';
import { PermanentError, TOPICS } from '@rag/common';
import { documentFacts, Headers, lifecycleEvent, type DocumentSubmitted, type TopicNames } from '@rag/contracts';
import type { InboundRecord, OutboundRecord, RecordResult, StageHandler, TombstoneRecord } from '@rag/stage-runtime';
import { chunksOf } from './chunk-document';
import { DocumentSplitter } from './document-splitter';

/** Documents in, chunks out: extract text, split by tokens, give each chunk its deterministic id. */
@Injectable()
export class ChunkerHandler implements StageHandler<'DocumentSubmitted'> {
  readonly input = 'DocumentSubmitted' as const;
  constructor(
    @Inject(TOPICS) private readonly topics: TopicNames,
    private readonly splitter: DocumentSplitter,
  ) {}

  async handle(records: InboundRecord<DocumentSubmitted>[]): Promise<RecordResult[]> {
    // The documents of a slice are split in parallel, as many at a time as there are parse workers.
    return Promise.all(
      records.map(async (record) => {
        try {
          return { outputs: await this.chunk(record.value) };
        } catch (error) {
          return { error };
        }
      }),
    );
  }

  async chunk(doc: DocumentSubmitted): Promise<OutboundRecord[]> {
    if (!doc.documentId) throw new PermanentError('documentId is empty');
    const chunks = chunksOf(doc, await this.splitter.split(doc));
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
