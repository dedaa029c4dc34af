import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Headers } from '@rag/contracts';
import { seededRandom, textDocument } from '@rag/testkit';
import { readTopic } from '../../support/dlq';
import { PATHOLOGICAL_DOCUMENTS } from '../../support/pathological-documents';
import { Pipeline } from '../../support/pipeline';
import { waitFor } from '@rag/testkit';

const NODE_OPTIONS = readFileSync(join(__dirname, '..', '..', '..', 'deploy', 'node-options'), 'utf8').trim();
/** Below the default (3) to keep the test short: each death costs a consumer session timeout (~30 s) before the restarted instance gets the partition. */
const MAX_DEATHS = 2;

/**
 * Issue 11: a record that kills the process whatever the handler does must not crash-loop the
 * stage. The chunker runs here without parse workers (CHUNKER_WORKERS=0) and with the
 * production heap (deploy/node-options), so the nested-HTML document really exhausts its heap
 * and kills it. The test restarts the chunker each time it dies, as Kubernetes would; the
 * crash-loop guard (commit metadata in Kafka) must dead-letter the document after
 * STAGE_CRASH_LOOP_MAX_DEATHS deaths, and the documents around it must be indexed exactly once.
 */
describe('crash loop guard', () => {
  const pipeline = new Pipeline({
    partitions: 1,
    serviceEnv: { chunker: { CHUNKER_WORKERS: '0', NODE_OPTIONS, STAGE_CRASH_LOOP_MAX_DEATHS: String(MAX_DEATHS) } },
  });

  beforeAll(async () => {
    await pipeline.start();
  });

  afterAll(async () => {
    await pipeline.stop();
  });

  it('dead-letters a document that kills the chunker every time, after N deaths, and indexes the others', async () => {
    const random = seededRandom(12);
    const before = Array.from({ length: 3 }, (_, i) => `before-${pipeline.id}-${i}`);
    const after = Array.from({ length: 3 }, (_, i) => `after-${pipeline.id}-${i}`);
    const killer = `killer-${pipeline.id}`;
    const nested = PATHOLOGICAL_DOCUMENTS.find((d) => d.shape === 'nested-html')!;
    // One partition: the killer sits between the others in one log, as in the issue.
    for (const id of before) await pipeline.submitText(id, textDocument(random, 2_000, id));
    await pipeline.produceDocument({
      documentId: killer,
      version: 1,
      title: null,
      contentType: nested.contentType,
      content: nested.content(),
      source: 'test',
      metadata: {},
      submittedAt: Date.now(),
    });
    for (const id of after) await pipeline.submitText(id, textDocument(random, 2_000, id));

    // Supervise the chunker like a container runtime: restart it whenever it dies.
    const chunker = pipeline.service('chunker');
    const pids = new Set<number>();
    let deaths = 0;
    await waitFor(
      `${killer} to be failed`,
      async () => {
        if (chunker.pid) pids.add(chunker.pid);
        if (!chunker.running) {
          deaths += 1;
          await chunker.start().catch(() => undefined); // it may die again before it is ready
          return false;
        }
        return (await pipeline.status(killer))?.status === 'failed';
      },
      360_000,
      200,
    );

    // The fault was real: the document killed the process, each time, until the guard stepped in.
    expect(deaths).toBeGreaterThanOrEqual(MAX_DEATHS);
    expect(pids.size).toBeGreaterThan(MAX_DEATHS);
    expect(readFileSync(chunker.logFile, 'utf8')).toMatch(/heap out of memory/);

    const status = await pipeline.status(killer);
    expect(status?.failures[0]).toMatchObject({ stage: 'chunker', reason: `crashed the stage ${MAX_DEATHS} times` });
    const dlq = await readTopic(pipeline.kafka, pipeline.topics.dlq('chunker'));
    expect(dlq.map((r) => r.key)).toEqual([killer]);
    expect(dlq[0].headers[Headers.errorKind]).toBe('permanent');
    expect(dlq[0].value?.length).toBeGreaterThan(nested.content().length); // the original record, bytes kept

    await pipeline.waitForStatus([...before, ...after], 'indexed', 120_000);
    await pipeline.expectIndexedExactlyOnce([...before, ...after]);
    expect(chunker.running).toBe(true);
  }, 480_000);
});
