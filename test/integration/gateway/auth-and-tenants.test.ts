import { readFileSync } from 'node:fs';
import { createApiKey, type Scope } from '@rag/common';
import { distinctivePhrase, seededRandom, textDocument, waitFor } from '@rag/testkit';
import { Pipeline } from '../../support/pipeline';

/**
 * The gateway with API keys on (GATEWAY_AUTH=api-key): 401 without or with an unknown key, 403
 * without the route's scope, and tenants that never see or touch each other's documents, route
 * by route (status, list, SSE, chunks, search, delete, re-submit of the same id, dead letters).
 * Then the per-key limits (rate, open streams, stream heartbeats and duration), the security
 * headers, and no key in any gateway log line.
 */
describe('gateway API keys and tenants', () => {
  const random = seededRandom(15);
  const make = (id: string, tenant: string, scopes: Scope[]) => createApiKey(id, tenant, scopes);
  const keys = {
    acme: make('acme-app', 'acme', ['ingest', 'search']),
    acmeAdmin: make('acme-admin', 'acme', ['ingest', 'search', 'admin']),
    globex: make('globex-app', 'globex', ['ingest', 'search']),
    globexAdmin: make('globex-admin', 'globex', ['ingest', 'search', 'admin']),
    searchOnly: make('acme-reader', 'acme', ['search']),
    operator: make('operator', '*', ['ingest', 'search', 'admin']),
  };
  const pipeline = new Pipeline({
    partitions: 2,
    serviceEnv: {
      gateway: { GATEWAY_AUTH: 'api-key', API_KEYS: JSON.stringify(Object.values(keys).map((k) => k.entry)) },
    },
  });
  let gateway: string;

  beforeAll(async () => {
    await pipeline.start();
    gateway = pipeline.gatewayUrl;
  });

  afterAll(async () => {
    await pipeline.stop();
  });

  const call = async (key: { key: string } | null, method: string, path: string, body?: unknown, base = gateway) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(key && { authorization: `Bearer ${key.key}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as Record<string, unknown> | null };
  };
  const submit = async (key: { key: string }, body: Record<string, unknown>) => {
    const res = await call(key, 'POST', '/v1/documents', body);
    expect(res.status).toBe(202);
    return res.body as { documentId: string };
  };
  const statusOf = async (key: { key: string }, id: string) => (await call(key, 'GET', `/v1/documents/${id}`)).body?.status;
  const waitStatus = (key: { key: string }, id: string, wanted: string) =>
    waitFor(`${id} ${wanted}`, async () => (await statusOf(key, id)) === wanted, 90_000, 50);

  it('401 without a key or with an unknown one, with WWW-Authenticate; health and docs stay open', async () => {
    const none = await call(null, 'GET', '/v1/documents');
    expect(none).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const forged = { key: `rsk_acme-app_${'A'.repeat(43)}` };
    expect(await call(forged, 'POST', '/v1/search', { query: 'x' })).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    expect((await fetch(`${gateway}/readyz`)).status).toBe(200);
    expect((await fetch(`${gateway}/openapi.json`)).status).toBe(200);
  });

  it('403 when the key lacks the scope: search-only cannot submit, ingest cannot delete or read dead letters', async () => {
    expect(await call(keys.searchOnly, 'POST', '/v1/documents', { text: 'x' })).toMatchObject({
      status: 403,
      body: { error: 'forbidden' },
    });
    expect(await call(keys.acme, 'DELETE', '/v1/documents/anything')).toMatchObject({ status: 403 });
    expect(await call(keys.acme, 'GET', '/v1/admin/dead-letters')).toMatchObject({ status: 403 });
    expect((await call(keys.searchOnly, 'POST', '/v1/search', { query: 'x' })).status).toBe(200);
  });

  it('tenants never see or touch each other’s documents, on every route', async () => {
    const phrase = distinctivePhrase(random);
    const documentId = `shared-name-${pipeline.id}`;
    await submit(keys.acme, { documentId, version: 1, text: textDocument(random, 3_000, phrase) });
    await waitStatus(keys.acme, documentId, 'indexed');

    // status, chunks, SSE: another tenant's document does not exist
    expect(await call(keys.globex, 'GET', `/v1/documents/${documentId}`)).toMatchObject({ status: 404, body: { error: 'not_found' } });
    expect((await call(keys.globex, 'GET', `/v1/documents/${documentId}/chunks`)).status).toBe(404);
    expect((await call(keys.globex, 'GET', `/v1/documents/${documentId}/events`)).status).toBe(404);
    expect((await call(keys.acme, 'GET', `/v1/documents/${documentId}`)).body).toMatchObject({ status: 'indexed', tenant: 'acme' });
    // list
    const globexList = (await call(keys.globex, 'GET', '/v1/documents')).body as { documents: { documentId: string }[] };
    expect(globexList.documents.map((d) => d.documentId)).not.toContain(documentId);
    const acmeList = (await call(keys.acme, 'GET', '/v1/documents')).body as { documents: { documentId: string }[] };
    expect(acmeList.documents.map((d) => d.documentId)).toContain(documentId);
    // search
    const globexHits = (await call(keys.globex, 'POST', '/v1/search', { query: phrase, hybrid: true })).body as {
      hits: { documentId: string }[];
    };
    expect(globexHits.hits.map((h) => h.documentId)).not.toContain(documentId);
    const acmeHits = (await call(keys.acme, 'POST', '/v1/search', { query: phrase, k: 1, hybrid: true })).body as {
      hits: { documentId: string }[];
    };
    expect(acmeHits.hits[0]?.documentId).toBe(documentId);
    // write: the same id from another tenant, and a delete, are refused
    expect(await call(keys.globex, 'POST', '/v1/documents', { documentId, version: 2, text: 'take over' })).toMatchObject({
      status: 409,
      body: { error: 'document_id_taken' },
    });
    expect((await call(keys.globexAdmin, 'DELETE', `/v1/documents/${documentId}`)).status).toBe(404);
    expect(await call(keys.acme, 'GET', `/v1/documents/${documentId}`)).toMatchObject({
      status: 200,
      body: { status: 'indexed', version: 1 },
    });
    // the operator key sees every tenant
    expect((await call(keys.operator, 'GET', `/v1/documents/${documentId}`)).status).toBe(200);
    // the owner's admin key deletes it
    expect((await call(keys.acmeAdmin, 'DELETE', `/v1/documents/${documentId}`)).status).toBe(202);
    await waitStatus(keys.acme, documentId, 'deleted');
  });

  it('dead letters are per tenant: views, replay; purging needs an operator key', async () => {
    // An empty text is refused by the gateway, so a producer writes the bad record straight to Kafka for acme.
    const bad = `bad-${pipeline.id}`;
    await pipeline.produceDocument({
      documentId: bad,
      version: 1,
      title: null,
      contentType: 'text/plain',
      content: Buffer.from('   '),
      source: 'kafka',
      tenant: 'acme',
      metadata: {},
      submittedAt: Date.now(),
    });
    await waitStatus(keys.acme, bad, 'failed');
    type Summary = { stage: string; records: number }[];
    const chunkerOf = (answer: { body: unknown }) => (answer.body as Summary).find((s) => s.stage === 'chunker')!.records;
    await waitFor('acme dead letter visible', async () => chunkerOf(await call(keys.acmeAdmin, 'GET', '/v1/admin/dead-letters')) === 1);
    expect(chunkerOf(await call(keys.globexAdmin, 'GET', '/v1/admin/dead-letters'))).toBe(0);
    expect((await call(keys.globexAdmin, 'GET', '/v1/admin/dead-letters/chunker/records')).body).toEqual([]);
    const globexReplay = (await call(keys.globexAdmin, 'POST', '/v1/admin/dead-letters/chunker/replay', { dryRun: true })).body as {
      records: unknown[];
    };
    expect(globexReplay.records).toEqual([]);
    const acmeReplay = (await call(keys.acmeAdmin, 'POST', '/v1/admin/dead-letters/chunker/replay', { dryRun: true })).body as {
      records: { key: string }[];
    };
    expect(acmeReplay.records.map((r) => r.key)).toEqual([bad]);
    expect(await call(keys.acmeAdmin, 'DELETE', '/v1/admin/dead-letters/chunker?confirm=chunker')).toMatchObject({ status: 403 });
  });

  it('rate limit per key: 429 with Retry-After once the bucket is empty; other keys unaffected', async () => {
    const limited = await pipeline.startService('gateway', 1, { RATE_LIMIT_PER_KEY: '1', RATE_LIMIT_BURST: '3' });
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await call(keys.acme, 'GET', '/v1/documents?limit=1', undefined, limited.url));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429, 429]);
    expect(answers[3].body).toMatchObject({ error: 'rate_limited' });
    expect(Number(answers[3].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await call(keys.globex, 'GET', '/v1/documents?limit=1', undefined, limited.url)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await call(keys.acme, 'GET', '/v1/documents?limit=1', undefined, limited.url)).status).toBe(200);
    await limited.stop();
  });

  it('status streams: one open per key here, heartbeats while idle, closed after SSE_MAX_DURATION_MS', async () => {
    const streams = await pipeline.startService('gateway', 2, {
      SSE_MAX_STREAMS_PER_KEY: '1',
      SSE_HEARTBEAT_MS: '1000',
      SSE_MAX_DURATION_MS: '3000',
    });
    // The chunker is frozen, so the document stays `accepted` and its stream stays open.
    pipeline.service('chunker').freeze();
    try {
      const { documentId } = await submit(keys.acme, { text: textDocument(random, 1_000, 'stream') });
      const started = Date.now();
      const first = await fetch(`${streams.url}/v1/documents/${documentId}/events`, {
        headers: { authorization: `Bearer ${keys.acme.key}` },
      });
      expect(first.status).toBe(200);
      const second = await call(keys.acme, 'GET', `/v1/documents/${documentId}/events`, undefined, streams.url);
      expect(second).toMatchObject({ status: 429, body: { error: 'too_many_streams' } });
      // Another key has its own allowance.
      const other = await fetch(`${streams.url}/v1/documents/${documentId}/events`, {
        headers: { authorization: `Bearer ${keys.acmeAdmin.key}` },
      });
      expect(other.status).toBe(200);
      const [text] = await Promise.all([first.text(), other.text()]);
      const elapsed = Date.now() - started;
      expect(text).toMatch(/event: status/);
      expect((text.match(/event: heartbeat/g) ?? []).length).toBeGreaterThanOrEqual(2);
      expect(elapsed).toBeGreaterThanOrEqual(2_900);
      expect(elapsed).toBeLessThan(10_000);
      // The ended stream gave its slot back.
      const again = await fetch(`${streams.url}/v1/documents/${documentId}/events`, {
        headers: { authorization: `Bearer ${keys.acme.key}` },
      });
      expect(again.status).toBe(200);
      await again.body?.cancel();
    } finally {
      pipeline.service('chunker').resume();
      await streams.stop();
    }
  });

  it('security headers on, no X-Powered-By, small search bodies only', async () => {
    const res = await fetch(`${gateway}/v1/documents`, { headers: { authorization: `Bearer ${keys.acme.key}` } });
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    const big = await call(keys.acme, 'POST', '/v1/search', { query: 'x'.repeat(100_000) });
    expect(big).toMatchObject({ status: 413, body: { error: 'too_large' } });
  });

  it('no API key appears in any gateway log line', () => {
    const logs = [0, 1, 2].map((i) => readFileSync(pipeline.service('gateway', i).logFile, 'utf8')).join('\n');
    expect(logs).toMatch(/"authorization":"\[redacted\]"/);
    for (const { key } of Object.values(keys)) expect(logs.includes(key)).toBe(false);
  });
});
