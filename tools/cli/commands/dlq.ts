import { createInterface } from 'node:readline/promises';
import type { ConsumerStage } from '@rag/contracts';
import { DeadLetters } from '@rag/dead-letters';
import { KafkaContext, type GlobalOptions } from '../context';
import { printJson, printTable } from '../output';

export interface DlqOptions extends GlobalOptions {
  stage: ConsumerStage;
  document?: string;
}

function deadLetters(options: GlobalOptions): DeadLetters {
  const context = new KafkaContext(options);
  return new DeadLetters(context.kafka, context.topics, context.serde, options.topicPrefix);
}

export async function dlqList(options: DlqOptions): Promise<number> {
  const summary = await deadLetters(options).summary(options.stage, { document: options.document });
  if (options.json) printJson(summary);
  else {
    process.stdout.write(`${summary.topic}: ${summary.records} record(s), ${summary.documents} document(s)\n`);
    if (summary.reasons.length > 0)
      printTable(
        ['count', 'reason'],
        summary.reasons.map((r) => [r.count, r.reason]),
      );
  }
  return 0;
}

export async function dlqShow(options: DlqOptions & { limit: number }): Promise<number> {
  const records = await deadLetters(options).inspect(options.stage, { document: options.document, limit: options.limit });
  if (options.json) printJson(records);
  else
    for (const r of records)
      process.stdout.write(
        `${JSON.stringify({ partition: r.partition, offset: r.offset, key: r.key, reason: r.reason, headers: r.headers, value: r.value }, null, 2)}\n`,
      );
  return 0;
}

export async function dlqReplay(options: DlqOptions & { all?: boolean; dryRun?: boolean }): Promise<number> {
  const result = await deadLetters(options).replay(options.stage, { document: options.document, all: options.all, dryRun: options.dryRun });
  if (options.json) printJson(result);
  else {
    process.stdout.write(`${result.dryRun ? 'would replay' : 'replayed'} ${result.records.length} record(s) from ${result.topic}\n`);
    if (result.records.length > 0)
      printTable(
        ['record', 'document', 'to', 'reason'],
        result.records.map((r) => [`${r.partition}:${r.offset}`, r.key, r.target, r.reason]),
      );
  }
  return 0;
}

export async function dlqPurge(options: DlqOptions & { yes?: boolean }): Promise<number> {
  const dlq = deadLetters(options);
  if (!options.yes) {
    const count = await dlq.count(options.stage);
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl.question(`Delete ${count} record(s) from the ${options.stage} DLQ? Type the stage name to confirm: `);
    rl.close();
    if (answer.trim() !== options.stage) {
      process.stderr.write('not confirmed; nothing deleted\n');
      return 1;
    }
  }
  const result = await dlq.purge(options.stage);
  if (options.json) printJson(result);
  else process.stdout.write(`purged ${result.purged} record(s) from ${result.topic}\n`);
  return 0;
}
