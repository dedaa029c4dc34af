import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ContractSerde, Headers } from '@rag/contracts';
import { STACK } from '@rag/testkit';
import { paragraph, seededRandom, textDocument } from '@rag/testkit';
import { readRetryTiers, readTopic, topicSize } from '../../support/dlq';
import { FakeOpenAIServer } from '@rag/testkit';
import { Pipeline } from '../../support/pipeline';
import { waitFor } from '@rag/testkit';

const run = promisify(execFile);
const CLI = join(__dirname, '..', '..', '..', 'dist', 'tools', 'cli', 'main.js');

/**
 * Scenario 3: the embedding provider (a local server speaking the OpenAI API) answers bursts
 * of 429 and 503: everything is retried and succeeds. A provider that answers 400 for one
 * input sends only that chunk to the DLQ. Scenario 6: once the cause is fixed, replaying the
 * DLQ indexes that chunk exactly once, and replaying again changes nothing.
 */
describe('embedding provider errors and DLQ replay', () => {
  let fake: FakeOpenAIServer;
  let pipeline: Pipeline;
  const random = seededRandom(3);
  const submit = (id: string, text: string) => pipeline.submitText(id, text);

  beforeAll(async () => {
    fake = await FakeOpenAIServer.start();
    pipeline = new Pipeline({
      partitions: 2,
      // Short retry tiers (for every service: topic names derive from them): retries within seconds.
      env: { RETRY_TIERS_MS: '500,1000,3000' },
      serviceEnv: {
        embedder: {
          EMBEDDING_PROVIDER: 'openai',
          OPENAI_API_KEY: 'test-key',
          OPENAI_BASE_URL: fake.baseURL,
          OPENAI_MAX_RETRIES: '1',
          OPENAI_MAX_INPUTS_PER_REQUEST: '64',
        },
      },
    });
    await pipeline.start();
  });

  afterAll(async () => {
    await pipeline.stop();
    await fake.close();
  });

  it('retries bursts of 429 (with Retry-After) and 503 until every chunk is embedded', async () => {
    fake.failNext(5, { status: 429, retryAfterSeconds: 1 }).failNext(5, { status: 503 });
    const ids = Array.from({ length: 25 }, (_, i) => `burst-${pipeline.id}-${i}`);
    for (const id of ids) await submit(id, textDocument(random, 3_000, `marker ${id}`));
    await pipeline.waitForStatus(ids, 'indexed', 180_000);

    const statuses = fake.requests.map((r) => r.status);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    expect(statuses.filter((s) => s === 503)).toHaveLength(5);
    const expected = await pipeline.expectIndexedExactlyOnce(ids);
    expect(await topicSize(pipeline.kafka, pipeline.topics.dlq('embedder'))).toBe(0);

    // Every retry record was processed again only at or after its x-retry-not-before.
    const retries = await readRetryTiers(pipeline.kafka, pipeline.topics, 'embedder');
    expect(retries.length).toBeGreaterThan(0);
    const serde = ContractSerde.connect(STACK.registryUrl);
    for (const record of retries) {
      const notBefore = Number(record.headers[Headers.retryNotBefore]);
      const attempt = Number(record.headers[Headers.retryAttempt]);
      expect(attempt).toBeGreaterThanOrEqual(1);
      const chunk = await serde.decode('Chunk', record.value);
      const input = chunk.heading ? `${chunk.heading}\n\n${chunk.text}` : chunk.text;
      // Between the retry record's creation and its due time nobody asked the provider for this input;
      // at or after the due time somebody did (the retry). 5 ms of slack: two processes read the clock.
      const asked = fake.requests.filter((r) => r.inputs.includes(input));
      const early = asked.filter((r) => r.at > record.timestamp + 5 && r.at < notBefore - 5);
      const due = asked.filter((r) => r.at >= notBefore - 5);
      expect({ chunk: chunk.chunkId, early: early.length, retried: due.length > 0 }).toEqual({
        chunk: chunk.chunkId,
        early: 0,
        retried: true,
      });
    }
    const ok = fake.requests.filter((r) => r.status === 200);
    const perRequest = ok.map((r) => r.inputs.length);
    console.log(
      `provider 429/503 bursts: ${ids.length} documents, ${expected} chunks indexed, 0 duplicates, 0 dead-lettered; ` +
        `${fake.requests.length} requests (${ok.length} ok), ${(perRequest.reduce((a, b) => a + b, 0) / perRequest.length).toFixed(1)} inputs per ok request (max ${Math.max(...perRequest)})`,
    );
  });

  it('dead-letters only the chunk the provider rejects with 400, then replay indexes it exactly once', async () => {
    fake.reset().rejectInputContaining('POISONPILL');
    const poisoned = `poisoned-${pipeline.id}`;
    const clean = Array.from({ length: 5 }, (_, i) => `clean-${pipeline.id}-${i}`);
    // Many paragraphs so the document has several chunks; one of them carries the poison.
    const paragraphs = Array.from({ length: 40 }, () => paragraph(random));
    paragraphs[20] = `${paragraphs[20]} POISONPILL`;
    await submit(poisoned, paragraphs.join('\n\n'));
    for (const id of clean) await submit(id, textDocument(random, 3_000, `marker ${id}`));

    await pipeline.waitForStatus(clean, 'indexed', 120_000);
    const failed = await waitFor(
      'poisoned document to fail',
      async () => {
        const s = await pipeline.status(poisoned);
        return s?.status === 'failed' ? s : undefined;
      },
      120_000,
    );
    expect(failed.failures[0]).toMatchObject({ stage: 'embedder', reason: expect.stringMatching(/400/) });
    const chunkCount = failed.chunkCount!;
    expect(chunkCount).toBeGreaterThan(2);

    const dlq = await readTopic(pipeline.kafka, pipeline.topics.dlq('embedder'));
    expect(dlq).toHaveLength(1);
    expect(dlq[0].key).toBe(poisoned);
    expect(dlq[0].headers[Headers.errorKind]).toBe('permanent');
    expect(dlq[0].headers[Headers.retryAttempt]).toBe('0');
    expect((await pipeline.chunkCounts()).get(poisoned)).toBe(chunkCount - 1);

    const env = { ...process.env, ...pipeline.baseEnv(), LOG_LEVEL: 'warn' };
    const listed = await run(process.execPath, [CLI, 'dlq', 'list', '--stage', 'embedder', '--json'], { env });
    expect(JSON.parse(listed.stdout)).toMatchObject({ records: 1, documents: 1 });

    // Fix the cause, then replay.
    fake.reset();
    const replay = await run(process.execPath, [CLI, 'dlq', 'replay', '--stage', 'embedder'], { env });
    expect(replay.stdout).toMatch(/replayed 1 record/);
    await pipeline.waitForStatus([poisoned], 'indexed', 120_000);
    expect((await pipeline.chunkCounts()).get(poisoned)).toBe(chunkCount);

    // Replaying again replays nothing new; the index is unchanged and has no duplicates.
    const again = await run(process.execPath, [CLI, 'dlq', 'replay', '--stage', 'embedder'], { env });
    expect(again.stdout).toMatch(/replayed 0 record/);
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await pipeline.chunkCounts()).get(poisoned)).toBe(chunkCount);
    expect(await pipeline.duplicateChunks()).toEqual([]);
    console.log(`400 + replay: 1 of ${chunkCount} chunks dead-lettered, replayed, indexed once (${chunkCount} chunks, 0 duplicates)`);
  });
});
