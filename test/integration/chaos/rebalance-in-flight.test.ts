import { seededRandom, textDocument, waitFor, type ServiceProcess } from '@rag/testkit';
import { topicSize } from '../../support/dlq';
import { Pipeline } from '../../support/pipeline';

/** How many of a service's log entries say `message`. */
const logLines = (service: ServiceProcess, message: string): number =>
  service.recentLogLines(Infinity, (entry) => String(entry.msg).includes(message)).length;

/**
 * The indexer keeps several slices in flight per partition (STAGE_SLICES_IN_FLIGHT); a rebalance
 * drops the ones not committed, and the partition's new owner finds their crash-loop marker.
 * That marker names a live member, so it must not be taken for a death: no record is handled
 * one at a time, none is dead-lettered, and every document is indexed exactly once. The test
 * adds a second indexer while documents stream, until a partition moved with slices in flight
 * (the new owner logs that it found such a marker), and shows nobody took it for a crash, and no
 * consumer was rebuilt for a commit the rebalance refused (it would rejoin as a new member).
 */
describe('rebalance with slices in flight', () => {
  const pipeline = new Pipeline({ partitions: 4, serviceEnv: { indexer: { STAGE_MAX_BATCH_RECORDS: '4' } } });
  const random = seededRandom(21);

  beforeAll(async () => {
    await pipeline.start();
  });

  afterAll(async () => {
    await pipeline.stop();
  });

  it('does not count the dropped slices as a death when a second indexer joins', async () => {
    const ids: string[] = [];
    let moved = 0;
    let attempts = 0;
    for (; attempts < 5 && moved === 0; attempts++) {
      const batch = Array.from({ length: 60 }, (_, i) => `rebalance-${pipeline.id}-${attempts}-${i}`);
      ids.push(...batch);
      const submitting = Promise.all(batch.map((id) => pipeline.submitText(id, textDocument(random, 6_000, `marker ${id}`))));
      // Join while the first indexer is busy with this batch: some chunks written, most not.
      await waitFor(
        'the indexer to be busy with the batch',
        async () => {
          const answers = await Promise.all(batch.slice(0, 10).map((id) => pipeline.status(id)));
          return answers.some((a) => (a?.indexedChunks ?? 0) > 0);
        },
        120_000,
        50,
      );
      const second = await pipeline.startService('indexer', 1);
      await submitting;
      await pipeline.waitForStatus(batch, 'indexed', 180_000);
      moved = logLines(second, 'moved from a live member');
      if (moved === 0) expect(await second.stop()).toBe(0);
    }
    // Without this the test would not show what it claims: a partition moved with slices in flight.
    expect(moved).toBeGreaterThan(0);
    const indexers = [0, 1].map((i) => pipeline.service('indexer', i));
    expect(indexers.map((indexer) => logLines(indexer, 'died handling this slice'))).toEqual([0, 0]);
    // A commit the rebalance refused is waited out; a rebuilt consumer would rejoin as a new member.
    expect(indexers.map((indexer) => logLines(indexer, 'rebuilding the consumer'))).toEqual([0, 0]);
    const refused = indexers.map((indexer) => logLines(indexer, 'commit refused by a rebalance'));
    expect(await topicSize(pipeline.kafka, pipeline.topics.dlq('indexer'))).toBe(0);
    const chunks = await pipeline.expectIndexedExactlyOnce(ids);
    console.log(
      `rebalance: a partition moved with slices in flight after ${attempts} join(s) (${moved} marker(s) of a live member, ` +
        `${refused[0] + refused[1]} commit(s) refused by the rebalance); ` +
        `${ids.length} documents, ${chunks} chunks indexed once, 0 handled as a crash, 0 dead-lettered`,
    );
  }, 900_000);
});
