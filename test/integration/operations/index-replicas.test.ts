import { Pipeline } from '../../support/pipeline';

/**
 * ES_NUMBER_OF_REPLICAS is kept by the services that ensure their indices at start-up (the
 * indexer: chunk index and registry; the gateway: registry). Before, they ensured them with the
 * default of 0, so every restart of a stage set a production cluster's replicas back to 0. The
 * indexer also applies ES_MERGE_SEGMENTS_PER_TIER.
 */
describe("index settings follow the services' configuration", () => {
  const replicas = { ES_NUMBER_OF_REPLICAS: '1' };
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = new Pipeline({
      partitions: 1,
      serviceEnv: { indexer: { ...replicas, ES_MERGE_SEGMENTS_PER_TIER: '12' }, gateway: replicas },
    });
    await pipeline.provision(); // provisioning here uses 0 replicas
  }, 180_000);

  afterAll(async () => {
    await pipeline.stop();
  });

  async function setting(alias: string, name: string): Promise<string | undefined> {
    const settings = await pipeline.es.indices.getSettings({ index: alias, name, flat_settings: true });
    const [index] = Object.values(settings);
    return index?.settings?.[name] as string | undefined;
  }
  const replicasOf = (alias: string) => setting(alias, 'index.number_of_replicas');

  it('the indexer and the gateway set the configured replicas on the indices provisioning made', async () => {
    expect(await replicasOf(pipeline.alias)).toBe('0');
    expect(await replicasOf(pipeline.registryAlias)).toBe('0');

    await pipeline.startService('indexer');
    expect(await replicasOf(pipeline.alias)).toBe('1');
    expect(await setting(pipeline.alias, 'index.merge.policy.segments_per_tier')).toBe('12');
    expect(await replicasOf(pipeline.registryAlias)).toBe('1');

    // The gateway ensures the registry too; it must not reset what the indexer set.
    await pipeline.startService('gateway');
    expect(await replicasOf(pipeline.registryAlias)).toBe('1');
  }, 180_000);
});
