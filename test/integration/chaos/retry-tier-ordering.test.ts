import { Headers } from '@rag/contracts';
import { readRetryTiers, topicSize } from '../../support/dlq';
import { FakeOpenAIServer } from '@rag/testkit';
import { Pipeline } from '../../support/pipeline';
import { waitFor } from '@rag/testkit';

/**
 * Retry without head-of-line blocking. With tiers of 1 s and 20 s and one partition per topic, a
 * chunk that failed twice waits 20 s in the 20 s tier; a chunk that fails once afterwards waits
 * 1 s in the 1 s tier and is embedded and indexed while the first is still waiting. In a single
 * retry log the second record would sit behind the first and wait for it.
 */
describe('retry tiers', () => {
  let fake: FakeOpenAIServer;
  let pipeline: Pipeline;

  beforeAll(async () => {
    fake = await FakeOpenAIServer.start();
    pipeline = new Pipeline({
      partitions: 1,
      env: { RETRY_TIERS_MS: '1000,20000' },
      serviceEnv: {
        embedder: {
          EMBEDDING_PROVIDER: 'openai',
          OPENAI_API_KEY: 'test-key',
          OPENAI_BASE_URL: fake.baseURL,
          // Failures go to the retry tiers at once, not to the SDK's own retries.
          OPENAI_MAX_RETRIES: '0',
        },
      },
    });
    await pipeline.start();
  });

  afterAll(async () => {
    await pipeline?.stop();
    await fake?.close();
  });

  it('processes a record with a short delay while one with a long delay is still waiting', async () => {
    const slow = `slow-${pipeline.id}`;
    const quick = `quick-${pipeline.id}`;
    const slowMarker = `slowmarker${pipeline.id}`;
    const quickMarker = `quickmarker${pipeline.id}`;
    fake.failInputContaining(slowMarker, 2, { status: 503 });
    fake.failInputContaining(quickMarker, 1, { status: 503 });
    const [slowTier, longTier] = pipeline.topics.retryTiers('embedder');
    expect([slowTier.delayMs, longTier.delayMs]).toEqual([1_000, 20_000]);

    // The slow chunk fails from the main topic (→ 1 s tier), then again (→ 20 s tier).
    await pipeline.submitText(slow, `A short document about ${slowMarker} and retries.`);
    const waiting = await waitFor(
      'the slow chunk in the 20 s tier',
      async () => (await readRetryTiers(pipeline.kafka, pipeline.topics, 'embedder')).find((r) => r.topic === longTier.topic),
      30_000,
      100,
    );
    const slowDue = Number(waiting.headers[Headers.retryNotBefore]);
    expect(waiting.key).toBe(slow);
    expect(waiting.headers[Headers.retryAttempt]).toBe('2');
    expect(waiting.headers[Headers.errorKind]).toBe('transient');
    expect(waiting.headers[Headers.errorClass]).toMatch(/Error$/);
    expect(slowDue - waiting.timestamp).toBeGreaterThanOrEqual(19_000);

    // Now the quick chunk fails once (→ 1 s tier) and must not wait for the slow one.
    await pipeline.submitText(quick, `A short document about ${quickMarker} and retries.`);
    await pipeline.waitForStatus([quick], 'indexed', 30_000);
    const quickIndexedBy = Date.now();
    expect((await pipeline.status(slow))?.status).not.toBe('indexed');
    expect(quickIndexedBy).toBeLessThan(slowDue);

    const succeeded = (marker: string) => fake.requests.filter((r) => r.status === 200 && r.inputs.some((i) => i.includes(marker)));
    const quickEmbeddedAt = succeeded(quickMarker)[0].at;
    expect(quickEmbeddedAt).toBeLessThan(slowDue);
    expect(succeeded(slowMarker)).toEqual([]);

    // The quick retry was produced after the slow one started waiting and is due before it:
    // in one shared retry log it would have been behind the slow record.
    const retries = await readRetryTiers(pipeline.kafka, pipeline.topics, 'embedder');
    const quickRetry = retries.find((r) => r.key === quick)!;
    expect(quickRetry.topic).toBe(slowTier.topic);
    expect(quickRetry.timestamp).toBeGreaterThan(waiting.timestamp);
    expect(Number(quickRetry.headers[Headers.retryNotBefore])).toBeLessThan(slowDue);
    expect(retries.filter((r) => r.key === slow).map((r) => [r.topic, r.headers[Headers.retryAttempt]])).toEqual([
      [slowTier.topic, '1'],
      [longTier.topic, '2'],
    ]);

    // The slow chunk is processed when due, not before, and nothing was dead-lettered.
    await pipeline.waitForStatus([slow], 'indexed', 60_000);
    const slowEmbeddedAt = succeeded(slowMarker)[0].at;
    expect(slowEmbeddedAt).toBeGreaterThanOrEqual(slowDue - 5);
    await pipeline.expectIndexedExactlyOnce([slow, quick]);
    expect(await topicSize(pipeline.kafka, pipeline.topics.dlq('embedder'))).toBe(0);
    process.stdout.write(
      `retry tiers: quick chunk embedded ${slowDue - quickEmbeddedAt} ms before the slow one was due; ` +
        `slow chunk embedded ${slowEmbeddedAt - slowDue} ms after its due time\n`,
    );
  });
});
