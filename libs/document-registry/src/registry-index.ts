import type { Client } from '@elastic/elasticsearch';

/** Names derived from the registry alias: template `<alias>-template`, first index `<alias>-000001`. */
export function registryIndexNames(alias: string) {
  return { alias, template: `${alias}-template`, pattern: `${alias}-0*`, firstIndex: `${alias}-000001` };
}

const keyword = { type: 'keyword' as const };
const date = { type: 'date' as const, format: 'epoch_millis' };
const long = { type: 'long' as const };
const integer = { type: 'integer' as const };
/** Kept in `_source` for reads, never searched. */
const stored = { type: 'object' as const, enabled: false };

/**
 * The document registry index: one Elasticsearch document per pipeline document (`_id` =
 * documentId). Filterable fields are keywords/dates; progress bookkeeping is stored, not indexed.
 */
export function registryIndexTemplate(alias: string, replicas = 0) {
  const names = registryIndexNames(alias);
  return {
    name: names.template,
    index_patterns: [names.pattern],
    priority: 100 + Math.min(alias.length, 1_000),
    template: {
      settings: { number_of_shards: 1, number_of_replicas: replicas, refresh_interval: '1s' },
      mappings: {
        dynamic: 'strict' as const,
        properties: {
          documentId: keyword,
          version: long,
          status: keyword,
          title: { type: 'text' as const, fields: { keyword: { type: 'keyword' as const, ignore_above: 512 } } },
          source: keyword,
          contentType: keyword,
          contentHash: keyword,
          tenant: keyword,
          metadata: { type: 'flattened' as const },
          chunkCount: integer,
          indexedChunks: integer,
          indexedSet: { type: 'binary' as const },
          failures: stored,
          submittedAt: date,
          acceptedAt: date,
          chunkedAt: date,
          indexedAt: date,
          createdAt: date,
          updatedAt: date,
          firstVersion: long,
          searchableVersion: long,
          searchableChunkCount: integer,
          deletedVersion: long,
          deletedAt: date,
          history: stored,
          applied: stored,
        },
      },
    },
    _meta: { description: 'rag-stream document registry' },
  };
}

/**
 * Idempotently installs the registry template and, if missing, the first index behind the alias.
 * `replicas` is required: a caller that left it out would reset a cluster's replicas to 0 on every start.
 */
export async function ensureRegistryIndex(client: Client, alias: string, replicas: number): Promise<void> {
  const names = registryIndexNames(alias);
  const template = registryIndexTemplate(alias, replicas);
  await client.indices.putIndexTemplate(template);
  if (!(await client.indices.existsAlias({ name: alias }))) {
    try {
      await client.indices.create({ index: names.firstIndex, aliases: { [alias]: { is_write_index: true } } });
    } catch (err) {
      const type = (err as { body?: { error?: { type?: string } } }).body?.error?.type;
      if (type !== 'resource_already_exists_exception') throw err;
    }
  }
  // Additive mapping changes reach indices created by an older template.
  await client.indices.putMapping({ index: alias, properties: template.template.mappings.properties });
  await client.indices.putSettings({ index: alias, settings: { number_of_replicas: replicas } });
}
