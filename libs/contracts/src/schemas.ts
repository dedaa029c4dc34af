import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Schema } from 'avsc';
import { DATA_TOPICS, type DataTopic } from './pipeline';
import type { TopicNames } from './topics';

/** The Avro schemas of ./schemas, read once. The .avsc files are the source of truth. */
export type ContractName = 'DocumentSubmitted' | 'Chunk' | 'EmbeddedChunk' | 'DocumentEvent';

const FILES: Record<ContractName, string> = {
  DocumentSubmitted: 'document-submitted.avsc',
  Chunk: 'chunk.avsc',
  EmbeddedChunk: 'embedded-chunk.avsc',
  DocumentEvent: 'document-event.avsc',
};

const cache = new Map<ContractName, Schema>();

export function loadSchema(name: ContractName): Schema {
  let schema = cache.get(name);
  if (!schema) {
    schema = JSON.parse(readFileSync(join(__dirname, 'schemas', FILES[name]), 'utf8')) as Schema;
    cache.set(name, schema);
  }
  return schema;
}

/** Which contract each data topic carries; retry and DLQ topics carry their stage input's bytes unchanged. */
export function contractOfTopic(topics: TopicNames): Record<string, ContractName> {
  return Object.fromEntries(Object.entries(DATA_TOPICS).map(([topic, { contract }]) => [topics[topic as DataTopic], contract]));
}
