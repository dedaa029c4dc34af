#!/usr/bin/env node
import { CONSUMER_STAGES } from '@rag/contracts';
import { Command, Option } from 'commander';
import { DEFAULTS, type GlobalOptions } from './context';
import { dlqList, dlqPurge, dlqReplay, dlqShow, type DlqOptions } from './commands/dlq';
import { list, remove, search, status } from './commands/documents';
import { ingest } from './commands/ingest';
import { top, type TopOptions } from './commands/top';

const program = new Command('rag-stream')
  .description('Operate a rag-stream pipeline: ingest files, follow documents, search, dead letters, live pipeline view.')
  .option('--gateway <url>', 'gateway base URL (env GATEWAY_URL)', DEFAULTS.gateway)
  .option('--brokers <list>', 'Kafka bootstrap brokers, comma-separated (env KAFKA_BROKERS)', DEFAULTS.brokers)
  .option('--registry <url>', 'schema registry URL (env SCHEMA_REGISTRY_URL)', DEFAULTS.registry)
  .option('--topic-prefix <prefix>', 'topic prefix of the pipeline (env TOPIC_PREFIX)', DEFAULTS.topicPrefix)
  .option('--json', 'machine-readable output (JSON on stdout)')
  .showHelpAfterError();

/** Runs a command with the global options merged in; its result is the exit code. */
function action<A extends unknown[]>(run: (...args: [...A, GlobalOptions & Record<string, unknown>]) => Promise<number>) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const positional = args.slice(0, -2) as A;
    const options = { ...program.opts<GlobalOptions>(), ...command.opts() };
    process.exitCode = await run(...positional, options);
  };
}

const stageOption = () => new Option('--stage <stage>', 'consumer stage').choices(CONSUMER_STAGES).makeOptionMandatory();

program
  .command('ingest')
  .description('send files (paths, directories, globs) and wait until each is indexed or failed')
  .argument('<inputs...>', 'files, directories (walked) or glob patterns')
  .option('--kafka', 'produce straight to the input topic (Avro, schema registry) instead of uploading to the gateway')
  .option('--no-wait', 'return once every file was accepted')
  .option('-c, --concurrency <n>', 'files in flight at once', (v) => Number(v), 4)
  .option('--timeout <seconds>', 'how long to wait for indexing', (v) => Number(v), 600)
  .option('--random-ids', 'let the gateway choose document ids (default: the file path, so re-ingesting updates)')
  .option('--source <name>', 'source recorded with --kafka', 'cli')
  .addHelpText('after', '\nExit code 1 when any file was rejected, failed or was not indexed in time.')
  .action(action<[string[]]>((inputs, options) => ingest(inputs, { wait: true, concurrency: 4, timeout: 600, source: 'cli', ...options })));

program
  .command('status')
  .description("a document's status, chunks and timings")
  .argument('<id>', 'document id')
  .action(action<[string]>((id, options) => status(id, options)));

program
  .command('list')
  .description('documents, newest first')
  .option('--status <status>', 'accepted, chunked, indexing, indexed, failed or deleted')
  .option('--source <source>', 'only documents from this source')
  .option('--limit <n>', 'page size', (v) => Number(v), 50)
  .option('--cursor <cursor>', 'continue after a previous page')
  .option('--all', 'every page')
  .action(action<[]>((options) => list({ limit: 50, ...options })));

program
  .command('search')
  .description('search the chunks of searchable documents')
  .argument('<query>', 'what to look for')
  .option('-k <n>', 'hits', (v) => Number(v), 5)
  .option('--hybrid', 'kNN plus BM25 on the chunk text')
  .action(action<[string]>((query, options) => search(query, { k: 5, ...options })));

program
  .command('delete')
  .description('delete a document (every version)')
  .argument('<id>', 'document id')
  .action(action<[string]>((id, options) => remove(id, options)));

const dlq = program.command('dlq').description("a stage's dead letters: list, show, replay, purge");
dlq
  .command('list')
  .description('counts by reason')
  .addOption(stageOption())
  .option('--document <id>', 'only this document')
  .action(action<[]>((options) => dlqList(options as DlqOptions)));
dlq
  .command('show')
  .description('records decoded, with their failure headers')
  .addOption(stageOption())
  .option('--document <id>', 'only this document')
  .option('--limit <n>', 'at most this many', (v) => Number(v), 20)
  .action(action<[]>((options) => dlqShow(options as DlqOptions & { limit: number })));
dlq
  .command('replay')
  .description('produce dead letters back to the topic they failed on (attempts reset)')
  .addOption(stageOption())
  .option('--document <id>', 'only this document')
  .option('--all', 'everything, not just what was not replayed yet')
  .option('--dry-run', 'show what would be replayed')
  .action(action<[]>((options) => dlqReplay(options as DlqOptions)));
dlq
  .command('purge')
  .description("delete every record of the stage's DLQ (asks to confirm)")
  .addOption(stageOption())
  .option('--yes', 'do not ask')
  .action(action<[]>((options) => dlqPurge(options as DlqOptions)));

program
  .command('top')
  .description('live per-stage instances, lag, records/s, retries/s and dead letters/s (from Kafka)')
  .option('--interval <seconds>', 'refresh period', (v) => Number(v), 2)
  .option('--iterations <n>', 'stop after n refreshes (0: until Ctrl-C)', (v) => Number(v), 0)
  .option(
    '--group <stage=group>',
    'consumer group of a stage (default rag-<stage>), repeatable',
    (v: string, all: string[]) => [...all, v],
    [],
  )
  .action(action<[]>((options) => top({ interval: 2, iterations: 0, group: [], ...options } as TopOptions)));

program.parseAsync().then(
  // Kafka clients keep sockets open; a CLI ends when its command has.
  () => process.exit(),
  (err: unknown) => {
    process.stderr.write(`rag-stream: ${(err as Error).message}\n`);
    process.exit(2);
  },
);
