import { seededRandom, textDocument } from '../../support/corpus';
import { topicSize } from '../../support/dlq';
import { Pipeline } from '../../support/pipeline';
import { stack } from '../../support/stack';

/**
 * Scenario 5: the schema registry, then the Kafka broker, restarted while documents stream
 * through. The services reconnect on their own; nothing is lost, duplicated or dead-lettered.
 */
describe('schema registry and broker restarts', () => {
  const pipeline = new Pipeline({ partitions: 2 });
  const random = seededRandom(5);
  let produced: string[] = [];
  let sequence = 0;

  const submitBatch = async (label: string, n: number) => {
    for (let i = 0; i < n; i++) {
      const id = `${label}-${pipeline.id}-${sequence++}`;
      await pipeline.submitText(id, textDocument(random, 3_000, `marker ${id}`));
      produced.push(id);
    }
  };

  beforeAll(async () => {
    await pipeline.start(['indexer', 'embedder', 'chunker', 'gateway']);
  });

  afterAll(async () => {
    await pipeline.stop();
  });

  const verify = async (what: string, restartedAt: number) => {
    await pipeline.waitForStatus(produced, 'indexed', 240_000);
    const expected = await pipeline.expectIndexedExactlyOnce(produced);
    for (const s of ['chunker', 'embedder', 'indexer'] as const) expect(await topicSize(pipeline.kafka, pipeline.topics.dlq(s))).toBe(0);
    console.log(
      `${what}: ${produced.length} documents, ${expected} chunks indexed, 0 duplicates, 0 dead-lettered, all indexed ${((Date.now() - restartedAt) / 1000).toFixed(1)} s after the restart`,
    );
  };

  it('survives a schema registry restart mid-stream', async () => {
    await submitBatch('reg', 30);
    const restartedAt = Date.now();
    await stack('restart', 'registry');
    await submitBatch('reg-after', 20);
    await verify('registry restart', restartedAt);
  });

  it('survives a Kafka broker restart mid-stream', async () => {
    produced = [];
    await submitBatch('broker', 30);
    const restartedAt = Date.now();
    await stack('restart', 'kafka');
    // The test's own producer reconnects too (kafkajs retries).
    await submitBatch('broker-after', 20);
    await verify('broker restart', restartedAt);
  });
});
