import { ensureChunkIndex, indexNames } from '@rag/search-index';
import { decodeMarker } from '@rag/stage-runtime';
import { seededRandom, textDocument } from '@rag/testkit';
import { readTopic, topicSize } from '../../support/dlq';
import { scrape, sumMetric } from '@rag/testkit';
import { Pipeline } from '../../support/pipeline';
import { committedOffsets, withAdmin } from '../../support/offsets';
import { freezeWhen, outputsBySource, producedButNotCommitted } from '../../support/redelivery';
import { waitFor } from '@rag/testkit';

type Stage = 'chunker' | 'embedder' | 'indexer';

/** Small slices: many produce→commit windows per document batch, so a freeze finds one before the work is done. */
const SLICE = 4;

/**
 * Scenario 1: each consumer stage is killed with SIGKILL while batches are in flight and then
 * restarted; every document is still indexed exactly once and nothing is dead-lettered.
 *
 * The SIGKILL lands between produce and commit: the stage is frozen (SIGSTOP) until its output
 * topic holds records derived from input records whose offsets are not committed (for the
 * indexer: until Elasticsearch holds chunks of records it has not committed), and killed in that
 * state. The restarted instance must process those records again (the test checks that it did:
 * their outputs are in the topic twice, or the chunks were written twice), so duplicates are
 * possible downstream, and the index must still hold each chunk once.
 */
