import { topicNames, type ContractSerde } from '@rag/contracts';
import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { StageMetrics } from './stage-metrics';
import { StageRunner } from './stage-runner';
import type { StageHandler, StageRuntimeSettings } from './types';

/**
 * The runner's own recovery, with stand-ins for kafkajs' clients (what is checked here is which
 * clients the runner makes and drops, not Kafka: the chaos tests do that against a real broker).
 */
type CrashListener = (event: { payload: { error: Error; restart: boolean } }) => void;

class FakeConsumer {
  readonly events = { CRASH: 'crash', GROUP_JOIN: 'join' } as const;
  crash?: CrashListener;
  join?: (event: { payload: { memberAssignment: Record<string, number[]>; duration: number } }) => void;
  disconnected = false;
  on(event: string, listener: never): void {
    if (event === 'crash') this.crash = listener;
    else this.join = listener;
  }
  connect = async () => undefined;
  subscribe = async () => undefined;
  run = async () => undefined;
  disconnect = async () => {
    this.disconnected = true;
  };
}

class FakeProducer {
  disconnected = false;
  connect = async () => undefined;
  disconnect = async () => {
    this.disconnected = true;
  };
}

function setup(options: { inputLag?: number; stallTimeoutMs?: number } = {}) {
  const consumers: FakeConsumer[] = [];
  const producers: FakeProducer[] = [];
  const input = topicNames('t').input('embedder');
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    describeConfigs: async () => ({ resources: [] }),
    // The group's committed offset and the topic's end: `inputLag` records behind.
    fetchOffsets: async () => [{ topic: input, partitions: [{ partition: 0, offset: '0' }] }],
    fetchTopicOffsets: async (topic: string) => [{ partition: 0, low: '0', high: topic === input ? String(options.inputLag ?? 0) : '0' }],
  };
  const kafka = {
    admin: () => admin,
    consumer: () => consumers[consumers.push(new FakeConsumer()) - 1],
    producer: () => producers[producers.push(new FakeProducer()) - 1],
  } as unknown as Kafka;
  const serde = { registerWriter: async () => 1 } as unknown as ContractSerde;
  const settings: StageRuntimeSettings = {
    stage: 'embedder',
    groupId: 'g',
    maxBatchRecords: 10,
    fetchMaxWaitMs: 100,
    fetchMaxBytesPerPartition: 1_000_000,
    fetchMaxBytes: 10_000_000,
    partitionsConcurrency: 1,
    slicesInFlight: 1,
    crashLoopMaxDeaths: 3,
    group: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 3_000, rebalanceTimeoutMs: 30_000 },
    retry: { maxAttempts: 3, minWindowMs: 0 },
    stallTimeoutMs: options.stallTimeoutMs ?? 0,
  };
  const metrics = new StageMetrics(new Registry());
  const handler = { handle: async () => [] } as unknown as StageHandler<'Chunk'>;
  const runner = new StageRunner(kafka, serde, topicNames('t'), handler, settings, metrics, pino({ level: 'silent' }));
  return { runner, consumers, producers, metrics };
}

const crashWithoutRestart = (consumer: FakeConsumer) =>
  consumer.crash!({ payload: { error: new Error('This is not the correct coordinator for this group'), restart: false } });

describe('StageRunner recovery from a crash kafkajs does not restart from', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  it('rebuilds the consumer and replaces the producer, after a backoff, and stays alive', async () => {
    const { runner, consumers, producers, metrics } = setup();
    await runner.start();
    expect([consumers.length, producers.length]).toEqual([1, 1]);

    crashWithoutRestart(consumers[0]);
    expect(runner.isAlive()).toBe(true);
    await jest.advanceTimersByTimeAsync(999);
    expect(consumers).toHaveLength(1); // not before the backoff
    await jest.advanceTimersByTimeAsync(1);
    expect([consumers.length, producers.length]).toEqual([2, 2]);
    expect(consumers[0].disconnected).toBe(true);
    expect(producers[0].disconnected).toBe(true);
    expect((await metrics.consumerRebuilds.get()).values[0].value).toBe(1);
    // A crash reported by the old consumer after it was replaced changes nothing.
    crashWithoutRestart(consumers[0]);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(consumers).toHaveLength(2);
    expect(runner.isAlive()).toBe(true);
    await runner.stop();
  });

  it('backs off longer each time until a group join, and gives up after 8 rebuilds in a row (liveness fails)', async () => {
    const { runner, consumers } = setup();
    await runner.start();
    const delays: number[] = [];
    for (let attempt = 0; attempt < 8; attempt++) {
      const before = Date.now();
      const current = consumers[consumers.length - 1];
      crashWithoutRestart(current);
      while (consumers[consumers.length - 1] === current) await jest.advanceTimersByTimeAsync(500);
      delays.push(Date.now() - before);
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(runner.isAlive()).toBe(true);
    crashWithoutRestart(consumers[consumers.length - 1]);
    expect(runner.isAlive()).toBe(false);
    await runner.stop();
  });

  it('starts counting again after the rebuilt consumer joins its group', async () => {
    const { runner, consumers } = setup();
    await runner.start();
    crashWithoutRestart(consumers[0]);
    await jest.advanceTimersByTimeAsync(1_000);
    crashWithoutRestart(consumers[1]);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(consumers).toHaveLength(3);
    consumers[2].join!({ payload: { memberAssignment: { 't.chunks': [0] }, duration: 5 } });
    crashWithoutRestart(consumers[2]);
    await jest.advanceTimersByTimeAsync(1_000); // back to the first delay
    expect(consumers).toHaveLength(4);
    await runner.stop();
  });
});

describe('StageRunner stall watchdog', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  it('rebuilds a consumer that consumes nothing while its input lags, after the stall timeout', async () => {
    const { runner, consumers, producers, metrics } = setup({ inputLag: 40, stallTimeoutMs: 60_000 });
    await runner.start();
    await jest.advanceTimersByTimeAsync(50_000);
    expect(consumers).toHaveLength(1); // not before the timeout
    await jest.advanceTimersByTimeAsync(25_000); // the watchdog fires, then the 1 s rebuild backoff
    expect([consumers.length, producers.length]).toEqual([2, 2]);
    expect((await metrics.consumerStalls.get()).values[0].value).toBe(1);
    await runner.stop();
  });

  it('leaves an idle consumer alone when there is no lag, and does nothing when turned off', async () => {
    const idle = setup({ inputLag: 0, stallTimeoutMs: 60_000 });
    await idle.runner.start();
    const off = setup({ inputLag: 40, stallTimeoutMs: 0 });
    await off.runner.start();
    await jest.advanceTimersByTimeAsync(300_000);
    expect([idle.consumers.length, off.consumers.length]).toEqual([1, 1]);
    await idle.runner.stop();
    await off.runner.stop();
  });
});
