import { Client } from '@elastic/elasticsearch';
import type { DocumentSubmitted } from '@rag/contracts';
import { Queue } from 'bullmq';
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { STACK, uniqueSuffix } from '@rag/testkit';
import type { BaselineJob } from './baseline-worker';
import { RedisServer } from './redis';
import { peakRssMiB, round, sleep } from './stats';

export interface BaselineTrial {
  processes: number;
  concurrency: number;
  documents: number;
  chunks: number;
  failed: number;
  seconds: number;
  documentsPerSec: number;
  chunksPerSec: number;
  peakRssMiB: number;
}

export interface BaselineResult {
  best: BaselineTrial;
  trials: BaselineTrial[];
}

/** "2x8" → 2 worker processes with concurrency 8 each. */
export function parseWorkerConfigs(spec: string): { processes: number; concurrency: number }[] {
  return spec.split(',').map((s) => {
    const [p, c] = s.trim().split('x').map(Number);
    if (!(p >= 1 && c >= 1)) throw new Error(`bad baseline config "${s}" (want PROCESSESxCONCURRENCY)`);
    return { processes: p, concurrency: c };
  });
}

export async function runBaseline(
  corpus: DocumentSubmitted[],
  configs: { processes: number; concurrency: number }[],
  dimensions: number,
  log: (l: string) => void,
  /** Extra worker environment, e.g. the embedding provider's settings. */
  workerEnv: Record<string, string> = {},
): Promise<BaselineResult> {
  const redis = await RedisServer.start();
  const trials: BaselineTrial[] = [];
  try {
    for (const config of configs) {
      trials.push(await trial(redis, corpus, config.processes, config.concurrency, dimensions, workerEnv));
      const t = trials[trials.length - 1];
      log(`baseline: ${t.processes} process(es) x concurrency ${t.concurrency}: ${t.documentsPerSec} docs/s, ${t.chunksPerSec} chunks/s`);
    }
  } finally {
    await redis.stop();
  }
  const best = trials.reduce((a, b) => (b.documentsPerSec > a.documentsPerSec ? b : a));
  return { best, trials };
}

async function trial(
  redis: RedisServer,
  corpus: DocumentSubmitted[],
  processes: number,
  concurrency: number,
  dimensions: number,
  workerEnv: Record<string, string>,
): Promise<BaselineTrial> {
  const id = uniqueSuffix();
  const queueName = `bench-${id}`;
  const alias = `rag-chunks-baseline${id}`;
  const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
  const queue = new Queue<BaselineJob, number>(queueName, { connection });
  const workers: ChildProcess[] = [];
  const es = new Client({ node: STACK.elasticsearchUrl });
  try {
    // Pre-filled like the pipeline's input topic: one job per document.
    for (let i = 0; i < corpus.length; i += 500) {
      await queue.addBulk(
        corpus.slice(i, i + 500).map((d) => ({
          name: 'document',
          data: {
            documentId: d.documentId,
            version: d.version,
            title: d.title,
            contentType: d.contentType,
            content: d.content.toString('utf8'),
            metadata: d.metadata,
            submittedAt: Date.now(),
          },
          opts: { attempts: 3, removeOnComplete: false },
        })),
      );
    }
    const env = {
      ...process.env,
      REDIS_PORT: String(redis.port),
      QUEUE: queueName,
      CONCURRENCY: String(concurrency),
      ES_INDEX_ALIAS: alias,
      ELASTICSEARCH_URL: STACK.elasticsearchUrl,
      EMBEDDING_DIMENSIONS: String(dimensions),
      ...workerEnv,
    };
    for (let p = 0; p < processes; p++) {
      const child = fork(join(__dirname, 'baseline-worker.js'), [], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      workers.push(child);
    }
    let peak = 0;
    for (;;) {
      const counts = await queue.getJobCounts('completed', 'failed');
      for (const w of workers) peak = Math.max(peak, (await peakRssMiB(w.pid)) ?? 0);
      if ((counts.completed ?? 0) + (counts.failed ?? 0) >= corpus.length) break;
      if (workers.every((w) => w.exitCode !== null)) throw new Error('all baseline workers exited');
      await sleep(200);
    }
    const completed = await queue.getJobs(['completed'], 0, -1);
    const finished = completed.map((j) => j.finishedOn ?? 0).filter((t) => t > 0);
    const first = Math.min(...completed.map((j) => j.processedOn ?? Infinity));
    const last = Math.max(...finished);
    const seconds = Math.max(0.001, (last - first) / 1000);
    const chunks = completed.reduce((n, j) => n + (j.returnvalue ?? 0), 0);
    return {
      processes,
      concurrency,
      documents: completed.length,
      chunks,
      failed: corpus.length - completed.length,
      seconds: round(seconds, 2),
      documentsPerSec: round(completed.length / seconds),
      chunksPerSec: round(chunks / seconds),
      peakRssMiB: round(peak),
    };
  } finally {
    await Promise.all(
      workers.map(async (w) => {
        if (w.exitCode !== null) return;
        const exited = new Promise((r) => w.once('exit', r));
        w.kill('SIGTERM');
        const timer = setTimeout(() => w.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await es.indices.delete({ index: `${alias}-*`, ignore_unavailable: true, allow_no_indices: true }).catch(() => undefined);
    await es.indices.deleteIndexTemplate({ name: `${alias}-template` }).catch(() => undefined);
    await es.close();
  }
}
