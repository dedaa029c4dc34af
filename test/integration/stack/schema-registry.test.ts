/**
 * The local stack's schema registry (Apicurio Registry, Confluent-compatible API at
 * /apis/ccompat/v7) works with @kafkajs/confluent-schema-registry the way the services use
 * it: Confluent wire format, BACKWARD compatibility enforced, evolution readable, and
 * schema ids that survive a registry restart (persistent storage).
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';

const REGISTRY_URL = (process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7').replace(/\/+$/, '');
const REPO_ROOT = path.resolve(__dirname, '../../..');

// Project-level testTimeout is not honoured by jest 29 (it warns "Unknown option"), so set it here.
jest.setTimeout(300000);

const v1 = {
  type: 'record',
  name: 'StackTestDocument',
  namespace: 'rag.stacktest',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'title', type: 'string' },
  ],
};
// Not BACKWARD compatible: a reader with this schema cannot read v1 data (no value for pages).
const v2Incompatible = {
  ...v1,
  fields: [...v1.fields, { name: 'pages', type: 'int' }],
};
// BACKWARD compatible: the new field has a default, so v1 data stays readable.
const v2Compatible = {
  ...v1,
  fields: [...v1.fields, { name: 'lang', type: 'string', default: 'en' }],
};

/** The registry's JSON answers, as read by these tests. */
interface RegistryJson {
  compatibilityLevel?: string;
  is_compatible?: boolean;
  schema: string;
  [key: string]: unknown;
}

async function http(method: string, url: string, body?: unknown): Promise<{ status: number; json: RegistryJson }> {
  const res = await fetch(url, {
    method,
    headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

function avro(schema: object) {
  return { type: SchemaType.AVRO, schema: JSON.stringify(schema) } as const;
}

describe('local stack: schema registry (Confluent API)', () => {
  const subject = `stack-test-${randomUUID()}-value`;
  const registry = new SchemaRegistry({ host: REGISTRY_URL });
  const record = { id: 'doc-1', title: 'Streaming ingestion' };
  let v1Id = 0;
  let v2Id = 0;
  let v1Bytes: Buffer;

  afterAll(async () => {
    // Soft delete only. Apicurio 3.0.x hands out max(existing id)+1 after a restart, so
    // hard-deleting (permanent=true) the newest schemas lets their ids be reused for other
    // schemas, and old records carrying those ids would then decode wrongly.
    await http('DELETE', `${REGISTRY_URL}/subjects/${subject}`).catch(() => undefined);
  });

  it('registers an Avro schema and encodes/decodes in the Confluent wire format', async () => {
    const { id } = await registry.register(avro(v1), { subject });
    expect(id).toBeGreaterThan(0);
    v1Id = id;

    v1Bytes = await registry.encode(id, record);
    expect(v1Bytes[0]).toBe(0); // magic byte
    expect(v1Bytes.readInt32BE(1)).toBe(id); // 4-byte big-endian schema id
    expect(await registry.decode(v1Bytes)).toEqual(record);

    // Registering the same schema again is idempotent: same id, no new version.
    expect((await registry.register(avro(v1), { subject })).id).toBe(id);
    expect((await http('GET', `${REGISTRY_URL}/subjects/${subject}/versions`)).json).toEqual([1]);
  });

  it('stores BACKWARD compatibility for the subject', async () => {
    const put = await http('PUT', `${REGISTRY_URL}/config/${subject}`, { compatibility: 'BACKWARD' });
    expect(put.status).toBe(200);
    const get = await http('GET', `${REGISTRY_URL}/config/${subject}`);
    expect(get.json.compatibilityLevel).toBe('BACKWARD');
  });

  it('rejects a BACKWARD-incompatible change (new field without default) with 409', async () => {
    const check = await http('POST', `${REGISTRY_URL}/compatibility/subjects/${subject}/versions/latest`, {
      schema: JSON.stringify(v2Incompatible),
    });
    expect(check.status).toBe(200);
    expect(check.json.is_compatible).toBe(false);

    await expect(registry.register(avro(v2Incompatible), { subject })).rejects.toMatchObject({ status: 409 });
    expect((await http('GET', `${REGISTRY_URL}/subjects/${subject}/versions`)).json).toEqual([1]);
  });

  it('accepts a compatible change (new field with default); old records decode with the new reader', async () => {
    const { id } = await registry.register(avro(v2Compatible), { subject });
    expect(id).not.toBe(v1Id);
    v2Id = id;
    expect(await registry.getLatestSchemaId(subject)).toBe(v2Id);

    // The writer schema comes from the record's id (v1), the reader is v2: resolution fills the default.
    const readerSchema = await registry.getSchema(v2Id);
    const decoded = await registry.decode(v1Bytes, { [SchemaType.AVRO]: { readerSchema } });
    expect(decoded).toEqual({ ...record, lang: 'en' });

    const v2Bytes = await registry.encode(v2Id, { ...record, lang: 'de' });
    expect(v2Bytes.readInt32BE(1)).toBe(v2Id);
    expect(await registry.decode(v2Bytes)).toEqual({ ...record, lang: 'de' });
  });

  it('keeps schema ids across a registry restart', async () => {
    const before = (await http('GET', `${REGISTRY_URL}/schemas/ids/${v1Id}`)).json;

    execFileSync('bash', ['scripts/stack/stack.sh', 'restart', 'registry'], {
      cwd: REPO_ROOT,
      stdio: 'pipe',
      timeout: 280000,
      env: process.env,
    });

    // A fresh client: nothing may come from the first client's cache.
    const fresh = new SchemaRegistry({ host: REGISTRY_URL });
    expect(await fresh.getLatestSchemaId(subject)).toBe(v2Id);
    expect(await fresh.getRegistryId(subject, 1)).toBe(v1Id);

    const after = await http('GET', `${REGISTRY_URL}/schemas/ids/${v1Id}`);
    expect(after.status).toBe(200);
    expect(after.json).toEqual(before);
    expect(JSON.parse(after.json.schema).fields.map((f: { name: string }) => f.name)).toEqual(['id', 'title']);

    // Bytes written before the restart still decode through the id they carry.
    expect(await fresh.decode(v1Bytes)).toEqual(record);

    // Compatibility settings survived too.
    expect((await http('GET', `${REGISTRY_URL}/config/${subject}`)).json.compatibilityLevel).toBe('BACKWARD');
    await expect(fresh.register(avro(v2Incompatible), { subject })).rejects.toMatchObject({ status: 409 });
  });
});
