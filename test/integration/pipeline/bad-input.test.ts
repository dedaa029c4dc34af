import { Pipeline } from '../../support/pipeline';

/** Bad uploads get the right 4xx with a message that says what is wrong, and produce nothing. */
describe('gateway input validation', () => {
  const pipeline = new Pipeline({ serviceEnv: { gateway: { MAX_DOCUMENT_BYTES: String(64 * 1024) } } });

  beforeAll(async () => {
    await pipeline.start(['gateway']);
  });

  afterAll(async () => {
    await pipeline.stop();
  });

  async function producedCount(): Promise<number> {
    const admin = pipeline.kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(pipeline.topics.documents);
    await admin.disconnect();
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  }

  function upload(bytes: Uint8Array | string, type: string, name: string): Promise<Response> {
    const form = new FormData();
    form.append('file', new Blob([bytes], { type }), name);
    return fetch(`${pipeline.gatewayUrl}/v1/documents`, { method: 'POST', body: form });
  }

  function postJson(body: string): Promise<Response> {
    return fetch(`${pipeline.gatewayUrl}/v1/documents`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
  }

  const cases: [string, () => Promise<Response>, number, RegExp][] = [
    ['empty upload', () => upload('', 'text/plain', 'empty.txt'), 400, /no text/],
    ['whitespace-only upload', () => upload('  \n\t ', 'text/plain', 'blank.txt'), 400, /no text/],
    ['oversized upload', () => upload('a'.repeat(65 * 1024), 'text/plain', 'big.txt'), 413, /too large|limit/i],
    ['oversized JSON text', () => postJson(JSON.stringify({ text: 'a'.repeat(65 * 1024) })), 413, /limit/],
    ['wrong file type', () => upload(new Uint8Array([0x89, 0x50, 0x4e, 0x47]), 'image/png', 'x.png'), 415, /not supported/],
    ['unknown extension without type', () => upload('hello', 'application/octet-stream', 'x.exe'), 415, /not supported/],
    ['invalid UTF-8', () => upload(new Uint8Array([0x68, 0x69, 0xff, 0xfe, 0x80]), 'text/plain', 'bad.txt'), 400, /UTF-8/],
    ['malformed JSON body', () => postJson('{"text": "unterminated'), 400, /JSON|Unexpected|Unterminated/i],
    ['JSON without text', () => postJson(JSON.stringify({ title: 'no text' })), 400, /text/],
    ['JSON with empty text', () => postJson(JSON.stringify({ text: '   ' })), 400, /no text/],
    ['JSON with unknown field', () => postJson(JSON.stringify({ text: 'ok', colour: 'red' })), 400, /colour|Unrecognized/],
    ['invalid documentId', () => postJson(JSON.stringify({ text: 'ok', documentId: 'has space' })), 400, /documentId/],
    ['uploaded .json that is not JSON', () => upload('{nope', 'application/json', 'x.json'), 400, /not valid JSON/],
    [
      'wrong request content type',
      () => fetch(`${pipeline.gatewayUrl}/v1/documents`, { method: 'POST', headers: { 'Content-Type': 'text/csv' }, body: 'a,b' }),
      415,
      /multipart|json/,
    ],
    // Above the JSON body limit (MAX_DOCUMENT_BYTES + 64 KiB): refused by the body parser itself.
    ['JSON body above the body limit', () => postJson(JSON.stringify({ text: 'a'.repeat(200 * 1024) })), 413, /limit is \d+ bytes/],
    ['unknown route', () => fetch(`${pipeline.gatewayUrl}/v1/nothing-here`), 404, /Cannot GET/],
    [
      'multipart without file',
      () =>
        fetch(`${pipeline.gatewayUrl}/v1/documents`, {
          method: 'POST',
          body: (() => {
            const f = new FormData();
            f.append('title', 'x');
            return f;
          })(),
        }),
      400,
      /file/,
    ],
  ];

  it.each(cases)('%s → HTTP %#', async (_name, send, status, message) => {
    const before = await producedCount();
    const res = await send();
    const body = (await res.json()) as { error?: string; message?: string };
    expect({ status: res.status, message: String(body.message) }).toEqual({ status, message: expect.stringMatching(message) });
    // One error body for every error, body-parser's and multer's included.
    expect(Object.keys(body).sort()).toEqual(['error', 'message']);
    expect(body.error).toMatch(/^[a-z_]+$/);
    expect(await producedCount()).toBe(before);
  });

  // Errors raised outside our handlers (body parser, multer, router, zod via Nest) keep the same body with a stable code.
  const framework: [string, () => Promise<Response>, number, string][] = [
    ['body parser: JSON above the body limit', () => postJson(JSON.stringify({ text: 'a'.repeat(200 * 1024) })), 413, 'too_large'],
    ['body parser: invalid JSON', () => postJson('{"text": '), 400, 'invalid_json'],
    [
      'body parser: unsupported charset',
      () =>
        fetch(`${pipeline.gatewayUrl}/v1/documents`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json; charset=klingon' },
          body: '{"text":"x"}',
        }),
      415,
      'unsupported_media_type',
    ],
    [
      'wrong request content type',
      () => fetch(`${pipeline.gatewayUrl}/v1/documents`, { method: 'POST', headers: { 'Content-Type': 'text/csv' }, body: 'a,b' }),
      415,
      'unsupported_media_type',
    ],
    ['multer: file above MAX_DOCUMENT_BYTES', () => upload('a'.repeat(65 * 1024), 'text/plain', 'big.txt'), 413, 'too_large'],
    [
      'multer: file under another field name',
      () => {
        const form = new FormData();
        form.append('document', new Blob(['hello'], { type: 'text/plain' }), 'x.txt');
        return fetch(`${pipeline.gatewayUrl}/v1/documents`, { method: 'POST', body: form });
      },
      400,
      'invalid_request',
    ],
    ['router: unknown route', () => fetch(`${pipeline.gatewayUrl}/v1/nothing-here`), 404, 'not_found'],
    ['router: unknown method on a known path', () => fetch(`${pipeline.gatewayUrl}/v1/search`, { method: 'PUT' }), 404, 'not_found'],
  ];

  it.each(framework)('%s: the common body with its code', async (_name, send, status, code) => {
    const res = await send();
    const body = (await res.json()) as Record<string, unknown>;
    expect({ status: res.status, keys: Object.keys(body).sort(), error: body.error }).toEqual({
      status,
      keys: ['error', 'message'],
      error: code,
    });
    expect(String(body.message).length).toBeGreaterThan(0);
  });

  it('accepts a valid document after all that (the gateway is not stuck)', async () => {
    const before = await producedCount();
    const res = await postJson(JSON.stringify({ text: 'a perfectly fine document' }));
    expect(res.status).toBe(202);
    expect(await producedCount()).toBe(before + 1);
  });

  it('rejects bad search requests with 400', async () => {
    const res = await fetch(`${pipeline.gatewayUrl}/v1/search`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ query: '', k: 1000 }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/query|k/);
  });
});
