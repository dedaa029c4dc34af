import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom, textDocument } from '@rag/testkit';
import { topicSize } from '../../support/dlq';
import { endOffsets, withAdmin } from '../../support/offsets';
import { Pipeline } from '../../support/pipeline';
import { stack } from '../../support/stack';

/**
 * A 3-broker Kafka cluster (scripts/stack/stack.sh with STACK_KAFKA_BROKERS=3: replication
 * factor 3, min.insync.replicas=2) of the test's own, on its own ports and STACK_DIR, so it runs
 * beside the single-broker stack; the registry and Elasticsearch are the shared ones. While
 * documents stream through, the leader of a busy partition is killed with SIGKILL: every
 * document is still indexed exactly once, nothing is dead-lettered, and the partition is led
 * by another broker afterwards.
 */
const REPO = join(__dirname, '..', '..', '..');
const BASE_PORT = Number(process.env.THREE_BROKER_TEST_PORT ?? 29092);
const CLUSTER_ENV = {
  STACK_DIR: join(REPO, '.stack', 'three-broker-test'),
  STACK_CACHE: process.env.STACK_CACHE ?? join(REPO, '.stack', 'cache'),
  STACK_KAFKA_BROKERS: '3',
  STACK_KAFKA_PORT: String(BASE_PORT),
  STACK_KAFKA_CONTROLLER_PORT: String(BASE_PORT + 1),
};
// Node n listens on STACK_KAFKA_PORT + 100·(n-1).
const BROKERS = [0, 1, 2].map((i) => `127.0.0.1:${BASE_PORT + 100 * i}`);

describe('3-broker cluster: kill -9 of a partition leader mid-stream', () => {
  const pipeline = new Pipeline({ partitions: 3, brokers: BROKERS, replicationFactor: 3 });
  const random = seededRandom(7);
  let started = false;

  beforeAll(async () => {
    // A fresh cluster every run; the unpacked Kafka under dist/ is kept.
    rmSync(join(CLUSTER_ENV.STACK_DIR, 'data'), { recursive: true, force: true });
    await stack('up', 'kafka', CLUSTER_ENV);
    started = true;
    await pipeline.start();
  });

  afterAll(async () => {
    await pipeline.stop();
    if (started) await stack('down', 'kafka', CLUSTER_ENV);
  });

  it('indexes every document exactly once when the leader of a busy partition dies', async () => {
    const ids = Array.from({ length: 120 }, (_, i) => `leader-kill-${pipeline.id}-${i}`);
    const submit = async (from: number, to: number) => {
      for (const id of ids.slice(from, to)) {
        await pipeline.submitText(id, textDocument(random, 3_000 + Math.floor(random() * 3_000), `marker ${id}`));
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await submit(0, 50);

    // The busiest hop: the chunks topic. Its partition 0 leader dies while records keep coming.
    const topic = pipeline.topics.chunks;
    const leaderOf = async (partition: number) =>
      withAdmin(pipeline.kafka, async (admin) => {
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
        return topics[0].partitions.find((p) => p.partitionId === partition)!;
      });
    const before = await leaderOf(0);
    expect(before.replicas).toHaveLength(3);
    const endBefore = (await withAdmin(pipeline.kafka, (admin) => endOffsets(admin, topic))).get(0)!;
    expect(endBefore).toBeGreaterThan(0n);

    const killOutput = await stack('kill', `kafka-${before.leader}`, CLUSTER_ENV);
    const killedAt = Date.now();
    expect(killOutput).toMatch(new RegExp(`kafka-${before.leader}: killed pid \\d+`));
    await submit(50, ids.length);
    const submittedMs = Date.now() - killedAt;

    await pipeline.waitForStatus(ids, 'indexed', 300_000);
    const caughtUpMs = Date.now() - killedAt;
    const expected = await pipeline.expectIndexedExactlyOnce(ids);
    for (const s of ['chunker', 'embedder', 'indexer'] as const) expect(await topicSize(pipeline.kafka, pipeline.topics.dlq(s))).toBe(0);

    // The fault really happened: another broker leads the partition, and it took writes.
    const after = await leaderOf(0);
    expect(after.leader).not.toBe(before.leader);
    expect(after.isr).not.toContain(before.leader);
    const endAfter = (await withAdmin(pipeline.kafka, (admin) => endOffsets(admin, topic))).get(0)!;
    expect(endAfter).toBeGreaterThan(endBefore);
    console.log(
      `3 brokers, leader kafka-${before.leader} of ${topic}[0] killed after 50 of ${ids.length} documents; new leader kafka-${after.leader}; ` +
        `the other ${ids.length - 50} submitted ${(submittedMs / 1000).toFixed(1)} s after the kill; all indexed ${(caughtUpMs / 1000).toFixed(1)} s ` +
        `after the kill: ${expected} chunks, 0 lost, 0 duplicated, 0 dead-lettered`,
    );
  });
});
