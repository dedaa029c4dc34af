import type { Client } from '@elastic/elasticsearch';
import type { ContractSerde } from '@rag/contracts';
import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { RegistryMetrics } from './registry-metrics';
import { RegistryProjector } from './registry-projector';

/**
 * The projector's supervision, with stand-ins for kafkajs' clients: which consumers it makes and
 * drops when kafkajs gives up or the consumer stalls. The chaos tests restart a real broker.
 */
type CrashListener = (event: { payload: { error: Error; restart: boolean } }) => void;

class FakeConsumer {
  readonly events = { CRASH: 'crash', GROUP_JOIN: 'join' } as const;
  crash?: CrashListener;
  join?: () => void;
  running = false;
  disconnected = false;
  on(event: string, listener: never): void {
    if (event === 'crash') this.crash = listener;
    else this.join = listener;
  }
  connect = async () => undefined;
  subscribe = async () => undefined;
  run = async () => {
    this.running = true;
  };
  disconnect = async () => {
    this.disconnected = true;
  };
}

function setup(options: { eventsLag?: number; stallTimeoutMs?: number } = {}) {
  const consumers: FakeConsumer[] = [];
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    fetchOffsets: async () => [{ topic: 'events', partitions: [{ partition: 0, offset: '0' }] }],
    fetchTopicOffsets: async () => [{ partition: 0, low: '0', high: String(options.eventsLag ?? 0) }],
  };
  const kafka = {
    admin: () => admin,
    consumer: () => consumers[consumers.push(new FakeConsumer()) - 1],
  } as unknown as Kafka;
  const registry = new Registry();
  const projector = new RegistryProjector(
    kafka,
    {} as Client,
    {} as ContractSerde,
    {
      groupId: 'registry',
      eventsTopic: 'events',
      registryAlias: 'documents',
      chunkAlias: 'chunks',
      partitionsConcurrency: 1,
      group: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 3_000, rebalanceTimeoutMs: 30_000 },
      stallTimeoutMs: options.stallTimeoutMs ?? 0,
    },
    new RegistryMetrics(registry),
    pino({ level: 'silent' }),
  );
  return { projector, consumers, registry };
}

const metric = async (registry: Registry, name: string) => (await registry.getSingleMetric(name)!.get()).values[0]?.value ?? 0;

describe('RegistryProjector supervision', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  it('rebuilds its consumer after a crash kafkajs does not restart from, and stays alive', async () => {
    const { projector, consumers, registry } = setup();
    await projector.start();
    consumers[0].join!();
    // What kafkajs gave up with while the broker restarted (seen in the broker-restart chaos test).
    consumers[0].crash!({ payload: { error: new Error('Failed to find group coordinator'), restart: false } });
    await jest.advanceTimersByTimeAsync(1_000);
    expect(consumers).toHaveLength(2);
    expect(consumers[0].disconnected).toBe(true);
    expect(consumers[1].running).toBe(true);
    expect(projector.isAlive()).toBe(true);
    expect(await metric(registry, 'rag_registry_consumer_rebuilds_total')).toBe(1);
    await projector.stop();
  });

  it('rebuilds a consumer that consumes nothing while events wait, after the stall timeout', async () => {
    const { projector, consumers, registry } = setup({ eventsLag: 12, stallTimeoutMs: 30_000 });
    await projector.start();
    await jest.advanceTimersByTimeAsync(29_000);
    expect(consumers).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(12_000); // the stall is seen, then the first rebuild's 1 s backoff
    expect(consumers).toHaveLength(2);
    expect(consumers[0].disconnected).toBe(true);
    expect(await metric(registry, 'rag_registry_consumer_stalls_total')).toBe(1);
    expect(await metric(registry, 'rag_registry_consumer_lag')).toBe(12);
    await projector.stop();
  });

  it('leaves an idle consumer alone when no events wait', async () => {
    const { projector, consumers } = setup({ eventsLag: 0, stallTimeoutMs: 30_000 });
    await projector.start();
    await jest.advanceTimersByTimeAsync(120_000);
    expect(consumers).toHaveLength(1);
    expect(consumers[0].disconnected).toBe(false);
    await projector.stop();
  });
});
