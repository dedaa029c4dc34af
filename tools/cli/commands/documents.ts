import type { GlobalOptions } from '../context';
import { GatewayClient, type SearchHit } from '../gateway-client';
import { printJson, printTable, statusColor } from '../output';

const ms = (value: number | null) => (value === null ? null : `${value} ms`);

export async function status(id: string, options: GlobalOptions): Promise<number> {
  const answer = await new GatewayClient(options.gateway).status(id);
  if (options.json) {
    printJson(answer);
    return 0;
  }
  printTable(
    ['field', 'value'],
    [
      ['document', answer.documentId],
      ['version', answer.version],
      ['status', statusColor(answer.status)],
      ['title', answer.title],
      ['chunks', `${answer.indexedChunks} of ${answer.chunkCount ?? '?'} indexed`],
      ['chunking', ms(answer.timings.chunkingMs)],
      ['indexing', ms(answer.timings.indexingMs)],
      ['total', ms(answer.timings.totalMs)],
      ...answer.failures.map((f): [string, string] => ['failure', `${f.stage}: ${f.reason}`]),
    ],
  );
  return answer.status === 'failed' ? 1 : 0;
}

export interface ListOptions extends GlobalOptions {
  status?: string;
  source?: string;
  limit: number;
  cursor?: string;
  all?: boolean;
}

export interface SearchOptions extends GlobalOptions {
  k: number;
  hybrid?: boolean;
}

export async function list(options: ListOptions): Promise<number> {
  const gateway = new GatewayClient(options.gateway);
  const documents = [];
  let cursor = options.cursor;
  let nextCursor: string | null = null;
  do {
    const page = await gateway.list({ status: options.status, source: options.source, limit: options.limit, cursor });
    documents.push(...page.documents);
    nextCursor = page.nextCursor;
    cursor = nextCursor ?? undefined;
  } while (options.all && nextCursor);
  if (options.json) {
    printJson({ documents, nextCursor });
    return 0;
  }
  printTable(
    ['document', 'version', 'status', 'chunks', 'total', 'created'],
    documents.map((d) => [d.documentId, d.version, statusColor(d.status), d.chunkCount, ms(d.timings.totalMs), d.createdAt]),
  );
  if (nextCursor) process.stdout.write(`more: --cursor ${nextCursor}\n`);
  return 0;
}

export async function search(query: string, options: SearchOptions): Promise<number> {
  const answer = await new GatewayClient(options.gateway).search({ query, k: options.k, hybrid: options.hybrid === true });
  if (options.json) {
    printJson(answer);
    return 0;
  }
  printTable(
    ['score', 'document', 'chunk', 'where', 'text'],
    answer.hits.map((h) => [h.score.toFixed(3), h.documentId, h.chunkIndex, whereIs(h), h.text.replace(/\s+/g, ' ').slice(0, 80)]),
  );
  return 0;
}

/** "p. 7", "pp. 6-7", "slide 3", "sheet Parts", or the heading path. */
function whereIs(hit: SearchHit): string {
  const span = (start: number | null, end: number | null, one: string, many: string) =>
    start === null ? undefined : start === end || end === null ? `${one} ${start}` : `${many} ${start}-${end}`;
  return (
    span(hit.pageStart, hit.pageEnd, 'p.', 'pp.') ??
    span(hit.slideStart, hit.slideEnd, 'slide', 'slides') ??
    (hit.sheet ? `sheet ${hit.sheet}` : (hit.heading ?? ''))
  );
}

export async function remove(id: string, options: GlobalOptions): Promise<number> {
  const answer = await new GatewayClient(options.gateway).delete(id);
  if (options.json) printJson(answer);
  else process.stdout.write(`${answer.documentId}: deleting (status: ${answer.statusUrl})\n`);
  return 0;
}
