import { seededRandom, textDocument } from '@rag/testkit';
import { topicSize } from '../../support/dlq';
import { scrape, sumMetric } from '@rag/testkit';
import { Pipeline } from '../../support/pipeline';
import { stack } from '../../support/stack';
import { waitFor } from '@rag/testkit';

/**
 * Scenario 2: Elasticsearch is stopped for 60 s mid-stream and started again. The indexer
 * parks the failing records on its retry topic with backoff, catches up after the outage,
 * and nothing is dead-lettered or duplicated.
 */
describe('Elasticsearch outage', () => {
  // The default retry window (RETRY_MIN_WINDOW_MS, 5 min) is what rides out the outage; the tiers
  // are shorter only so the test does not wait 5 minutes after Elasticsearch is back.
  const pipeline = new Pipeline({ partitions: 2, env: { RETRY_TIERS_MS: '1000,4000,8000' } });
  const random = seededRandom(2);
  const submit = (id: string) => pipeline.submitText(id, textDocument(random, 4_000, `marker ${id}`));

  beforeAll(async () => {
    await pipeline.start(['indexer', 'embedder', 'chunker', 'gateway']);
  });

  afterAll(async () => {
    await stack('up', 'es');
    await pipeline.stop();
  });

  it('retries through a 60 s outage and indexes everything exactly once', async () => {
    const first = Array.from({ length: 20 }, (_, i) => `before-${pipeline.id}-${i}`);
    await Promise.all(first.map(submit));
    await pipeline.waitForStatus(first, 'indexed', 120_000);

    const stoppedAt = Date.now();
    await stack('down', 'es');
    const during = Array.from({ length: 40 }, (_, i) => `during-${pipeline.id}-${i}`);
    for (const id of during) await submit(id);
    const indexer = pipeline.service('indexer');
    await waitFor(
      'indexer to park records on its retry topic',
      async () => sumMetric(await scrape(indexer.url), 'rag_stage_records_total', { outcome: 'retried' }) > 0,
      60_000,
    );
    const remaining = 60_000 - (Date.now() - stoppedAt);
    if (remaining > 0) await new Promise((r) => setTimeout(r, remaining));
    await stack('up', 'es');
    const restartedAt = Date.now();

    await pipeline.waitForStatus([...first, ...during], 'indexed', 240_000);
    const recoverySeconds = (Date.now() - restartedAt) / 1000;
    const expected = await pipeline.expectIndexedExactlyOnce([...first, ...during]);
    expect(await topicSize(pipeline.kafka, pipeline.topics.dlq('indexer'))).toBe(0);
    const retried = sumMetric(await scrape(indexer.url), 'rag_stage_records_total', { outcome: 'retried' });
    expect(retried).toBeGreaterThan(0);
    console.log(
      `ES outage: ${first.length + during.length} documents, ${expected} chunks indexed, 0 duplicates, 0 dead-lettered, ` +
        `${retried} retry records, outage ${((restartedAt - stoppedAt) / 1000).toFixed(0)} s, caught up ${recoverySeconds.toFixed(1)} s after ES restart`,
    );
  });
});
