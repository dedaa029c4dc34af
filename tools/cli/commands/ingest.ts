import { readFile, stat } from 'node:fs/promises';
import { basename, relative, resolve } from 'node:path';
import { IDEMPOTENT_PRODUCER } from '@rag/common';
import { contentTypeOfFile, type DocumentSubmitted, type ContentType } from '@rag/contracts';
import { MultiBar, Presets } from 'cli-progress';
import { glob } from 'tinyglobby';
import { KafkaContext, type GlobalOptions } from '../context';
import { GatewayClient, GatewayError, type DocumentStatus } from '../gateway-client';
import { colors, printJson, printTable, statusColor } from '../output';

export interface IngestOptions extends GlobalOptions {
  kafka?: boolean;
  wait: boolean;
  concurrency: number;
  timeout: number;
  randomIds?: boolean;
  source: string;
}

interface FileToSend {
  path: string;
  name: string;
  contentType: ContentType;
  size: number;
}

/** What became of one file. */
interface Outcome {
  file: string;
  documentId: string | null;
  version: number | null;
  status: 'indexed' | 'failed' | 'rejected' | 'superseded' | 'deleted' | 'pending' | 'sent';
  chunks: number | null;
  reason: string | null;
}

const TERMINAL = new Set(['indexed', 'failed', 'deleted']);

/** Files of the arguments: files as they are, directories walked, anything else a glob pattern. */
async function expand(inputs: string[]): Promise<string[]> {
  const found = new Set<string>();
  for (const input of inputs) {
    const info = await stat(input).catch(() => undefined);
    if (info?.isFile()) found.add(resolve(input));
    else if (info?.isDirectory()) for (const f of await glob('**/*', { cwd: input, absolute: true, dot: false })) found.add(f);
    else for (const f of await glob(input, { absolute: true })) found.add(f);
  }
  return [...found].sort();
}

/** A document id from the file's path (re-ingesting a file updates the same document). */
function idFromPath(path: string): string {
  const rel = relative(process.cwd(), path) || basename(path);
  return (
    rel
      .replace(/[^A-Za-z0-9._:\-/]/g, '_')
      .replace(/^[./]+/, '')
      .slice(0, 256) || 'document'
  );
}

/** Runs `work` over `items` with at most `limit` at once. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(lanes);
}

export async function ingest(inputs: string[], options: IngestOptions): Promise<number> {
  const paths = await expand(inputs);
  const files: FileToSend[] = [];
  const skipped: string[] = [];
  for (const path of paths) {
    const contentType = contentTypeOfFile(path);
    if (!contentType) skipped.push(path);
    else files.push({ path, name: basename(path), contentType, size: (await stat(path)).size });
  }
  const gateway = new GatewayClient(options.gateway);
  const showBars = process.stderr.isTTY === true && !options.json;
  const bars = new MultiBar(
    { format: ' {label} |{bar}| {value}/{total} {unit}', hideCursor: true, clearOnComplete: false, stream: process.stderr },
    Presets.shades_classic,
  );
  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  const sentBar = showBars ? bars.create(files.length, 0, { label: 'sent    ', unit: `files (${totalBytes} bytes)` }) : undefined;
  const outcomes = new Map<string, Outcome>();

  const send = options.kafka ? await kafkaSender(options) : undefined;
  try {
    await pool(files, options.concurrency, async (file) => {
      const bytes = await readFile(file.path);
      const documentId = options.randomIds ? undefined : idFromPath(file.path);
      try {
        const accepted = send
          ? await send({ file, bytes, documentId: documentId ?? idFromPath(file.path), source: options.source })
          : await gateway.upload(
              { name: file.name, bytes, contentType: file.contentType },
              { title: file.name, ...(documentId && { documentId }) },
            );
        outcomes.set(file.path, { file: file.path, ...accepted, status: 'sent', chunks: null, reason: null });
      } catch (err) {
        const reason = err instanceof GatewayError ? err.message : (err as Error).message;
        outcomes.set(file.path, {
          file: file.path,
          documentId: documentId ?? null,
          version: null,
          status: 'rejected',
          chunks: null,
          reason,
        });
      }
      sentBar?.increment();
    });
  } finally {
    await send?.close();
  }

  if (options.wait) await waitForOutcomes([...outcomes.values()], gateway, options, showBars ? bars : undefined);
  bars.stop();
  return report([...outcomes.values()], skipped, options);
}

/** Polls the gateway until every sent document is indexed or failed (or the timeout passes). */
async function waitForOutcomes(outcomes: Outcome[], gateway: GatewayClient, options: IngestOptions, bars?: MultiBar): Promise<void> {
  const waiting = outcomes.filter((o) => o.status === 'sent');
  const bar = bars?.create(waiting.length, 0, { label: 'indexed ', unit: 'documents' });
  const deadline = Date.now() + options.timeout * 1000;
  let pending = waiting;
  while (pending.length > 0 && Date.now() < deadline) {
    await pool(pending, 8, async (outcome) => settle(outcome, await gateway.statusIfKnown(outcome.documentId!)));
    pending = pending.filter((o) => o.status === 'sent');
    bar?.update(waiting.length - pending.length);
    if (pending.length > 0) await new Promise((r) => setTimeout(r, 500));
  }
  for (const o of pending) Object.assign(o, { status: 'pending', reason: `not indexed after ${options.timeout} s` });
}

