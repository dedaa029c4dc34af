import { readFileSync } from 'node:fs';
import { ContractSerde, lifecycleEvent } from '@rag/contracts';
import { seededRandom, textDocument } from '@rag/testkit';
import { STACK } from '@rag/testkit';
import { Pipeline } from '../../support/pipeline';
import { waitFor } from '@rag/testkit';

const rssMiB = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return line ? Number(line[1]) / 1024 : NaN;
};

/**
 * The registry and the chunk index stay consistent through crashes: the indexer (which also
 * hosts the registry projector) is killed with SIGKILL in the middle of an update and in the
 * middle of a delete, and no stale and no missing chunk remains. And the registry is durable:
 * a restarted gateway answers at once, two gateways answer the same.
 */
describe('document lifecycle under kill -9 and restarts', () => {
  // Small indexer slices so an update or delete spans many slices and the kill lands inside it.
  const pipeline = new Pipeline({ partitions: 3, serviceEnv: { indexer: { STAGE_MAX_BATCH_RECORDS: '8' } } });
  const random = seededRandom(11);

  beforeAll(async () => {
    await pipeline.start();
  });

  afterAll(async () => {
    await pipeline.stop();
  });

  const ids = (kind: string, n: number) => Array.from({ length: n }, (_, i) => `${kind}-${pipeline.id}-${i}`);
  const produceVersion = (id: string, version: number, bytes: number) =>
    pipeline.produceDocument({
      documentId: id,
      version,
      title: id,
      contentType: 'text/plain',
      content: Buffer.from(textDocument(random, bytes, `v${version} of ${id}`)),
      source: 'chaos',
      metadata: {},
      submittedAt: Date.now(),
    });
  const versionsOf = async (docs: string[]) => Promise.all(docs.map((id) => pipeline.searchableChunksByVersion(id)));

  it('kill -9 of the indexer in the middle of an update leaves exactly the new version searchable', async () => {
    const docs = ids('update', 40);
    await Promise.all(docs.map((id) => produceVersion(id, 1, 6_000 + Math.floor(random() * 6_000))));
    await pipeline.waitForStatus(docs, 'indexed', 120_000);
    await Promise.all(docs.map((id) => produceVersion(id, 2, 2_000 + Math.floor(random() * 8_000))));

    // Mid-update: some documents already have v2 searchable while others still show only v1.
    let atKill = { v2: 0, v1Only: 0 };
    await waitFor(
      'the update to be half-way',
      async () => {
        const versions = await versionsOf(docs);
        atKill = { v2: versions.filter((v) => v.has(2)).length, v1Only: versions.filter((v) => !v.has(2)).length };
        return atKill.v2 > 0 && atKill.v1Only > 0;
      },
      60_000,
      50,
    );
    const indexer = pipeline.service('indexer');
    const pid = indexer.pid;
    await indexer.kill();
    await indexer.start();
    expect(indexer.pid).not.toBe(pid);

    await waitFor('v2 indexed everywhere', async () => {
      for (const id of docs) {
        const s = await pipeline.status(id);
        if (s?.version !== 2 || s.status !== 'indexed') return false;
      }
      return true;
    });
    await pipeline.waitForIdle();
    for (const id of docs) {
      const status = (await pipeline.status(id))!;
      expect({ id, versions: await pipeline.searchableChunksByVersion(id) }).toEqual({ id, versions: new Map([[2, status.chunkCount]]) });
    }
    expect(await pipeline.duplicateChunks()).toEqual([]);
    console.log(
      `update: indexer killed with ${atKill.v2} of ${docs.length} documents showing v2 and ${atKill.v1Only} only v1; afterwards exactly v2 everywhere`,
    );
  });

  it('kill -9 of the indexer in the middle of deletes leaves no chunk of a deleted document', async () => {
    const docs = ids('delete', 60);
    await Promise.all(docs.map((id) => produceVersion(id, 1, 6_000 + Math.floor(random() * 6_000))));
    await pipeline.waitForStatus(docs, 'indexed', 120_000);
    const total = (await versionsOf(docs)).reduce((sum, v) => sum + (v.get(1) ?? 0), 0);
    await Promise.all(docs.map((id) => pipeline.produceTombstone(id)));

    let remainingAtKill = total;
    await waitFor(
      'the deletes to be half-way',
      async () => {
        remainingAtKill = (await versionsOf(docs)).reduce((sum, v) => sum + (v.get(1) ?? 0), 0);
        return remainingAtKill > 0 && remainingAtKill < total;
      },
      60_000,
      20,
    );
    const indexer = pipeline.service('indexer');
    await indexer.kill();
    await indexer.start();

    await pipeline.waitForStatus(docs, 'deleted', 120_000);
    await pipeline.waitForIdle();
    for (const id of docs) expect({ id, versions: await pipeline.searchableChunksByVersion(id) }).toEqual({ id, versions: new Map() });
    console.log(`delete: indexer killed with ${remainingAtKill} of ${total} chunks still searchable; afterwards 0`);
  });

  it('with 10,000 documents in the registry a restarted gateway answers at once, and two gateways answer the same', async () => {
    const docs = ids('bulk', 10_000);
    const serde = ContractSerde.connect(STACK.registryUrl);
    await serde.registerWriter('DocumentEvent', pipeline.topics.events);
    const producer = pipeline.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const now = Date.now();
    for (let i = 0; i < docs.length; i += 1_000) {
      const messages = docs.slice(i, i + 1_000).map((documentId, n) => ({
        key: documentId,
        value: serde.encode(
          'DocumentEvent',
          lifecycleEvent('CHUNKED', {
            documentId,
            version: 1,
            at: now + i + n,
            stage: 'chunker',
            chunkCount: 3,
            submittedAt: now,
            source: 'bulk',
          }),
        ),
      }));
      await producer.send({ topic: pipeline.topics.events, acks: -1, messages });
    }
    await producer.disconnect();
    await waitFor(
      'the registry to hold the 10,000 documents',
      async () => (await pipeline.es.count({ index: pipeline.registryAlias, query: { term: { source: 'bulk' } } })).count === docs.length,
      120_000,
      500,
    );

    const gateway = pipeline.service('gateway');
    await gateway.stop();
    const started = Date.now();
    await gateway.start();
    const ready = Date.now() - started;
    const first = Date.now();
    const status = await pipeline.status(docs[9_999]);
    const firstReadMs = Date.now() - first;
    expect(status).toMatchObject({ documentId: docs[9_999], status: 'chunked', chunkCount: 3 });
    expect(firstReadMs).toBeLessThan(1_000);

    const second = await pipeline.startService('gateway', 1);
    const sample = Array.from({ length: 25 }, () => docs[Math.floor(random() * docs.length)]);
    for (const id of sample) {
      const [a, b] = await Promise.all([gateway.url, second.url].map(async (url) => (await fetch(`${url}/v1/documents/${id}`)).json()));
      expect(b).toEqual(a);
    }
    const pages = await Promise.all(
      [gateway.url, second.url].map(async (url) => (await fetch(`${url}/v1/documents?source=bulk&limit=50`)).json()),
    );
    expect(pages[1]).toEqual(pages[0]);
    console.log(
      `restart with 10,000 documents: gateway ready in ${ready} ms, first status read ${firstReadMs} ms; ` +
        `gateway RSS ${rssMiB(gateway.pid!).toFixed(0)} MiB / ${rssMiB(second.pid!).toFixed(0)} MiB (second instance)`,
    );
  });
});
