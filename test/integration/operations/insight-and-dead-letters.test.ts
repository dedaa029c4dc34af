import { ContractSerde, CONSUMER_STAGES, type ConsumerStage } from '@rag/contracts';
import { DeadLetters } from '@rag/dead-letters';
import { PipelineInsight, stageRates, type PipelineSnapshot } from '@rag/pipeline-insight';
import { seededRandom, STACK, textDocument, waitFor } from '@rag/testkit';
import { Pipeline } from '../../support/pipeline';

/**
 * The operator APIs the console and the CLI share, against a running pipeline: the pipeline's
 * progress as Kafka sees it (instances, lag, records per stage, dead letters) and the DLQ
 * operations (counts by reason, decoded records, replay, purge).
 */
describe('pipeline insight and dead letters', () => {
  const pipeline = new Pipeline({ partitions: 2 });
  const random = seededRandom(21);
  let insight: PipelineInsight;
  let deadLetters: DeadLetters;

  beforeAll(async () => {
    await pipeline.start();
    const groups = Object.fromEntries(CONSUMER_STAGES.map((s) => [s, `rag-${s}-${pipeline.id}`])) as Record<ConsumerStage, string>;
    insight = new PipelineInsight(pipeline.kafka, pipeline.topics, groups);
    deadLetters = new DeadLetters(pipeline.kafka, pipeline.topics, ContractSerde.connect(STACK.registryUrl), pipeline.prefix);
  });

  afterAll(async () => {
    await insight?.close();
    await pipeline.stop();
  });

  const stageOf = (snapshot: PipelineSnapshot, stage: ConsumerStage) => {
    const found = snapshot.stages.find((s) => s.stage === stage);
    if (!found) throw new Error(`no ${stage} in snapshot`);
    return found;
  };

  it('counts instances, finished records, lag and dead letters per stage, and rates between snapshots', async () => {
    await waitFor('every stage group stable with one member', async () => {
      const s = await insight.snapshot();
      return s.stages.every((st) => st.state === 'Stable' && st.instances === 1);
    });
    const before = await insight.snapshot();
    const good = Array.from({ length: 4 }, (_, i) => `good-${pipeline.id}-${i}`);
    for (const id of good) await pipeline.submitText(id, textDocument(random, 4_000, `phrase ${id}`));
    await pipeline.produceRaw(pipeline.topics.documents, 'poison-bytes', Buffer.from('not avro at all'));
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
    await pipeline.waitForIdle();
    const after = await insight.snapshot();
    const chunks = await pipeline.expectIndexedExactlyOnce(good);

    expect(after.submitted - before.submitted).toBe(6);
    expect(stageOf(after, 'chunker').consumed - stageOf(before, 'chunker').consumed).toBe(6);
    expect(stageOf(after, 'embedder').consumed - stageOf(before, 'embedder').consumed).toBe(chunks);
    expect(stageOf(after, 'indexer').consumed - stageOf(before, 'indexer').consumed).toBe(chunks);
    for (const stage of after.stages) {
      expect(stage.lag).toBe(0);
      expect(stage.retried).toBe(0);
    }
    expect(stageOf(after, 'chunker').deadLettered).toBe(2);
    expect(stageOf(after, 'chunker').deadLetters).toBe(2);

    const rates = stageRates(before, after);
    const seconds = (after.at - before.at) / 1000;
    expect(rates.find((r) => r.stage === 'embedder')?.recordsPerSecond).toBeCloseTo(chunks / seconds, 6);
    expect(rates.find((r) => r.stage === 'chunker')?.deadLettersPerSecond).toBeCloseTo(2 / seconds, 6);
  });

  it('summarises, decodes, replays and purges a stage DLQ', async () => {
    const summary = await deadLetters.summary('chunker');
    expect(summary).toMatchObject({ records: 2, documents: 2 });
    expect(summary.reasons.map((r) => r.count).reduce((a, b) => a + b, 0)).toBe(2);

    const records = await deadLetters.inspect('chunker');
    const empty = records.find((r) => r.key === 'poison-empty');
    expect(empty?.value).toMatchObject({ documentId: 'poison-empty', contentType: 'text/plain' });
    expect(empty?.errorClass).toBeTruthy();
    expect(records.find((r) => r.key === 'poison-bytes')?.value).toHaveProperty('undecodable');

    const dryRun = await deadLetters.replay('chunker', { dryRun: true });
    expect(dryRun).toMatchObject({ dryRun: true, replayed: 0 });
    expect(dryRun.records.map((r) => r.target)).toEqual([pipeline.topics.documents, pipeline.topics.documents]);

    // Replayed, the empty document fails again: it comes back to the DLQ, a third record.
    const replayed = await deadLetters.replay('chunker', { document: 'poison-empty' });
    expect(replayed.replayed).toBe(1);
    await waitFor('the replayed record dead-lettered again', async () => (await deadLetters.count('chunker')) === 3);
    // Replaying "what was not replayed yet" skips nothing here: no group offsets were stored for a per-document replay.
    expect((await deadLetters.replay('chunker', { dryRun: true })).records).toHaveLength(3);

    expect(await deadLetters.purge('chunker')).toEqual({ topic: pipeline.topics.dlq('chunker'), purged: 3 });
    expect(await deadLetters.count('chunker')).toBe(0);
    expect((await deadLetters.summary('chunker')).records).toBe(0);
  });
});
