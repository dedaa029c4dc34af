#!/usr/bin/env node
import { CONSUMER_STAGES } from '@rag/contracts';
import { Command, Option } from 'commander';
import { DEFAULTS, type GlobalOptions } from './context';
import { dlqList, dlqPurge, dlqReplay, dlqShow, type DlqOptions } from './commands/dlq';
import { list, remove, search, status, type ListOptions, type SearchOptions } from './commands/documents';
import { ingest, type IngestOptions } from './commands/ingest';
import { top, type TopOptions } from './commands/top';
import { keysCreate, type KeysCreateOptions } from './commands/keys';

const program = new Command('rag-stream')
  .description('Operate a rag-stream pipeline: ingest files, follow documents, search, dead letters, live pipeline view.')
  .option('--gateway <url>', 'gateway base URL (env GATEWAY_URL)', DEFAULTS.gateway)
  .option('--brokers <list>', 'Kafka bootstrap brokers, comma-separated (env KAFKA_BROKERS)', DEFAULTS.brokers)
  .option('--registry <url>', 'schema registry URL (env SCHEMA_REGISTRY_URL)', DEFAULTS.registry)
  .option('--topic-prefix <prefix>', 'topic prefix of the pipeline (env TOPIC_PREFIX)', DEFAULTS.topicPrefix)
  .option('--json', 'machine-readable output (JSON on stdout)')
  .option('--api-key <key>', 'API key for the gateway (env RAG_API_KEY; default: .stack/dev-api-key of scripts/run.sh)')
  .hook('preAction', (command) => {
    const key = command.opts<{ apiKey?: string }>().apiKey;
    if (key) process.env.RAG_API_KEY = key;
  })
  .showHelpAfterError();

/**
 * Runs a command with the global options merged in; its result is the exit code. Commander's
 * options are untyped: `O` is what the command's declared options and defaults make them.
 */
function action<A extends unknown[], O extends GlobalOptions = GlobalOptions>(run: (...args: [...A, O]) => Promise<number>) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const positional = args.slice(0, -2) as A;
    const options = { ...program.opts<GlobalOptions>(), ...command.opts() } as O;
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
  .action(action<[string[]], IngestOptions>((inputs, options) => ingest(inputs, options)));

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
  .action(action<[], ListOptions>((options) => list(options)));

program
  .command('search')
  .description('search the chunks of searchable documents')
  .argument('<query>', 'what to look for')
  .option('-k <n>', 'hits', (v) => Number(v), 5)
  .option('--hybrid', 'kNN plus BM25 on the chunk text')
  .action(action<[string], SearchOptions>((query, options) => search(query, options)));

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
  .action(action<[], DlqOptions>((options) => dlqList(options)));
dlq
  .command('show')
  .description('records decoded, with their failure headers')
  .addOption(stageOption())
  .option('--document <id>', 'only this document')
  .option('--limit <n>', 'at most this many', (v) => Number(v), 20)
  .action(action<[], DlqOptions & { limit: number }>((options) => dlqShow(options)));
dlq
  .command('replay')
  .description('produce dead letters back to the topic they failed on (attempts reset)')
  .addOption(stageOption())
  .option('--document <id>', 'only this document')
  .option('--all', 'everything, not just what was not replayed yet')
  .option('--dry-run', 'show what would be replayed')
  .action(action<[], DlqOptions>((options) => dlqReplay(options)));
dlq
  .command('purge')
  .description("delete every record of the stage's DLQ (asks to confirm)")
  .addOption(stageOption())
  .option('--yes', 'do not ask')
  .action(action<[], DlqOptions>((options) => dlqPurge(options)));

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
  .action(action<[], TopOptions>((options) => top(options)));

program
  .command('keys')
  .description('API keys of the gateway')
  .command('create')
  .description('create a key: prints it once; stores only its SHA-256 entry')
  .requiredOption('--id <id>', 'key id (lowercase letters, digits, -): appears in logs and metrics, never the key')
  .requiredOption('--tenant <tenant>', 'tenant the key reads and writes ("*": an operator key that sees every tenant)')
  .option('--scopes <list>', 'comma-separated: ingest, search, admin', 'ingest,search')
  .option('--file <path>', 'append the entry to this API_KEYS_FILE (created if missing)')
  .option('--key-file <path>', 'write the key to this file (mode 600) instead of printing it')
  .action(action<[], KeysCreateOptions>(async (options) => keysCreate(options)));

program.parseAsync().then(
  // Kafka clients keep sockets open; a CLI ends when its command has.
  () => process.exit(),
  (err: unknown) => {
    process.stderr.write(`rag-stream: ${(err as Error).message}\n`);
    process.exit(2);
  },
);
