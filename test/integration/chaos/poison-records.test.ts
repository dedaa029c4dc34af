import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import avro from 'avsc';
import { Headers, loadSchema } from '@rag/contracts';
import { seededRandom, textDocument } from '@rag/testkit';
import { readRetryTiers, readTopic, topicSize } from '../../support/dlq';
import { Pipeline } from '../../support/pipeline';
import { waitFor } from '@rag/testkit';

const run = promisify(execFile);
const CLI = join(__dirname, '..', '..', '..', 'dist', 'tools', 'cli', 'main.js');

/**
 * Scenario 4: poison records produced straight to the input topic land in the chunker's DLQ
 * at once (no retries) with a clear reason, and the good documents around them are unaffected.
 */
describe('poison records', () => {
  const pipeline = new Pipeline({ partitions: 2 });
  const random = seededRandom(4);

  beforeAll(async () => {
    await pipeline.start(['indexer', 'embedder', 'chunker', 'gateway']);
  });

  afterAll(async () => {
    await pipeline.stop();
  });

  it('dead-letters random bytes, an unknown schema id and an empty document without retrying, and indexes the rest', async () => {
    const good = Array.from({ length: 6 }, (_, i) => `good-${pipeline.id}-${i}`);
    const submit = (id: string) => pipeline.submitText(id, textDocument(random, 3_000, `phrase ${id}`));
    await submit(good[0]);
    await submit(good[1]);
    await pipeline.produceRaw(
      pipeline.topics.documents,
      'poison-random',
      Buffer.from(Array.from({ length: 64 }, () => Math.floor(random() * 256))),
    );
    await submit(good[2]);
    // Right magic byte, schema id that does not exist, junk body.
    const unknownId = Buffer.alloc(20);
    unknownId.writeUInt8(0, 0);
    unknownId.writeInt32BE(987_654_321, 1);
    await pipeline.produceRaw(pipeline.topics.documents, 'poison-unknown-schema', unknownId);
    await submit(good[3]);
    await pipeline.produceDocument({
      documentId: 'poison-empty',
      version: 1,
      title: null,
      contentType: 'text/plain',
      content: Buffer.alloc(0),
      source: 'test',
      metadata: {},
      submittedAt: Date.now(),
    });
    // Valid Avro of another record type (a Chunk-shaped schema) registered under no subject of ours:
    // written with the DocumentSubmitted schema id but a truncated body.
    const docType = avro.Type.forSchema(loadSchema('DocumentSubmitted'));
    const truncated = docType
      .toBuffer({
        documentId: 'poison-truncated',
        version: 1,
        title: null,
        contentType: 'text/plain',
        content: Buffer.from('hello world'),
        source: null,
        metadata: {},
        submittedAt: Date.now(),
      })
      .subarray(0, 10);
    const registered = await fetch(
      `${process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7'}/subjects/${pipeline.topics.documents}-value/versions/latest`,
    );
    const { id } = (await registered.json()) as { id: number };
    const header = Buffer.alloc(5);
    header.writeInt32BE(id, 1);
    await pipeline.produceRaw(pipeline.topics.documents, 'poison-truncated', Buffer.concat([header, truncated]));
    await submit(good[4]);
    await submit(good[5]);

    await pipeline.waitForStatus(good, 'indexed', 120_000);
    const dlq = await waitFor(
      '4 dead letters',
      async () => {
        const records = await readTopic(pipeline.kafka, pipeline.topics.dlq('chunker'));
        return records.length >= 4 ? records : undefined;
      },
      60_000,
    );

    const byKey = new Map(dlq.map((r) => [r.key, r]));
    expect([...byKey.keys()].sort()).toEqual(['poison-empty', 'poison-random', 'poison-truncated', 'poison-unknown-schema']);
    expect(byKey.get('poison-random')!.headers[Headers.errorMessage]).toMatch(/magic byte/);
    expect(byKey.get('poison-unknown-schema')!.headers[Headers.errorMessage]).toMatch(/unknown schema id 987654321/);
    expect(byKey.get('poison-empty')!.headers[Headers.errorMessage]).toMatch(/no text/);
    expect(byKey.get('poison-truncated')!.headers[Headers.errorMessage]).toMatch(/does not decode/);
    for (const record of dlq) {
      expect(record.headers[Headers.errorKind]).toBe('permanent');
      expect(record.headers[Headers.retryAttempt]).toBe('0');
      expect(record.headers[Headers.stage]).toBe('chunker');
      expect(record.headers[Headers.originalTopic]).toBe(pipeline.topics.documents);
      expect(record.headers[Headers.originalOffset]).toMatch(/^\d+$/);
    }
    // Dead-lettered bytes are the original bytes.
    expect(byKey.get('poison-unknown-schema')!.value).toEqual(unknownId);
    expect(await readRetryTiers(pipeline.kafka, pipeline.topics, 'chunker')).toEqual([]);

    const counts = await pipeline.chunkCounts();
    for (const id of good) expect(counts.get(id)).toBe((await pipeline.status(id))!.chunkCount);
    expect(await pipeline.duplicateChunks()).toEqual([]);

    // The gateway's status of a dead-lettered document says which stage failed and why.
    const failed = await waitFor(
      'failed status',
      async () => {
        const s = await pipeline.status('poison-empty');
        return s?.status === 'failed' ? s : undefined;
      },
      30_000,
    );
    expect(failed.failures[0]).toMatchObject({ stage: 'chunker', reason: expect.stringMatching(/no text/) });

    // The DLQ command: list counts by reason, show decodes what it can, purge empties the topic.
    const env = { ...process.env, ...pipeline.baseEnv(), LOG_LEVEL: 'warn' };
    const list = JSON.parse((await run(process.execPath, [CLI, 'dlq', 'list', '--stage', 'chunker', '--json'], { env })).stdout) as {
      records: number;
      reasons: { reason: string; count: number }[];
    };
    expect(list.records).toBe(4);
    expect(list.reasons.some((r) => /magic byte/.test(r.reason))).toBe(true);
    const shown = (await run(process.execPath, [CLI, 'dlq', 'show', '--stage', 'chunker', '--document', 'poison-empty'], { env })).stdout;
    expect(shown).toContain('"documentId": "poison-empty"');
    expect(shown).toContain('"x-error-message": "document has no text content"');
    const shownRandom = (await run(process.execPath, [CLI, 'dlq', 'show', '--stage', 'chunker', '--document', 'poison-random'], { env }))
      .stdout;
    expect(shownRandom).toMatch(/"undecodable": ".*magic byte/);
    const dry = (await run(process.execPath, [CLI, 'dlq', 'replay', '--stage', 'chunker', '--dry-run'], { env })).stdout;
    expect(dry).toMatch(/would replay 4 record/);
    expect(await topicSize(pipeline.kafka, pipeline.topics.dlq('chunker'))).toBe(4);
    const purged = (await run(process.execPath, [CLI, 'dlq', 'purge', '--stage', 'chunker', '--yes'], { env })).stdout;
    expect(purged).toMatch(/purged 4 record/);
    expect(await topicSize(pipeline.kafka, pipeline.topics.dlq('chunker'))).toBe(0);
  });
});
