import { createInterface } from 'node:readline/promises';
import { baseConfigSchema, createKafka, IDEMPOTENT_PRODUCER, createRootLogger, validateEnv } from '@rag/common';
import { CONSUMER_STAGES, ContractSerde, contractOfTopic, Headers, topicNames, type ConsumerStage } from '@rag/contracts';
import { Command, Option } from 'commander';
import type { Kafka } from 'kafkajs';
import { z } from 'zod';
import { readDeadLetters, reasonOf, replayHeaders, type DeadLetter } from './dlq-reader';

const env = validateEnv(
  baseConfigSchema.extend({ HTTP_PORT: z.coerce.number().default(0), LOG_LEVEL: z.string().default('warn') }),
  process.env,
);
const topics = topicNames(env.TOPIC_PREFIX);
const kafka: Kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: 'rag-dlq', logger: createRootLogger('dlq', 'warn') });

/** Offsets of the replay group mark what was replayed, so `replay` twice does not replay twice. */
const replayGroup = (stage: ConsumerStage) => `rag-dlq-replay-${env.TOPIC_PREFIX}-${stage}`;

interface Common {
  stage: ConsumerStage;
  document?: string;
  json?: boolean;
}

const stageOption = () =>
  new Option('--stage <stage>', 'consumer stage whose DLQ to use').choices([...CONSUMER_STAGES]).makeOptionMandatory();

function select(records: DeadLetter[], document?: string): DeadLetter[] {
  return document ? records.filter((r) => r.key === document) : records;
}

async function list(opts: Common): Promise<void> {
  const topic = topics.dlq(opts.stage);
  const records = select(await readDeadLetters(kafka, topic), opts.document);
  const byReason = new Map<string, number>();
  for (const r of records) byReason.set(reasonOf(r), (byReason.get(reasonOf(r)) ?? 0) + 1);
  const documents = new Set(records.map((r) => r.key));
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ topic, records: records.length, documents: documents.size, reasons: Object.fromEntries(byReason) }, null, 2)}\n`,
    );
    return;
  }
  process.stdout.write(`${topic}: ${records.length} record(s), ${documents.size} document(s)\n`);
  for (const [reason, count] of [...byReason].sort((a, b) => b[1] - a[1]))
    process.stdout.write(`  ${String(count).padStart(6)}  ${reason}\n`);
}

async function show(opts: Common & { limit: number }): Promise<void> {
  const records = select(await readDeadLetters(kafka, topics.dlq(opts.stage)), opts.document).slice(0, opts.limit);
  const serde = ContractSerde.connect(env.SCHEMA_REGISTRY_URL);
  const contracts = contractOfTopic(topics);
  for (const r of records) {
    const contract = contracts[r.headers[Headers.originalTopic] ?? topics.input(opts.stage)];
    let value: unknown;
    try {
      const decoded = await serde.decode(contract, r.value);
      value = JSON.parse(JSON.stringify(decoded, (k, v: unknown) => (k === 'embedding' && Array.isArray(v) ? `[${v.length} floats]` : v)));
    } catch (err) {
      value = { undecodable: (err as Error).message, bytes: r.value?.subarray(0, 64).toString('hex') ?? null };
    }
    process.stdout.write(
      `${JSON.stringify({ partition: r.partition, offset: r.offset, key: r.key, headers: r.headers, value }, null, 2)}\n`,
    );
  }
}

async function replay(opts: Common & { dryRun?: boolean; all?: boolean }): Promise<void> {
  const topic = topics.dlq(opts.stage);
  const group = replayGroup(opts.stage);
  const fromScratch = opts.all || opts.document !== undefined;
  const records = await readDeadLetters(kafka, topic, fromScratch ? {} : { afterGroup: group });
  const chosen = select(records, opts.document);
  const now = Date.now();
  const plan = chosen.map((r) => ({ record: r, target: r.headers[Headers.originalTopic] ?? topics.input(opts.stage) }));
  process.stdout.write(`${opts.dryRun ? 'would replay' : 'replaying'} ${plan.length} record(s) from ${topic}\n`);
  for (const { record, target } of plan)
    process.stdout.write(`  ${record.partition}:${record.offset} key=${record.key} → ${target}  (${reasonOf(record)})\n`);
  if (opts.dryRun || plan.length === 0) return;
  const producer = kafka.producer(IDEMPOTENT_PRODUCER);
  await producer.connect();
  try {
    const byTarget = new Map<string, { key: string | null; value: Buffer | null; headers: Record<string, string> }[]>();
    for (const { record, target } of plan) {
      byTarget.set(target, [
        ...(byTarget.get(target) ?? []),
        { key: record.key, value: record.value, headers: replayHeaders(record.headers, now) },
      ]);
    }
    await producer.sendBatch({ acks: -1, topicMessages: [...byTarget].map(([t, messages]) => ({ topic: t, messages })) });
  } finally {
    await producer.disconnect();
  }
  if (!fromScratch) await markReplayed(group, topic, records);
  process.stdout.write(`replayed ${plan.length} record(s)\n`);
}

/** Commits the replay group past what was just replayed (only when replaying everything pending). */
async function markReplayed(group: string, topic: string, records: DeadLetter[]): Promise<void> {
  const last = new Map<number, bigint>();
  for (const r of records) last.set(r.partition, BigInt(r.offset));
  if (last.size === 0) return;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.setOffsets({
      groupId: group,
      topic,
      partitions: [...last].map(([partition, offset]) => ({ partition, offset: (offset + 1n).toString() })),
    });
  } finally {
    await admin.disconnect();
  }
}

async function purge(opts: Common & { yes?: boolean }): Promise<void> {
  if (opts.document) throw new Error('Kafka cannot delete single records; purge empties the whole DLQ (without --document)');
  const topic = topics.dlq(opts.stage);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const count = offsets.reduce((n, p) => n + Number(BigInt(p.high) - BigInt(p.low)), 0);
    if (!opts.yes) {
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      const answer = await rl.question(`Delete ${count} record(s) from ${topic}? Type the stage name to confirm: `);
      rl.close();
      if (answer.trim() !== opts.stage) {
        process.stdout.write('not confirmed; nothing deleted\n');
        return;
      }
    }
    await admin.deleteTopicRecords({ topic, partitions: offsets.map((p) => ({ partition: p.partition, offset: p.high })) });
    process.stdout.write(`purged ${count} record(s) from ${topic}\n`);
  } finally {
    await admin.disconnect();
  }
}

const program = new Command('dlq').description('Inspect, replay and purge the dead-letter topics of the pipeline stages.');
program
  .command('list')
  .description('count dead-lettered records by reason')
  .addOption(stageOption())
  .option('--document <id>', 'only this document')
  .option('--json', 'machine-readable output')
  .action(list);
program
  .command('show')
  .description('print dead-lettered records decoded, with their headers')
  .addOption(stageOption())
  .option('--document <id>', 'only this document')
  .option('--limit <n>', 'at most this many', (v) => Number(v), 20)
  .action(show);
program
  .command('replay')
  .description('produce dead-lettered records back to their original topic, attempts reset, with x-replayed-at')
  .addOption(stageOption())
  .option('--document <id>', 'only this document (from the whole DLQ)')
  .option('--all', 'replay everything in the DLQ, not just what was not replayed yet')
  .option('--dry-run', 'print what would be replayed')
  .action(replay);
program
  .command('purge')
  .description('delete every record of a stage DLQ (asks for confirmation)')
  .addOption(stageOption())
  .option('--yes', 'do not ask')
  .action(purge);

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`dlq: ${(err as Error).message}\n`);
  process.exit(1);
});
