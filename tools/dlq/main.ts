import { createInterface } from 'node:readline/promises';
import { baseConfigSchema, createKafka, createRootLogger, validateEnv } from '@rag/common';
import { CONSUMER_STAGES, ContractSerde, topicNames, type ConsumerStage } from '@rag/contracts';
import { DeadLetters } from '@rag/dead-letters';
import { Command, Option } from 'commander';
import { z } from 'zod';

const env = validateEnv(
  baseConfigSchema.extend({ HTTP_PORT: z.coerce.number().default(0), LOG_LEVEL: z.string().default('warn') }),
  process.env,
);
const deadLetters = new DeadLetters(
  createKafka({ brokers: env.KAFKA_BROKERS, clientId: 'rag-dlq', logger: createRootLogger('dlq', 'warn') }),
  topicNames(env.TOPIC_PREFIX, env.RETRY_TIERS_MS),
  ContractSerde.connect(env.SCHEMA_REGISTRY_URL),
  env.TOPIC_PREFIX,
);

interface Common {
  stage: ConsumerStage;
  document?: string;
  json?: boolean;
}

const print = (text: string): void => void process.stdout.write(`${text}\n`);

const stageOption = () =>
  new Option('--stage <stage>', 'consumer stage whose DLQ to use').choices([...CONSUMER_STAGES]).makeOptionMandatory();

async function list(opts: Common): Promise<void> {
  const summary = await deadLetters.summary(opts.stage, { document: opts.document });
  if (opts.json) {
    const reasons = Object.fromEntries(summary.reasons.map((r) => [r.reason, r.count]));
    return print(JSON.stringify({ topic: summary.topic, records: summary.records, documents: summary.documents, reasons }, null, 2));
  }
  print(`${summary.topic}: ${summary.records} record(s), ${summary.documents} document(s)`);
  for (const { reason, count } of summary.reasons) print(`  ${String(count).padStart(6)}  ${reason}`);
}

async function show(opts: Common & { limit: number }): Promise<void> {
  for (const r of await deadLetters.inspect(opts.stage, { document: opts.document, limit: opts.limit })) {
    print(JSON.stringify({ partition: r.partition, offset: r.offset, key: r.key, headers: r.headers, value: r.value }, null, 2));
  }
}

async function replay(opts: Common & { dryRun?: boolean; all?: boolean }): Promise<void> {
  const result = await deadLetters.replay(opts.stage, opts);
  print(`${result.dryRun ? 'would replay' : 'replaying'} ${result.records.length} record(s) from ${result.topic}`);
  for (const r of result.records) print(`  ${r.partition}:${r.offset} key=${r.key} → ${r.target}  (${r.reason})`);
  if (!result.dryRun && result.records.length > 0) print(`replayed ${result.replayed} record(s)`);
}

async function purge(opts: Common & { yes?: boolean }): Promise<void> {
  if (opts.document) throw new Error('Kafka cannot delete single records; purge empties the whole DLQ (without --document)');
  if (!opts.yes) {
    const count = await deadLetters.count(opts.stage);
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question(`Delete ${count} record(s) from the ${opts.stage} DLQ? Type the stage name to confirm: `);
    rl.close();
    if (answer.trim() !== opts.stage) return print('not confirmed; nothing deleted');
  }
  const { topic, purged } = await deadLetters.purge(opts.stage);
  print(`purged ${purged} record(s) from ${topic}`);
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