describe('kill -9 of each stage mid-stream', () => {
  const pipeline = new Pipeline({ partitions: 3, env: { STAGE_MAX_BATCH_RECORDS: String(SLICE) } });
  const random = seededRandom(1);

  beforeAll(async () => {
    await pipeline.start();
  });

  afterAll(async () => {
    await pipeline.stop();
  });

  /**
   * The widest crash-loop marker in the indexer's commits: the offsets in flight on one partition
   * (slices handled and not committed). More than one slice's worth shows the pipeline was full.
   */
  const widestInFlight = async (): Promise<number> => {
    const [committed] = await withAdmin(pipeline.kafka, (admin) =>
      admin.fetchOffsets({ groupId: `rag-indexer-${pipeline.id}`, topics: [pipeline.topics.embeddings] }),
    );
    const spans = (committed?.partitions ?? [])
      .map((p) => decodeMarker(p.metadata))
      .map((m) => (m ? Number(BigInt(m.last) - BigInt(m.first)) + 1 : 0));
    return Math.max(0, ...spans);
  };

  /** Chunks of `ids` in the index beyond those of embeddings records the indexer has committed. */
  const indexedButNotCommitted = async (ids: string[]): Promise<number | undefined> => {
    const topic = pipeline.topics.embeddings;
    const committed = await withAdmin(pipeline.kafka, (admin) => committedOffsets(admin, `rag-indexer-${pipeline.id}`, topic));
    const mine = new Set(ids);
    const records = await readTopic(pipeline.kafka, topic);
    const done = records.filter((r) => r.key !== null && mine.has(r.key) && BigInt(r.offset) < (committed.get(r.partition) ?? 0n)).length;
    await pipeline.refresh();
    const indexed = (await pipeline.es.count({ index: pipeline.alias, query: { terms: { documentId: ids } } })).count;
    return indexed > done ? indexed - done : undefined;
  };

  /** Chunks of `ids` that Elasticsearch has written more than once (`_version` > 1). */
  const writtenTwice = async (ids: string[]): Promise<number> => {
    await pipeline.refresh();
    const res = await pipeline.es.search({
      index: pipeline.alias,
      size: 10_000,
      version: true,
      _source: false,
      query: { terms: { documentId: ids } },
    });
    return res.hits.hits.filter((h) => (h._version ?? 1) > 1).length;
  };

  // 15 minutes each: catching the embedder's kill window took 1,157 freezes (about 10 minutes) in one run.
  it.each<[Stage, 'SIGKILL' | 'SIGTERM']>([
    ['chunker', 'SIGKILL'],
    ['embedder', 'SIGKILL'],
    ['indexer', 'SIGKILL'],
    ['embedder', 'SIGTERM'],
  ])(
    '%s (%s)',
    async (stage, signal) => {
      const ids = Array.from({ length: 120 }, (_, i) => `${stage}-${signal}-${pipeline.id}-${i}`);
      await Promise.all(
        ids.map((id) => pipeline.submitText(id, textDocument(random, 2_000 + Math.floor(random() * 6_000), `marker ${id}`))),
      );
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
      const sources = [pipeline.topics.input(stage), ...pipeline.topics.retryTiers(stage).map((t) => t.topic)];
      const output = { chunker: pipeline.topics.chunks, embedder: pipeline.topics.embeddings, indexer: pipeline.topics.events }[stage];
      let caught = new Map<string, number>();
      if (signal === 'SIGKILL') {
        const uncommitted = async (): Promise<number | undefined> => {
          // The indexer keeps several slices in flight (STAGE_SLICES_IN_FLIGHT): catch it with more than one.
          if (stage === 'indexer') return (await widestInFlight()) > SLICE ? indexedButNotCommitted(ids) : undefined;
          const pending = await producedButNotCommitted(pipeline.kafka, `rag-${stage}-${pipeline.id}`, sources, output);
          caught = pending;
          return pending.size > 0 ? pending.size : undefined;
        };
        // The state is judged again once the killed process's last bytes have arrived; should a
        // commit have slipped through after all, the stage is restarted and caught again.
        let found: number | undefined;
        let freezes = 0;
        for (let kills = 1; kills <= 5 && found === undefined; kills++) {
          const frozen = await freezeWhen(service, uncommitted);
          freezes += frozen.tries;
          await service.kill();
          await new Promise((r) => setTimeout(r, 1_000));
          found = await uncommitted();
          if (found === undefined) await service.start();
        }
        // Without this the test would not show what it claims: a kill between produce and commit.
        expect(found).toBeGreaterThan(0);
        const inFlight = stage === 'indexer' ? `, ${await widestInFlight()} records in flight on one partition` : '';
        console.log(
          `${stage}: killed between produce and commit after ${freezes} freeze(s); ${found} records' effects not committed${inFlight}`,
        );
      } else {
        // Graceful: finishes the in-flight slice, commits, leaves the group, exits 0.
        expect(await service.stop()).toBe(0);
      }
      await new Promise((r) => setTimeout(r, 1_000));
      await service.start();

      await pipeline.waitForStatus(ids, 'indexed', 180_000);
      const expected = await pipeline.expectIndexedExactlyOnce(ids);
      for (const s of ['chunker', 'embedder', 'indexer'] as const) expect(await topicSize(pipeline.kafka, pipeline.topics.dlq(s))).toBe(0);
      let redelivered = 0;
      if (signal === 'SIGKILL') {
        // The redelivery happened: each caught record's outputs are in the output topic twice now.
        if (stage === 'indexer') {
          redelivered = await writtenTwice(ids);
          expect(redelivered).toBeGreaterThan(0);
        } else {
          const after = await outputsBySource(pipeline.kafka, output, sources);
          redelivered = [...caught].filter(([key, n]) => (after.get(key) ?? 0) >= 2 * n).length;
          expect(redelivered).toBe(caught.size);
        }
      }
      console.log(
        `${signal} ${stage} after ${doneAtKill} records: ${ids.length} documents, ${redelivered} records processed twice, ` +
          `${expected} chunks indexed, 0 duplicates, 0 dead-lettered`,
      );
    },
    900_000,
  );
});

/** The exactly-once check above must be able to fail: a chunk stored under two ids is reported. */
describe('the duplicate check', () => {
  const pipeline = new Pipeline();

  afterAll(async () => {
    await pipeline.es.indices.delete({ index: indexNames(pipeline.alias).firstIndex, ignore_unavailable: true });
    await pipeline.stop();
  });

  it('reports a (document, chunk) stored twice', async () => {
    await ensureChunkIndex(pipeline.es, pipeline.alias, pipeline.dimensions, { replicas: 0 });
    for (const id of ['first-copy', 'second-copy']) {
      await pipeline.es.index({ index: pipeline.alias, id, document: { documentId: `dup-${pipeline.id}`, chunkIndex: 0 } });
    }
    expect(await pipeline.duplicateChunks()).toEqual([`dup-${pipeline.id}#0`]);
  });
});