function settle(outcome: Outcome, status: DocumentStatus | undefined): void {
  if (!status) return;
  if (status.version > (outcome.version ?? 0)) {
    Object.assign(outcome, { status: 'superseded', reason: `a newer version (${status.version}) was submitted meanwhile` });
  } else if (status.version === outcome.version && TERMINAL.has(status.status)) {
    const failure = status.failures[status.failures.length - 1];
    Object.assign(outcome, {
      status: status.status,
      chunks: status.chunkCount,
      reason: failure ? `${failure.stage}: ${failure.reason}` : null,
    });
  }
}

function report(outcomes: Outcome[], skipped: string[], options: IngestOptions): number {
  const count = (status: Outcome['status']) => outcomes.filter((o) => o.status === status).length;
  const bad = outcomes.filter((o) => ['failed', 'rejected', 'pending'].includes(o.status));
  if (options.json) {
    printJson({
      indexed: count('indexed'),
      sent: options.wait ? undefined : count('sent'),
      failed: bad.length,
      skipped: skipped.length,
      documents: outcomes,
      skippedFiles: skipped,
    });
  } else {
    const rows = (options.wait ? bad : outcomes).map((o) => [
      relative(process.cwd(), o.file),
      o.documentId,
      statusColor(o.status),
      o.chunks,
      o.reason,
    ]);
    if (rows.length > 0) printTable(['file', 'document', 'status', 'chunks', 'reason'], rows);
    const parts = options.wait ? [`${colors.green(`${count('indexed')} indexed`)}`] : [`${count('sent')} sent`];
    if (bad.length > 0) parts.push(colors.red(`${bad.length} failed`));
    if (count('superseded') > 0) parts.push(`${count('superseded')} superseded`);
    parts.push(`${skipped.length} skipped (unsupported type)`);
    process.stdout.write(`${parts.join(', ')}\n`);
  }
  return bad.length > 0 ? 1 : 0;
}

/** --kafka: straight to the input topic, Avro with the registry's schema id, as any producer would. */
async function kafkaSender(options: IngestOptions) {
  const context = new KafkaContext(options);
  await context.serde.registerWriter('DocumentSubmitted', context.topics.documents);
  const producer = context.kafka.producer(IDEMPOTENT_PRODUCER);
  await producer.connect();
  const send = async (input: { file: FileToSend; bytes: Buffer; documentId: string; source: string }) => {
    const now = Date.now();
    const doc: DocumentSubmitted = {
      documentId: input.documentId,
      version: now,
      title: input.file.name,
      contentType: input.file.contentType,
      content: input.bytes,
      source: input.source,
      metadata: {},
      submittedAt: now,
    };
    await producer.send({
      topic: context.topics.documents,
      acks: -1,
      messages: [{ key: doc.documentId, value: context.serde.encode('DocumentSubmitted', doc) }],
    });
    return { documentId: doc.documentId, version: doc.version };
  };
  return Object.assign(send, { close: () => producer.disconnect() });
}
