/**
 * ContractSerde against the local stack's registry: records written with this build's schema are
 * read without a resolver, records written with an older registered schema are resolved into the
 * current shape, and a stage can prime its reader before its first record.
 */
import { randomUUID } from 'node:crypto';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { ContractSerde, lifecycleEvent, loadSchema, valueSubject } from '@rag/contracts';
import avro, { type Schema } from 'avsc';
import { STACK } from '@rag/testkit';

jest.setTimeout(120_000);

interface RecordSchema {
  fields: Array<{ name: string; type: unknown }>;
}

describe('ContractSerde with the schema registry', () => {
  const topic = `serde-${randomUUID()}`;
  const event = lifecycleEvent('INDEXED', {
    documentId: 'handbook/ch-1',
    version: 3,
    at: 1_767_614_400_000,
    stage: 'indexer',
    chunkCount: 2,
    chunkIndices: [0, 1],
    submittedAt: 1_767_614_399_000,
  });

  it('round-trips a record written with this build schema', async () => {
    const serde = ContractSerde.connect(STACK.registryUrl);
    await serde.registerWriter('DocumentEvent', topic);
    const bytes = serde.encode('DocumentEvent', event);
    expect(await serde.decode('DocumentEvent', bytes)).toEqual(event);
  });

  it('reads a record written with an older registered schema into the current shape', async () => {
    // DocumentEvent as first registered: without the document facts added since.
    const current = loadSchema('DocumentEvent') as unknown as RecordSchema;
    const added = ['title', 'source', 'contentType', 'contentHash', 'tenant', 'metadata'];
    const first = { ...current, fields: current.fields.filter((f) => !added.includes(f.name)) };
    const oldTopic = `serde-old-${randomUUID()}`;
    const serde = ContractSerde.connect(STACK.registryUrl);
    const { id } = await serde.registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(first) },
      { subject: valueSubject(oldTopic) },
    );
    const { title: _t, source: _s, contentType: _c, contentHash: _h, tenant: _n, metadata: _m, ...old } = event;
    const body = avro.Type.forSchema(first as unknown as Schema).toBuffer(old);
    const header = Buffer.alloc(5);
    header.writeInt32BE(id, 1);
    const read = await serde.decode('DocumentEvent', Buffer.concat([header, body]));
    expect(read).toEqual({ ...old, title: null, source: null, contentType: null, contentHash: null, tenant: null, metadata: {} });
  });

  it('primes the reader of a topic, and shrugs at a topic nothing was registered for', async () => {
    const writer = ContractSerde.connect(STACK.registryUrl);
    await writer.registerWriter('DocumentEvent', topic);
    const bytes = writer.encode('DocumentEvent', event);

    const reader = ContractSerde.connect(STACK.registryUrl);
    await reader.prepareReader('DocumentEvent', topic);
    await expect(reader.prepareReader('DocumentEvent', `nothing-${randomUUID()}`)).resolves.toBeUndefined();
    // Primed: the first record decodes without asking the registry (its schema lookups now fail).
    reader.registry.getSchema = () => Promise.reject(new Error('registry asked again'));
    expect(await reader.decode('DocumentEvent', bytes)).toEqual(event);
  });
});
