import avro, { type Schema, type Type } from 'avsc';
import { chunkId } from './ids';
import { CONSUMER_STAGES, DATA_TOPICS, STAGES, type DataTopic } from './pipeline';
import { contractOfTopic, loadSchema, type ContractName } from './schemas';
import { topicNames } from './topics';
import type { ContractTypes } from './serde';
import type { Chunk, DocumentEvent, DocumentSubmitted, EmbeddedChunk } from './types';

/**
 * One fully populated value of each TS contract type. Object literals typed by the interface,
 * so tsc rejects a missing or misspelt field and the keys below are exactly the TS fields.
 */
const documentSubmitted: DocumentSubmitted = {
  documentId: 'handbook/ch-1',
  version: 1_767_614_400_000,
  title: 'Handbook',
  contentType: 'text/markdown',
  content: Buffer.from('# Handbook\n\nHello.', 'utf8'),
  source: 'http',
  metadata: { team: 'search', lang: 'en' },
  tenant: 'acme',
  chunkSize: 256,
  chunkOverlap: 32,
  submittedAt: 1_767_614_400_123,
};

const chunk: Chunk = {
  chunkId: chunkId('handbook/ch-1', 1_767_614_400_000, 0),
  documentId: 'handbook/ch-1',
  version: 1_767_614_400_000,
  chunkIndex: 0,
  chunkCount: 2,
  text: 'Hello.',
  tokenCount: 2,
  title: 'Handbook',
  heading: 'Handbook',
  headings: ['Handbook > Install'],
  pageStart: 3,
  pageEnd: 4,
  slideStart: null,
  slideEnd: null,
  sheet: null,
  tenant: 'acme',
  metadata: { team: 'search' },
  submittedAt: 1_767_614_400_123,
};

const embeddedChunk: EmbeddedChunk = { ...chunk, embedding: [0.25, -0.5, 0.125], model: 'hashing-v1' };

const documentEvent: DocumentEvent = {
  documentId: 'handbook/ch-1',
  version: 1_767_614_400_000,
  type: 'INDEXED',
  at: 1_767_614_401_000,
  stage: 'indexer',
  chunkCount: 2,
  chunkIndices: [0, 1],
  reason: null,
  submittedAt: 1_767_614_400_123,
  title: 'Handbook',
  source: 'http',
  contentType: 'text/markdown',
  contentHash: 'ab'.repeat(32),
  tenant: 'acme',
  metadata: { team: 'search' },
};

const samples: { [N in ContractName]: ContractTypes[N] } = {
  DocumentSubmitted: documentSubmitted,
  Chunk: chunk,
  EmbeddedChunk: embeddedChunk,
  DocumentEvent: documentEvent,
};

interface RecordSchema {
  type: 'record';
  name: string;
  fields: Array<{ name: string; type: unknown; default?: unknown }>;
}

const recordSchema = (name: ContractName) => loadSchema(name) as unknown as RecordSchema;
const typeOf = (name: ContractName): Type => avro.Type.forSchema(loadSchema(name));
const names = Object.keys(samples) as ContractName[];

/** Fields without a default: a value must carry them (avsc fills in defaults for the others). */
const requiredFields = (name: ContractName) =>
  recordSchema(name)
    .fields.filter((f) => !('default' in f))
    .map((f) => f.name);

