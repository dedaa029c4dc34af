import { Pipeline } from '../../support/pipeline';

/**
 * ES_NUMBER_OF_REPLICAS is kept by the services that ensure their indices at start-up (the
 * indexer: chunk index and registry; the gateway: registry). Before, they ensured them with the
 * default of 0, so every restart of a stage set a production cluster's replicas back to 0.
 */
describe('index replicas follow ES_NUMBER_OF_REPLICAS in the services', () => {
  const replicas = { ES_NUMBER_OF_REPLICAS: '1' };
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = new Pipeline({ partitions: 1, serviceEnv: { indexer: replicas, gateway: replicas } });
    await pipeline.provision(); // provisioning here uses 0 replicas
  }, 180_000);

  afterAll(async () => {
    await pipeline.stop();
  });

  async function replicasOf(alias: string): Promise<string | undefined> {
    const settings = await pipeline.es.indices.getSettings({ index: alias, name: 'index.number_of_replicas', flat_settings: true });
    const [index] = Object.values(settings);
    return index?.settings?.['index.number_of_replicas'] as string | undefined;
  }

  it('the indexer and the gateway set the configured replicas on the indices provisioning made', async () => {
    expect(await replicasOf(pipeline.alias)).toBe('0');
    expect(await replicasOf(pipeline.registryAlias)).toBe('0');

    await pipeline.startService('indexer');
    expect(await replicasOf(pipeline.alias)).toBe('1');
    expect(await replicasOf(pipeline.registryAlias)).toBe('1');

    // The gateway ensures the registry too; it must not reset what the indexer set.
    await pipeline.startService('gateway');
    expect(await replicasOf(pipeline.registryAlias)).toBe('1');
  }, 180_000);
});
