import { ContractSerde, type ConsumerStage, type ContractName, type ContractTypes, type EmbeddedChunk } from '@rag/contracts';
import type { Admin } from 'kafkajs';
import { STACK } from '@rag/testkit';
import { BenchPipeline, type BenchRunOptions } from './bench-pipeline';
import { DIMENSIONS } from './chunk-embed';
import { peakRssMiB, round, sleep } from './stats';

export interface StageThroughput {
  stage: ConsumerStage;
  /** Records of the input topic (documents, chunks or embedded chunks). */
  records: number;
  seconds: number;
  recordsPerSec: number;
  /** recordsPerSec in documents of the corpus (chunks ÷ chunks per document). */
  documentsPerSec: number;
  peakRssMiB: number;
}

export interface StageBenchOptions extends BenchRunOptions {
  /** The corpus's chunks with their hashing vectors, as the embedder makes them. */
  embedded: EmbeddedChunk[];
}

/**
 * Each consumer stage alone, fed from a pre-filled input topic: the stage starts after the fill
 * and its rate is taken from its first commit to the commit that drains the topic (the group's
 * committed offsets, polled). Shows which stage bounds the pipeline.
 */
export async function runStageBenches(options: StageBenchOptions): Promise<StageThroughput[]> {
  const results: StageThroughput[] = [];
  const chunks = options.embedded.map(({ embedding: _e, model: _m, ...chunk }) => chunk);
  const runs: Array<[ConsumerStage, () => Promise<StageThroughput>]> = [
    ['chunker', () => stageRun(options, 'chunker', 'DocumentSubmitted', options.corpus)],
    ['embedder', () => stageRun(options, 'embedder', 'Chunk', chunks)],
    ['indexer', () => stageRun(options, 'indexer', 'EmbeddedChunk', options.embedded)],
  ];
  for (const [stage, run] of runs) {
    const result = await run();
    results.push(result);
    options.log(`stage ${stage} alone: ${result.recordsPerSec} records/s = ${result.documentsPerSec} docs/s (${result.records} records)`);
  }
  return results;
}

async function stageRun<N extends ContractName>(
  options: StageBenchOptions,
  stage: ConsumerStage,
  contract: N,
  values: Array<ContractTypes[N]>,
): Promise<StageThroughput> {
  const pipeline = new BenchPipeline({ partitions: options.partitions, dimensions: DIMENSIONS, env: options.serviceEnv });
  const admin = pipeline.kafka.admin();
  try {
    await pipeline.provision();
    await admin.connect();
    const topic = pipeline.topics.input(stage);
    await fill(pipeline, contract, topic, values);
    const service = await pipeline.startService(stage);
    const { seconds, records } = await timeDrain(admin, `${pipeline.prefix}-${stage}`, topic, options.drainTimeoutMs);
    const recordsPerSec = records / seconds;
    return {
      stage,
      records: values.length,
      seconds: round(seconds, 2),
      recordsPerSec: round(recordsPerSec),
      documentsPerSec: round((recordsPerSec * options.corpus.length) / values.length),
      peakRssMiB: round((await peakRssMiB(service.pid)) ?? 0),
    };
  } finally {
    await admin.disconnect().catch(() => undefined);
    await pipeline.stop().catch(() => undefined);
  }
}

/** Produces records keyed by document id, as the upstream stage does. */
async function fill<N extends ContractName>(
  pipeline: BenchPipeline,
  contract: N,
  topic: string,
  values: Array<ContractTypes[N]>,
): Promise<void> {
  const serde = ContractSerde.connect(STACK.registryUrl);
  await serde.registerWriter(contract, topic);
  const producer = pipeline.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < values.length; i += 500) {
      const messages = values.slice(i, i + 500).map((v) => ({ key: v.documentId, value: serde.encode(contract, v) }));
      await producer.send({ topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * Polls the group's committed offsets until they reach the topic's end; the window runs from the
 * first poll that sees progress to the one that sees the end, and counts the records in between.
 */
async function timeDrain(admin: Admin, groupId: string, topic: string, timeoutMs: number): Promise<{ seconds: number; records: number }> {
  const end = sum((await admin.fetchTopicOffsets(topic)).map((p) => Number(p.high)));
  const deadline = Date.now() + timeoutMs;
  let first: { at: number; committed: number } | undefined;
  while (Date.now() < deadline) {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = sum(offsets.partitions.map((p) => Math.max(0, Number(p.offset))));
    const now = Date.now();
    if (!first && committed > 0) first = { at: now, committed };
    if (first && committed >= end) {
      // Drained within one poll of the first commit: too short to time, count it all over one poll.
      return first.committed >= end ? { seconds: 0.1, records: end } : { seconds: (now - first.at) / 1000, records: end - first.committed };
    }
    await sleep(100);
  }
  throw new Error(`${groupId} did not drain ${topic} within ${timeoutMs} ms`);
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