describe('Avro contracts match the TypeScript types', () => {
  it.each(names)('%s: the TS fields and the .avsc fields are the same set', (name) => {
    const tsFields = Object.keys(samples[name]).sort();
    const avroFields = recordSchema(name)
      .fields.map((f) => f.name)
      .sort();
    expect(tsFields).toEqual(avroFields);
  });

  it.each(names)('%s: a fully populated TS value is valid for the schema, and round-trips', (name) => {
    const type = typeOf(name);
    const bad: string[] = [];
    expect(type.isValid(samples[name], { errorHook: (path) => bad.push(path.join('.')) })).toBe(true);
    expect(bad).toEqual([]);
    expect(type.fromBuffer(type.toBuffer(samples[name]))).toEqual(samples[name]);
  });

  it.each(names)('%s: a value missing any field without default is invalid', (name) => {
    const type = typeOf(name);
    const required = requiredFields(name);
    expect(required.length).toBeGreaterThan(0);
    for (const field of required) {
      const { [field]: _dropped, ...rest } = samples[name] as unknown as Record<string, unknown>;
      expect({ field, valid: type.isValid(rest) }).toEqual({ field, valid: false });
    }
  });

  it('nullable TS fields are nullable in Avro (null is a valid value)', () => {
    const nulls: Array<[ContractName, Record<string, unknown>]> = [
      ['DocumentSubmitted', { ...documentSubmitted, title: null, source: null }],
      ['Chunk', { ...chunk, title: null, heading: null }],
      ['EmbeddedChunk', { ...embeddedChunk, title: null, heading: null }],
      [
        'DocumentEvent',
        { ...documentEvent, stage: null, chunkCount: null, reason: null, submittedAt: null, title: null, source: null, contentHash: null },
      ],
    ];
    for (const [name, value] of nulls) expect({ name, valid: typeOf(name).isValid(value) }).toEqual({ name, valid: true });
  });

  it('rejects values of the wrong type', () => {
    expect(typeOf('DocumentEvent').isValid({ ...documentEvent, type: 'PURGED' })).toBe(false);
    expect(typeOf('Chunk').isValid({ ...chunk, chunkIndex: 1.5 })).toBe(false);
    expect(typeOf('DocumentSubmitted').isValid({ ...documentSubmitted, content: 'not bytes' })).toBe(false);
    expect(typeOf('DocumentSubmitted').isValid({ ...documentSubmitted, metadata: { n: 1 } })).toBe(false);
  });

  it('EmbeddedChunk is a Chunk plus embedding and model, field for field', () => {
    const chunkFields = recordSchema('Chunk').fields.map((f) => f.name);
    const embeddedFields = recordSchema('EmbeddedChunk').fields.map((f) => f.name);
    expect(embeddedFields).toEqual([...chunkFields, 'embedding', 'model']);
  });
});

describe('BACKWARD schema evolution', () => {
  it('DocumentEvent (DELETED, SUPERSEDED, document facts) reads events written with its first schema', () => {
    const current = recordSchema('DocumentEvent');
    const added = ['title', 'source', 'contentType', 'contentHash', 'tenant', 'metadata'];
    const first = {
      ...current,
      fields: current.fields
        .filter((f) => !added.includes(f.name))
        .map((f) =>
          f.name === 'type'
            ? { ...f, type: { type: 'enum', name: 'DocumentEventType', symbols: ['ACCEPTED', 'CHUNKED', 'INDEXED', 'FAILED'] } }
            : f,
        ),
    };
    const writer = avro.Type.forSchema(first as unknown as Schema);
    const reader = typeOf('DocumentEvent');
    const { title: _t, source: _s, contentType: _c, contentHash: _h, tenant: _n, metadata: _m, ...old } = documentEvent;
    const read = reader.fromBuffer(writer.toBuffer(old), reader.createResolver(writer));
    expect(read).toEqual({ ...old, title: null, source: null, contentType: null, contentHash: null, tenant: null, metadata: {} });
  });

  const v1Schema = loadSchema('DocumentSubmitted') as unknown as RecordSchema;
  const v1 = avro.Type.forSchema(v1Schema as unknown as Schema);
  const withField = (field: Record<string, unknown>) =>
    avro.Type.forSchema({ ...v1Schema, fields: [...v1Schema.fields, field] } as unknown as Schema);

  it('a v2 reader that adds an optional field with a default reads v1 records', () => {
    const v2 = withField({ name: 'language', type: ['null', 'string'], default: null });
    const v2WithDefault = withField({ name: 'priority', type: 'int', default: 5 });
    const bytes = v1.toBuffer(documentSubmitted);

    const read = v2.fromBuffer(bytes, v2.createResolver(v1)) as Record<string, unknown>;
    expect(read).toEqual({ ...documentSubmitted, language: null });

    const withPriority = v2WithDefault.fromBuffer(bytes, v2WithDefault.createResolver(v1)) as Record<string, unknown>;
    expect(withPriority.priority).toBe(5);
    expect(withPriority.documentId).toBe(documentSubmitted.documentId);
  });

  it('a v2 reader that adds a required field without default cannot read v1 records', () => {
    const v2 = withField({ name: 'priorityClass', type: 'string' });
    expect(() => v2.createResolver(v1)).toThrow(/priorityClass/);
  });

  it('the current schemas give every nullable field a null default, so the next version can rely on them', () => {
    for (const name of names) {
      for (const field of recordSchema(name).fields) {
        if (Array.isArray(field.type) && field.type[0] === 'null')
          expect({ name, field: field.name, default: field.default }).toEqual({ name, field: field.name, default: null });
      }
    }
  });
});

