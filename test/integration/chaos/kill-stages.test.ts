import { seededRandom, textDocument } from '../../support/corpus';
import { topicSize } from '../../support/dlq';
import { scrape, sumMetric } from '../../support/metrics';
import { Pipeline } from '../../support/pipeline';
import { waitFor, type ServiceName } from '../../support/services';

/**
 * Scenario 1: each consumer stage is killed with SIGKILL while batches are in flight and then
 * restarted; every document is still indexed exactly once and nothing is dead-lettered.
 */
describe('kill -9 of each stage mid-stream', () => {
  // Small slices so a kill lands between produce and commit of some slice.
  const pipeline = new Pipeline({ partitions: 3, env: { STAGE_MAX_BATCH_RECORDS: '16' } });
  const random = seededRandom(1);

  beforeAll(async () => {
    await pipeline.start();
  });

  afterAll(async () => {
    await pipeline.stop();
  });

  it.each<[ServiceName, 'SIGKILL' | 'SIGTERM']>([
    ['chunker', 'SIGKILL'],
    ['embedder', 'SIGKILL'],
    ['indexer', 'SIGKILL'],
    ['embedder', 'SIGTERM'],
  ])('%s (%s)', async (stage, signal) => {
    const ids = Array.from({ length: 120 }, (_, i) => `${stage}-${signal}-${pipeline.id}-${i}`);
    await Promise.all(ids.map((id) => pipeline.submitText(id, textDocument(random, 2_000 + Math.floor(random() * 6_000), `marker ${id}`))));
    const service = pipeline.service(stage);
    // Kill once the stage has done some of the work, not all of it.
    const before = sumMetric(await scrape(service.url), 'rag_stage_records_total', { stage });
    let doneAtKill = 0;
    await waitFor(
      `${stage} to be mid-stream`,
      async () => {
        doneAtKill = sumMetric(await scrape(service.url), 'rag_stage_records_total', { stage }) - before;
        return doneAtKill > 0;
      },
      60_000,
      20,
    );
    if (signal === 'SIGKILL') {
      await service.kill();
    } else {
      // Graceful: finishes the in-flight slice, commits, leaves the group, exits 0.
      expect(await service.stop()).toBe(0);
    }
    await new Promise((r) => setTimeout(r, 1_000));
    await service.start();

    await pipeline.waitForStatus(ids, 'indexed', 180_000);
    const expected = await pipeline.expectIndexedExactlyOnce(ids);
    for (const s of ['chunker', 'embedder', 'indexer'] as const) expect(await topicSize(pipeline.kafka, pipeline.topics.dlq(s))).toBe(0);
    console.log(
      `${signal} ${stage} after ${doneAtKill} records: ${ids.length} documents, ${expected} chunks indexed, 0 duplicates, 0 dead-lettered`,
    );
  });
});
