/**
 * The chunk index's settings on the real Elasticsearch: a new index gets the merge policy from
 * the template, and an index made by an older template (default merge policy) gets it when a
 * stage or the provisioner ensures the index again, or the configured value when one is set.
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { DEFAULT_SEGMENTS_PER_TIER, ensureChunkIndex, indexNames } from '@rag/search-index';

const ES_URL = process.env.ELASTICSEARCH_URL ?? 'http://127.0.0.1:9200';

describe('chunk index settings', () => {
  const client = new Client({ node: ES_URL });
  const aliases: string[] = [];

  async function segmentsPerTier(alias: string): Promise<string | undefined> {
    const settings = await client.indices.getSettings({ index: alias, name: 'index.merge.policy.segments_per_tier', flat_settings: true });
    const [index] = Object.values(settings);
    return index?.settings?.['index.merge.policy.segments_per_tier'] as string | undefined;
  }

  afterAll(async () => {
    for (const alias of aliases) {
      await client.indices.delete({ index: `${alias}-*`, ignore_unavailable: true, allow_no_indices: true });
      await client.indices.deleteIndexTemplate({ name: indexNames(alias).template }).catch(() => undefined);
    }
    await client.close();
  });

  it('creates the first index with the merge policy from the template', async () => {
    const alias = `test-chunks-merge-${randomUUID()}`;
    aliases.push(alias);
    await ensureChunkIndex(client, alias, 8, { replicas: 0 });
    expect(await segmentsPerTier(alias)).toBe(String(DEFAULT_SEGMENTS_PER_TIER));
  });

  it('applies the merge policy to an index an older template created', async () => {
    const alias = `test-chunks-merge-${randomUUID()}`;
    aliases.push(alias);
    const names = indexNames(alias);
    await client.indices.create({
      index: names.firstIndex,
      aliases: { [alias]: { is_write_index: true } },
      mappings: { properties: { embedding: { type: 'dense_vector', dims: 8, index: true, similarity: 'cosine' } } },
    });
    expect(await segmentsPerTier(alias)).toBeUndefined();

    await ensureChunkIndex(client, alias, 8, { replicas: 0 });
    expect(await segmentsPerTier(alias)).toBe(String(DEFAULT_SEGMENTS_PER_TIER));

    // The configured value (ES_MERGE_SEGMENTS_PER_TIER) wins over the default, on existing indices too.
    await ensureChunkIndex(client, alias, 8, { replicas: 0, segmentsPerTier: 12 });
    expect(await segmentsPerTier(alias)).toBe('12');
  });
});