describe('chunkId', () => {
  it('is deterministic', () => {
    expect(chunkId('doc-1', 7, 3)).toBe(chunkId('doc-1', 7, 3));
  });

  it('differs across document, version and chunk index', () => {
    const ids = new Set<string>();
    for (const doc of ['doc-1', 'doc-2', 'doc-10']) {
      for (const version of [1, 2, 1_767_614_400_000]) for (let index = 0; index < 50; index++) ids.add(chunkId(doc, version, index));
    }
    expect(ids.size).toBe(3 * 3 * 50);
  });

  it('does not collide on ambiguous concatenations', () => {
    expect(chunkId('doc-1', 11, 1)).not.toBe(chunkId('doc-1', 1, 11));
    expect(chunkId('doc-11', 1, 1)).not.toBe(chunkId('doc-1', 11, 1));
  });

  it('fits the Elasticsearch _id limit (512 bytes) and is URL-safe, even for a long id', () => {
    for (const documentId of ['d', 'x'.repeat(256), 'ü'.repeat(256)]) {
      const id = chunkId(documentId, Number.MAX_SAFE_INTEGER, 9_999);
      expect(Buffer.byteLength(id, 'utf8')).toBeLessThanOrEqual(512);
      expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    }
  });
});

describe('pipeline descriptor', () => {
  const topics = topicNames('p', [1_000, 60_000]);

  it('derives every data topic name, and each stage reads what an earlier stage (or a producer) writes', () => {
    expect(Object.keys(DATA_TOPICS).map((t) => topics[t as DataTopic])).toEqual(['p.documents', 'p.chunks', 'p.embeddings', 'p.events']);
    const written = new Set<string>(['documents']);
    for (const stage of CONSUMER_STAGES) {
      expect({ stage, readsSomethingWritten: written.has(STAGES[stage].reads) }).toEqual({ stage, readsSomethingWritten: true });
      for (const t of STAGES[stage].writes) written.add(t);
    }
    expect(topics.input('embedder')).toBe('p.chunks');
    expect(topics.outputs('chunker')).toEqual(['p.chunks', 'p.events']);
  });

  it('provisions every data topic, and per stage its retry tiers and DLQ', () => {
    expect(topics.all()).toEqual([
      'p.documents',
      'p.chunks',
      'p.embeddings',
      'p.events',
      ...CONSUMER_STAGES.flatMap((s) => [`p.${s}.retry.1s`, `p.${s}.retry.1m`, `p.${s}.dlq`]),
    ]);
  });

  it('maps each data topic to the contract registered for it', () => {
    expect(contractOfTopic(topics)).toEqual({
      'p.documents': 'DocumentSubmitted',
      'p.chunks': 'Chunk',
      'p.embeddings': 'EmbeddedChunk',
      'p.events': 'DocumentEvent',
    });
  });
});
