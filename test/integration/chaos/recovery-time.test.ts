import type { Admin } from 'kafkajs';
import { seededRandom, textDocument } from '@rag/testkit';
import { FakeOpenAIServer } from '@rag/testkit';
import { scrape, sumMetric } from '@rag/testkit';
import { assignedPartitions, committedOffsets, endOffsets, timeToProgress } from '../../support/offsets';
import { Pipeline } from '../../support/pipeline';
import { waitFor, type ServiceProcess } from '@rag/testkit';

/**
 * How fast a stage's partitions are processed again after an instance dies with kill -9, and
 * that a handler waiting longer than the session timeout on a slow provider does not cost a
 * rebalance. The embedder runs against the fake OpenAI server with added latency, so it is
 * busy (a backlog on every partition) without burning the machine's CPU; progress is read from
 * the consumer group's committed offsets. Session timeout and heartbeat are the defaults
 * (KAFKA_SESSION_TIMEOUT_MS 6000, KAFKA_HEARTBEAT_INTERVAL_MS 1000) unless set in the environment.
 */
interface Readiness {
  details?: Record<string, { assignment?: Record<string, number[]> } | undefined>;
}

describe('recovery after kill -9 of a stage instance', () => {
  const RECOVERY_LIMIT_MS = 10_000;
  const SLOW_PROVIDER_MS = 60_000;
  const random = seededRandom(11);
  let fast: FakeOpenAIServer;
  let slow: FakeOpenAIServer;
  let pipeline: Pipeline;
  let admin: Admin;
  const chunks = () => pipeline.topics.chunks;

  const embedderEnv = (provider: FakeOpenAIServer, groupId: string): Record<string, string> => ({
    KAFKA_GROUP_ID: groupId,
    EMBEDDING_PROVIDER: 'openai',
    OPENAI_API_KEY: 'test-key',
    OPENAI_BASE_URL: provider.baseURL,
    OPENAI_MAX_RETRIES: '0',
    OPENAI_TIMEOUT_MS: String(SLOW_PROVIDER_MS * 2),
    // Short slices and small fetches: every partition commits often and none waits for a worker.
    STAGE_MAX_BATCH_RECORDS: '8',
    STAGE_PARTITIONS_CONCURRENCY: '4',
    STAGE_FETCH_MAX_BYTES_PER_PARTITION: '65536',
  });

  const groupJoins = async (service: ServiceProcess) => sumMetric(await scrape(service.url), 'rag_stage_group_joins_total');

  /** Waits until the group has committed something on every partition of the chunks topic. */
  const waitForCommits = async (groupId: string) =>
    waitFor(`${groupId} to commit on every partition`, async () => {
      const committed = await committedOffsets(admin, groupId, chunks());
      return committed.size === 4 && [...committed.values()].every((o) => o > 0n) && committed;
    });

  beforeAll(async () => {
    fast = await FakeOpenAIServer.start({ latencyMs: 300 });
    slow = await FakeOpenAIServer.start({ latencyMs: SLOW_PROVIDER_MS });
    // Two documents per chunker slice: the chunks land in small record batches, so a fetch of
    // STAGE_FETCH_MAX_BYTES_PER_PARTITION holds a few slices and every partition keeps moving.
    pipeline = new Pipeline({ partitions: 4, serviceEnv: { chunker: { STAGE_MAX_BATCH_RECORDS: '2' } } });
    await pipeline.start(['chunker']);
    admin = pipeline.kafka.admin();
    await admin.connect();
    // A backlog of chunks on every partition, written before any embedder runs.
    const ids = Array.from({ length: 160 }, (_, i) => `recovery-${pipeline.id}-${i}`);
    await Promise.all(ids.map((id) => pipeline.submitText(id, textDocument(random, 12_000, `marker ${id}`))));
    await waitFor(
      'the chunker to finish the backlog',
      async () => {
        const [done, end] = await Promise.all([
          committedOffsets(admin, `rag-chunker-${pipeline.id}`, pipeline.topics.documents),
          endOffsets(admin, pipeline.topics.documents),
        ]);
        return [...end].every(([p, high]) => done.get(p) === high);
      },
      120_000,
      500,
    );
  });

  afterAll(async () => {
    await admin?.disconnect();
    await pipeline?.stop();
    await Promise.all([fast?.close(), slow?.close()]);
  });

  it('hands a killed instance’s partitions to the surviving instance within 10 s', async () => {
    const groupId = `rag-embedder-two-${pipeline.id}`;
    const survivor = await pipeline.startService('embedder', 0, embedderEnv(fast, groupId));
    const victim = await pipeline.startService('embedder', 1, embedderEnv(fast, groupId));
    // Both in the group with two partitions each (readiness does not wait for that; /readyz reports it).
    await waitFor('both embedders to hold partitions', async () => {
      const held = await Promise.all([survivor, victim].map(async (s) => (await fetch(`${s.url}/readyz`)).json() as Promise<Readiness>));
      return held.every((h) => h.details?.['embedder-consumer']?.assignment?.[chunks()]?.length === 2);
    });
    await waitForCommits(groupId);
    const victimPartitions = assignedPartitions(victim.logFile, chunks());
    expect(victimPartitions).toHaveLength(2);

    await victim.kill();
    const killedAt = Date.now();
    const [atKill, end] = await Promise.all([committedOffsets(admin, groupId, chunks()), endOffsets(admin, chunks())]);
    // The measurement means something only if the dead instance's partitions still had work.
    for (const p of victimPartitions) expect(atKill.get(p)!).toBeLessThan(end.get(p)!);

    const moved = await timeToProgress(admin, groupId, chunks(), victimPartitions, atKill, killedAt, 60_000);
    const recoveryMs = Math.max(...moved.values());
    console.log(
      `kill -9 of 1 of 2 embedders: its partitions ${victimPartitions.join(',')} committed again after ${[...moved.values()].map((ms) => `${(ms / 1000).toFixed(1)} s`).join(' / ')}` +
        ` (session timeout ${process.env.KAFKA_SESSION_TIMEOUT_MS ?? 6000} ms)`,
    );
    expect(recoveryMs).toBeLessThanOrEqual(RECOVERY_LIMIT_MS);
    await survivor.kill();
  });

  it('processes again within 10 s of restarting the only instance', async () => {
    const groupId = `rag-embedder-one-${pipeline.id}`;
    const only = await pipeline.startService('embedder', 2, embedderEnv(fast, groupId));
    await waitFor(`${groupId} to commit`, async () => [...(await committedOffsets(admin, groupId, chunks())).values()].some((o) => o > 0n));

    await only.kill();
    const killedAt = Date.now();
    const [atKill, end] = await Promise.all([committedOffsets(admin, groupId, chunks()), endOffsets(admin, chunks())]);
    const pending = [...end.keys()].filter((p) => (atKill.get(p) ?? -1n) < end.get(p)!);
    expect(pending.length).toBeGreaterThan(0);
    const restartedAt = Date.now();
    await only.start();
    const readyMs = Date.now() - restartedAt;
    const moved = await timeToProgress(admin, groupId, chunks(), pending, atKill, restartedAt, 60_000);
    const firstMs = Math.min(...moved.values());
    const allMs = Math.max(...moved.values());
    console.log(
      `kill -9 and restart of the only embedder: ready ${(readyMs / 1000).toFixed(1)} s after the restart, first commit ` +
        `${(firstMs / 1000).toFixed(1)} s, every partition with a backlog (${pending.length}) ${(allMs / 1000).toFixed(1)} s after the restart ` +
        `(restarted ${((restartedAt - killedAt) / 1000).toFixed(1)} s after the kill)`,
    );
    expect(allMs).toBeLessThanOrEqual(RECOVERY_LIMIT_MS);
    await only.kill();
  });

  it(`keeps its group membership while a handler waits ${SLOW_PROVIDER_MS / 1000} s on the provider`, async () => {
    const groupId = `rag-embedder-slow-${pipeline.id}`;
    const embedder = await pipeline.startService('embedder', 3, embedderEnv(slow, groupId));
    await waitFor('a request to the slow provider', async () => slow.requests.length > 0);
    const joinsBefore = await groupJoins(embedder);
    expect(joinsBefore).toBe(1);
    const firstRequestAt = slow.requests[0].at;

    // The first slices finish after two provider round trips: a process's first request is a
    // one-input probe of the rate budgets, and the rest of its slice goes after that answer. Their
    // commits succeed only if this member is still the one the group knows (a dropped member's
    // commit is rejected).
    const firstBatch = await waitFor(
      'the first slow slices to be committed',
      async () => {
        const offsets = await committedOffsets(admin, groupId, chunks());
        return [...offsets.values()].some((o) => o > 0n) && offsets;
      },
      2 * SLOW_PROVIDER_MS + 30_000,
      500,
    );
    const waitedMs = Date.now() - firstRequestAt;
    const joinsAfter = await groupJoins(embedder);
    const retried = slow.requests.filter((r) => (r.retryCount ?? 0) > 0).length;
    const inputs = slow.requests.flatMap((r) => r.inputs);
    console.log(
      `slow provider (${SLOW_PROVIDER_MS / 1000} s per request, session timeout ${process.env.KAFKA_SESSION_TIMEOUT_MS ?? 6000} ms): ` +
        `first slices committed ${(waitedMs / 1000).toFixed(1)} s after the first request; group joins ${joinsBefore} → ${joinsAfter}; ` +
        `${slow.requests.length} requests, ${retried} retried`,
    );
    expect(waitedMs).toBeGreaterThanOrEqual(2 * SLOW_PROVIDER_MS);
    expect([...firstBatch.values()].some((o) => o > 0n)).toBe(true);
    expect(joinsAfter).toBe(joinsBefore);
    expect(retried).toBe(0);
    // No slice was handed to the provider twice (a rebalance would have redelivered it).
    expect(new Set(inputs).size).toBe(inputs.length);
    await embedder.kill();
  }, 240_000);
});
