import { readFileSync } from 'node:fs';
import { ContractSerde, Headers } from '@rag/contracts';
import { seededRandom, textDocument } from '@rag/testkit';
import { readRetryTiers, readTopic } from '../../support/dlq';
import { STACK } from '@rag/testkit';
import { Pipeline } from '../../support/pipeline';
import { waitFor } from '@rag/testkit';

const MIB = 1024 * 1024;

/**
 * A poison record costs only itself: a document whose ~2 MB metadata value makes every chunk
 * larger than the chunk topic's max.message.bytes is dead-lettered by the chunker with that
 * reason, and the documents produced around it (same partition, same slices) are indexed, with
 * no consumer crash or restart. The gateway refuses such metadata up front with a 400.
 */
describe('oversize records', () => {
  const pipeline = new Pipeline({ partitions: 1 });
  const random = seededRandom(11);
  const bigValue = 'm'.repeat(2 * 1_000_000);

  beforeAll(async () => {
    await pipeline.start(['indexer', 'embedder', 'chunker', 'gateway']);
  });

  afterAll(async () => {
    await pipeline.stop();
  });

  it('the gateway answers 400 for metadata over its bounds, as JSON and as a multipart field, and produces nothing', async () => {
    const json = await fetch(`${pipeline.gatewayUrl}/v1/documents`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: 'hello', metadata: { notes: bigValue } }),
    });
    expect(json.status).toBe(400);
    expect(await json.json()).toEqual({
      error: 'invalid_request',
      message: 'metadata.notes: value is 2000000 bytes, the limit is 2048 (MAX_METADATA_VALUE_BYTES)',
    });

    const tooMany = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
    const form = new FormData();
    form.append('file', new Blob(['hello'], { type: 'text/plain' }), 'hello.txt');
    form.append('metadata', JSON.stringify(tooMany));
    const upload = await fetch(`${pipeline.gatewayUrl}/v1/documents`, { method: 'POST', body: form });
    expect(upload.status).toBe(400);
    expect(await upload.json()).toEqual({
      error: 'invalid_request',
      message: 'metadata: 65 entries, the limit is 64 (MAX_METADATA_ENTRIES)',
    });

    expect(await readTopic(pipeline.kafka, pipeline.topics.documents)).toEqual([]);
  });

  it('dead-letters a document whose chunks exceed max.message.bytes, with the reason, and indexes the documents around it', async () => {
    const chunker = pipeline.service('chunker');
    const chunkerPid = chunker.pid;
    const good = Array.from({ length: 6 }, (_, i) => `good-${pipeline.id}-${i}`);
    const oversize = `oversize-${pipeline.id}`;
    const submit = (id: string) => pipeline.submitText(id, textDocument(random, 3_000, `phrase ${id}`));
    // All on one partition, back to back: the oversize document shares its slice with good ones.
    await Promise.all(good.slice(0, 3).map(submit));
    await pipeline.produceDocument({
      documentId: oversize,
      version: 1,
      title: 'big metadata',
      contentType: 'text/plain',
      content: Buffer.from(textDocument(random, 3_000, 'oversize')),
      source: 'test',
      metadata: { notes: bigValue },
      submittedAt: Date.now(),
    });
    await Promise.all(good.slice(3).map(submit));

    await pipeline.waitForStatus(good, 'indexed', 120_000);
    const failed = await waitFor(
      'the oversize document to be failed',
      async () => {
        const s = await pipeline.status(oversize);
        return s?.status === 'failed' ? s : undefined;
      },
      60_000,
    );
    const reason = /^Chunk record of 1\.9 MiB \(\d+ bytes\) exceeds t\w+\.chunks max\.message\.bytes 1 MiB \(1048576 bytes\)$/;
    expect(failed.failures).toEqual([expect.objectContaining({ stage: 'chunker', reason: expect.stringMatching(reason) })]);

    const dlq = await readTopic(pipeline.kafka, pipeline.topics.dlq('chunker'));
    expect(dlq.map((r) => r.key)).toEqual([oversize]);
    const [dead] = dlq;
    expect(dead.headers[Headers.errorMessage]).toMatch(reason);
    expect(dead.headers[Headers.errorClass]).toBe('RecordTooLargeError');
    expect(dead.headers[Headers.errorKind]).toBe('permanent');
    expect(dead.headers[Headers.retryAttempt]).toBe('0');
    expect(dead.headers[Headers.originalTopic]).toBe(pipeline.topics.documents);
    // The dead letter carries the whole original document (its topic is sized for it), ready for replay.
    const serde = ContractSerde.connect(STACK.registryUrl);
    const original = await serde.decode('DocumentSubmitted', dead.value);
    expect(original.documentId).toBe(oversize);
    expect(original.metadata.notes).toHaveLength(bigValue.length);
    expect(await readRetryTiers(pipeline.kafka, pipeline.topics, 'chunker')).toEqual([]);

    // None of its chunks was produced (a record's outputs go all or none), the others' were, once.
    const chunks = await readTopic(pipeline.kafka, pipeline.topics.chunks);
    expect(chunks.filter((c) => c.key === oversize)).toEqual([]);
    expect(chunks.every((c) => (c.value?.length ?? 0) < MIB)).toBe(true);
    expect(await pipeline.expectIndexedExactlyOnce(good)).toBeGreaterThanOrEqual(good.length);
    expect((await pipeline.chunkCounts()).get(oversize)).toBeUndefined();

    // The chunker never failed a slice: same process, and its consumer never crashed or restarted.
    expect(chunker.running).toBe(true);
    expect(chunker.pid).toBe(chunkerPid);
    const log = readFileSync(chunker.logFile, 'utf8');
    expect(log).toContain('record dead-lettered');
    expect(log).not.toMatch(/consumer crashed|MESSAGE_TOO_LARGE/);
  });
});
