import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Headers } from '@rag/contracts';
import { paragraph, seededRandom } from '@rag/testkit';
import { readRetryTiers, readTopic } from '../../support/dlq';
import { PATHOLOGICAL_DOCUMENTS } from '../../support/pathological-documents';
import { Pipeline } from '../../support/pipeline';
import { waitFor, type ServiceName } from '@rag/testkit';

/** The services' heap in production (the container image sets it); the parse workers' heaps come on top. */
const NODE_OPTIONS = readFileSync(join(__dirname, '..', '..', '..', 'deploy', 'node-options'), 'utf8').trim();
const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;
const PARSE_TIMEOUT_MS = 10_000;
const PARSE_MAX_MEMORY_MB = 128;
const FILE_NAMES: Record<string, string> = {
  'text/html': 'page.html',
  'text/plain': 'notes.txt',
  'text/markdown': 'guide.md',
  'application/json': 'export.json',
};
/** The reasons a pathological document may be dead-lettered with: a budget, or a limit of the content. */
const ACCEPTED_REASONS = new RegExp(
  [
    `^parse exceeded ${PARSE_MAX_MEMORY_MB} MiB$`,
    `^parse exceeded ${PARSE_TIMEOUT_MS / 1000} s$`,
    '^JSON document nested deeper than \\d+ levels$',
    '^HTML document nested too deeply to read$',
    'above CHUNK_MAX_PER_DOCUMENT',
  ].join('|'),
);

/**
 * Issue 11: documents under MAX_DOCUMENT_BYTES that exhaust the chunker's heap, loop for minutes
 * or overflow its stack when parsed in the service's own thread (measured: four of the six kill
 * a 160 MiB process, one runs for more than a minute, one overflows the stack). A stack overflow
 * is no reason a user can act on: the readers reject what would overflow (JSON and HTML nesting)
 * and never spread unbounded arrays into calls, so "Maximum call stack size exceeded" fails this test. Uploaded through
 * the gateway, each must end `failed` with a clear reason (or `indexed`), the chunker must stay
 * up the whole time (same pid, /healthz always answering), and an ordinary document sent after
 * them must be indexed.
 */
describe('pathological documents', () => {
  const pipeline = new Pipeline({
    partitions: 2,
    serviceEnv: {
      chunker: {
        NODE_OPTIONS,
        CHUNKER_PARSE_TIMEOUT_MS: String(PARSE_TIMEOUT_MS),
        CHUNKER_PARSE_MAX_MEMORY_MB: String(PARSE_MAX_MEMORY_MB),
      },
    },
  });
  const healthFailures: string[] = [];
  let healthChecks = 0;
  let watching = true;
  let watcher: Promise<void> | undefined;

  beforeAll(async () => {
    await pipeline.start();
    const chunker = pipeline.service('chunker');
    watcher = (async () => {
      while (watching) {
        try {
          const res = await fetch(`${chunker.url}/healthz`, { signal: AbortSignal.timeout(2_000) });
          if (!res.ok) healthFailures.push(`${new Date().toISOString()} HTTP ${res.status}`);
        } catch (err) {
          healthFailures.push(`${new Date().toISOString()} ${String(err)}`);
        }
        healthChecks += 1;
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
  });

  afterAll(async () => {
    watching = false;
    await watcher;
    await pipeline.stop();
  });

  async function upload(documentId: string, content: Buffer, contentType: string): Promise<void> {
    const form = new FormData();
    form.append('file', new Blob([content], { type: contentType }), FILE_NAMES[contentType]);
    form.append('documentId', documentId);
    const res = await fetch(`${pipeline.gatewayUrl}/v1/documents`, { method: 'POST', body: form });
    expect({ documentId, status: res.status, body: res.status === 202 ? '' : await res.text() }).toEqual({
      documentId,
      status: 202,
      body: '',
    });
  }

  async function terminalStatus(documentId: string) {
    return waitFor(
      `${documentId} to be indexed or failed`,
      async () => {
        const s = await pipeline.status(documentId);
        return s && (s.status === 'indexed' || s.status === 'failed') ? s : undefined;
      },
      120_000,
      500,
    );
  }

  it('dead-letters each with its reason while the chunker stays up, then indexes an ordinary document', async () => {
    const pids = new Map(
      (['gateway', 'chunker', 'embedder', 'indexer'] as ServiceName[]).map((name) => [name, pipeline.service(name).pid]),
    );
    const outcomes: { shape: string; bytes: number; status: string; reason: string; ms: number }[] = [];

    // One at a time, so each document is its own slice and its outcome is timed on its own.
    for (const doc of PATHOLOGICAL_DOCUMENTS) {
      const documentId = `${doc.shape}-${pipeline.id}`;
      const content = doc.content();
      expect(content.length).toBeLessThan(MAX_DOCUMENT_BYTES);
      const started = Date.now();
      await upload(documentId, content, doc.contentType);
      const status = await terminalStatus(documentId);
      const reason = status.failures[0]?.reason ?? '';
      outcomes.push({ shape: doc.shape, bytes: content.length, status: status.status, reason, ms: Date.now() - started });
      if (status.status === 'failed') {
        expect({ shape: doc.shape, stage: status.failures[0].stage, reason }).toEqual({
          shape: doc.shape,
          stage: 'chunker',
          reason: expect.stringMatching(ACCEPTED_REASONS),
        });
      }
    }
    console.log(`pathological documents:\n${outcomes.map((o) => JSON.stringify(o)).join('\n')}`);

    const ordinary = `ordinary-${pipeline.id}`;
    const random = seededRandom(11);
    await upload(ordinary, Buffer.from(Array.from({ length: 20 }, () => paragraph(random)).join('\n\n')), 'text/plain');
    await pipeline.waitForStatus([ordinary], 'indexed', 60_000);
    await pipeline.expectIndexedExactlyOnce([ordinary]);

    // The faults were real: budgets were hit, not every document was simply accepted.
    const failed = outcomes.filter((o) => o.status === 'failed');
    expect(failed.some((o) => /MiB$/.test(o.reason))).toBe(true);
    expect(failed.some((o) => /exceeded \d+ s$/.test(o.reason))).toBe(true);

    // Dead-lettered at once as permanent: no retries, the original bytes kept.
    const dlq = await readTopic(pipeline.kafka, pipeline.topics.dlq('chunker'));
    expect(dlq.map((r) => r.key).sort()).toEqual(failed.map((o) => `${o.shape}-${pipeline.id}`).sort());
    for (const record of dlq) {
      expect(record.headers[Headers.errorKind]).toBe('permanent');
      expect(record.headers[Headers.retryAttempt]).toBe('0');
    }
    expect(await readRetryTiers(pipeline.kafka, pipeline.topics, 'chunker')).toEqual([]);

    // No stage process restarted and the chunker's liveness answered throughout.
    for (const [name, pid] of pids) {
      expect({ name, pid: pipeline.service(name).pid, running: pipeline.service(name).running }).toEqual({ name, pid, running: true });
    }
    expect(healthChecks).toBeGreaterThan(20);
    expect(healthFailures).toEqual([]);
  });
});
