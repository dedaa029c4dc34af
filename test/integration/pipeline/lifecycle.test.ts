import { distinctivePhrase, paragraph, seededRandom, textDocument } from '@rag/testkit';
import { FakeOpenAIServer } from '@rag/testkit';
import { Pipeline } from '../../support/pipeline';
import { waitFor } from '@rag/testkit';

/**
 * The document lifecycle on the real stack, as a user meets it: `indexed` means searchable (no
 * refresh anywhere in this file), a new version replaces the old one's chunks without a gap, an
 * older version never wins, deletes (HTTP and Kafka tombstone) remove every chunk, and unchanged
 * text is not sent to the embedding provider again. Embeddings come from the OpenAI-API test
 * server, so provider requests can be counted.
 */
describe('document lifecycle', () => {
  let fake: FakeOpenAIServer;
  let pipeline: Pipeline;
  const random = seededRandom(10);

  beforeAll(async () => {
    fake = await FakeOpenAIServer.start();
    const openai = { EMBEDDING_PROVIDER: 'openai', OPENAI_API_KEY: 'test', OPENAI_BASE_URL: fake.baseURL, OPENAI_MAX_RETRIES: '0' };
    pipeline = new Pipeline({ partitions: 3, serviceEnv: { embedder: openai, gateway: openai } });
    await pipeline.start();
  });

  afterAll(async () => {
    await pipeline?.stop();
    await fake?.close();
  });

  const submitJson = async (body: object): Promise<{ documentId: string; version: number }> => {
    const res = await fetch(`${pipeline.gatewayUrl}/v1/documents`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(202);
    return (await res.json()) as { documentId: string; version: number };
  };

  const hitsOf = async (documentId: string, query: string) => pipeline.search({ query, k: 10, hybrid: true, filter: { documentId } });

  it('a document reported indexed is found by a search at once (no refresh)', async () => {
    const phrase = distinctivePhrase(random);
    const { documentId } = await submitJson({ text: textDocument(random, 4_000, phrase), title: 'searchable' });
    // The status is known right after 202, before any stage has seen the document.
    expect((await pipeline.status(documentId))?.status).toBeDefined();
    await waitFor(`${documentId} indexed`, async () => (await pipeline.status(documentId))?.status === 'indexed', 60_000, 20);
    const hits = await pipeline.search({ query: phrase, k: 3, hybrid: true });
    expect(hits[0]?.documentId).toBe(documentId);
    expect(hits[0].text).toContain(phrase);
    const { timings } = (await pipeline.status(documentId))!;
    console.log(`one document alone: submission → chunked ${timings.chunkingMs} ms, chunked → searchable ${timings.indexingMs} ms`);
  });

  it('v2 replaces v1: the old phrase is gone, the new one found, chunk count is v2s, and search never loses the document', async () => {
    const documentId = `update-${pipeline.id}`;
    const [phraseA, phraseB] = [distinctivePhrase(random), distinctivePhrase(random)];
    await submitJson({ documentId, version: 1, text: textDocument(random, 12_000, phraseA) });
    await pipeline.waitForStatus([documentId], 'indexed', 60_000);
    const v1Chunks = (await pipeline.status(documentId))!.chunkCount!;

    let searches = 0;
    let empty = 0;
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        const hits = await pipeline.search({ query: 'stream partition offset', k: 5, filter: { documentId } });
        searches += 1;
        if (hits.length === 0) empty += 1;
      }
    })();
    await submitJson({ documentId, version: 2, text: textDocument(random, 3_000, phraseB) });
    await waitFor('v2 indexed', async () => {
      const s = await pipeline.status(documentId);
      return s?.version === 2 && s.status === 'indexed';
    });
    stop = true;
    await loop;

    const status = (await pipeline.status(documentId))!;
    expect(status.chunkCount).toBeLessThan(v1Chunks);
    expect(status.searchableVersion).toBe(2);
    expect(await pipeline.searchableChunksByVersion(documentId)).toEqual(new Map([[2, status.chunkCount]]));
    expect((await hitsOf(documentId, phraseA)).some((h) => h.text.includes(phraseA))).toBe(false);
    expect((await hitsOf(documentId, phraseB))[0].text).toContain(phraseB);
    expect(await pipeline.status(documentId, 1)).toMatchObject({ status: 'superseded', currentVersion: 2 });
    expect({ searches: searches > 5, empty }).toEqual({ searches: true, empty: 0 });
    console.log(`update: v1 ${v1Chunks} chunks → v2 ${status.chunkCount} chunks; ${searches} searches during the update, none empty`);
  });

  it('an older version produced after a newer one is ignored (superseded)', async () => {
    const documentId = `late-${pipeline.id}`;
    const [phraseOld, phraseNew] = [distinctivePhrase(random), distinctivePhrase(random)];
    const doc = (version: number, phrase: string, bytes: number) => ({
      documentId,
      version,
      title: null,
      contentType: 'text/plain',
      content: Buffer.from(textDocument(random, bytes, phrase)),
      source: 'out-of-order-producer',
      metadata: {},
      submittedAt: Date.now(),
    });
    await pipeline.produceDocument(doc(20, phraseNew, 2_000));
    await pipeline.produceDocument(doc(10, phraseOld, 6_000));
    await pipeline.waitForStatus([documentId], 'indexed', 60_000);
    await pipeline.waitForIdle();
    const status = (await pipeline.status(documentId))!;
    expect(status).toMatchObject({ version: 20, searchableVersion: 20 });
    expect(status.history).toEqual([expect.objectContaining({ version: 10, status: 'superseded' })]);
    expect(await pipeline.searchableChunksByVersion(documentId)).toEqual(new Map([[20, status.chunkCount]]));
    expect((await hitsOf(documentId, phraseOld)).some((h) => h.text.includes(phraseOld))).toBe(false);
    // Through HTTP, an older version is refused outright.
    const res = await fetch(`${pipeline.gatewayUrl}/v1/documents`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ documentId, version: 5, text: 'stale' }),
    });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: string }).error).toBe('version_conflict');
  });

  it.each(['http', 'tombstone'] as const)('a delete (%s) removes every chunk; status, search and a later read agree', async (via) => {
    const documentId = `delete-${via}-${pipeline.id}`;
    const phrase = distinctivePhrase(random);
    await submitJson({ documentId, version: 1, text: textDocument(random, 8_000, phrase) });
    await pipeline.waitForStatus([documentId], 'indexed', 60_000);
    expect((await hitsOf(documentId, phrase)).length).toBeGreaterThan(0);
    if (via === 'http') {
      const res = await fetch(`${pipeline.gatewayUrl}/v1/documents/${documentId}`, { method: 'DELETE' });
      expect(res.status).toBe(202);
      expect(await res.json()).toMatchObject({ documentId, status: 'deleting' });
    } else {
      await pipeline.produceTombstone(documentId);
    }
    await pipeline.waitForStatus([documentId], 'deleted', 60_000);
    expect(await pipeline.searchableChunksByVersion(documentId)).toEqual(new Map());
    expect(await hitsOf(documentId, phrase)).toEqual([]);
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await pipeline.status(documentId))?.status).toBe('deleted');
    expect(await pipeline.searchableChunksByVersion(documentId)).toEqual(new Map());
  });

  it('unchanged text makes no provider requests; a 10 % edit re-embeds about 10 % of the chunks', async () => {
    // A corpus of structured documents (sections of paragraphs), submitted, then re-submitted as new versions.
    const sections = (seed: number) => {
      const r = seededRandom(seed);
      return Array.from({ length: 20 }, (_, s) => `## Section ${s}\n\n${Array.from({ length: 4 }, () => paragraph(r)).join('\n\n')}`);
    };
    const ids = Array.from({ length: 10 }, (_, i) => `cache-${pipeline.id}-${i}`);
    const bodies = ids.map((_, i) => sections(100 + i));
    const submitAll = async (version: number, texts: string[][]) => {
      for (const [i, id] of ids.entries()) {
        await submitJson({ documentId: id, version, contentType: 'text/markdown', text: `# Doc ${i}\n\n${texts[i].join('\n\n')}` });
      }
      await waitFor(`version ${version} indexed`, async () => {
        for (const id of ids) {
          const s = await pipeline.status(id);
          if (s?.version !== version || s.status !== 'indexed') return false;
        }
        return true;
      });
    };
    const inputsSent = () => fake.stats.inputsPerRequest.reduce((a, b) => a + b, 0);

    fake.reset();
    await submitAll(1, bodies);
    const first = { requests: fake.stats.requests, inputs: inputsSent() };
    const chunks = (await Promise.all(ids.map(async (id) => (await pipeline.status(id))!.chunkCount!))).reduce((a, b) => a + b, 0);
    expect(first.inputs).toBe(chunks);

    fake.reset();
    await submitAll(2, bodies);
    const unchanged = { requests: fake.stats.requests, inputs: inputsSent() };
    expect(unchanged).toEqual({ requests: 0, inputs: 0 });

    // Edit 2 of the 20 sections of every document.
    const edited = bodies.map((doc, i) =>
      doc.map((section, s) => (s % 10 === 3 ? `## Section ${s}\n\n${paragraph(seededRandom(900 + i * 20 + s))}` : section)),
    );
    fake.reset();
    await submitAll(3, edited);
    const tenPercent = { requests: fake.stats.requests, inputs: inputsSent() };
    const share = tenPercent.inputs / chunks;
    expect(share).toBeGreaterThan(0.05);
    expect(share).toBeLessThan(0.2);
    for (const id of ids) {
      expect(await pipeline.searchableChunksByVersion(id)).toEqual(new Map([[3, (await pipeline.status(id))!.chunkCount]]));
    }
    console.log(
      `embedding cache: first submission ${first.requests} requests / ${first.inputs} inputs (${chunks} chunks); ` +
        `unchanged re-submit ${unchanged.requests} / ${unchanged.inputs}; 10 % edit ${tenPercent.requests} / ${tenPercent.inputs} ` +
        `(${(share * 100).toFixed(1)} % of the chunks)`,
    );
  });

  it('lists documents with stable cursor pagination and filters', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=3&cursor=${cursor}` : '?limit=3';
      const res = await fetch(`${pipeline.gatewayUrl}/v1/documents${query}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { documents: { documentId: string }[]; nextCursor: string | null };
      seen.push(...page.documents.map((d) => d.documentId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining([`update-${pipeline.id}`, `late-${pipeline.id}`, `delete-http-${pipeline.id}`]));
    const deleted = await fetch(`${pipeline.gatewayUrl}/v1/documents?status=deleted&limit=100`);
    const ids = ((await deleted.json()) as { documents: { documentId: string; status: string }[] }).documents;
    expect(ids.map((d) => d.documentId).sort()).toEqual([`delete-http-${pipeline.id}`, `delete-tombstone-${pipeline.id}`]);
    expect((await fetch(`${pipeline.gatewayUrl}/v1/documents?cursor=nonsense`)).status).toBe(400);
  });
});
