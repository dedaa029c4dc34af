import type { Client } from '@elastic/elasticsearch';
import type { QueryDslQueryContainer } from '@elastic/elasticsearch/lib/api/types';
import { chunkId } from '@rag/contracts';

const PAGE = 5_000;

/**
 * Deletes chunks by id. `refresh: wait_for`: when this resolves, searches no longer return them,
 * so a status that says `deleted` (or a newer version `indexed`) is what search shows.
 */
export async function deleteChunksById(client: Client, alias: string, ids: string[]): Promise<number> {
  let deleted = 0;
  for (let i = 0; i < ids.length; i += PAGE) {
    const page = ids.slice(i, i + PAGE);
    const response = await client.bulk({
      refresh: 'wait_for',
      operations: page.map((id) => ({ delete: { _index: alias, _id: id } })),
    });
    for (const item of response.items) {
      const op = item.delete;
      if (op?.error) throw new Error(`deleting chunk ${op._id} failed: ${op.status} ${op.error.type}: ${op.error.reason ?? ''}`);
      if (op?.result === 'deleted') deleted += 1;
    }
  }
  return deleted;
}

/** The ids of one version's chunks, from the deterministic chunk id scheme (no search needed). */
export function chunkIdsOf(documentId: string, version: number, chunkIndices: number[]): string[] {
  return chunkIndices.map((index) => chunkId(documentId, version, index));
}

/**
 * Deletes every chunk of a document that matches a version range. This Elasticsearch has no
 * `_delete_by_query` (the minimal distribution lacks the reindex module), so: search the ids page
 * by page (sorted, `search_after`), then bulk-delete them. Only refreshed chunks are found; every
 * chunk write waits for a refresh before its INDEXED event exists, and a chunk written later is
 * reported by its own event and deleted by id.
 */
export async function purgeDocumentChunks(
  client: Client,
  alias: string,
  documentId: string,
  version: { below?: number; upTo?: number } = {},
): Promise<number> {
  const filter: QueryDslQueryContainer[] = [{ term: { documentId } }];
  if (version.below !== undefined) filter.push({ range: { version: { lt: version.below } } });
  if (version.upTo !== undefined) filter.push({ range: { version: { lte: version.upTo } } });
  const ids: string[] = [];
  let after: (string | number)[] | undefined;
  for (;;) {
    const response = await client.search({
      index: alias,
      size: PAGE,
      query: { bool: { filter } },
      sort: [{ chunkId: 'asc' }],
      _source: false,
      track_total_hits: false,
      ...(after ? { search_after: after } : {}),
    });
    const hits = response.hits.hits;
    ids.push(...hits.map((h) => h._id!));
    if (hits.length < PAGE) break;
    after = hits[hits.length - 1].sort as (string | number)[];
  }
  return deleteChunksById(client, alias, ids);
}
