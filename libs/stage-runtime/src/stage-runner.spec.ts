import { topicNames, type ContractSerde } from '@rag/contracts';
import { KafkaJSNonRetriableError, KafkaJSProtocolError, type EachBatchPayload, type Kafka, type KafkaMessage } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { StageMetrics } from './stage-metrics';
import { decodeMarker } from './crash-loop-guard';
import { endsGeneration, StageRunner } from './stage-runner';
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
  eachBatch?: (payload: EachBatchPayload) => Promise<void>;
  commits: Array<{ offset: string; metadata?: string }> = [];
  /** Commits from this one on are refused as a rebalance would refuse them. */
  refuseCommitsFrom = Infinity;
  paused: Array<{ topic: string; partitions?: number[] }> = [];
  resumed: Array<{ topic: string; partitions?: number[] }> = [];
  on(event: string, listener: never): void {
    if (event === 'crash') this.crash = listener;
    else this.join = listener;
  }
  connect = async () => undefined;
  subscribe = async () => undefined;
  run = async ({ eachBatch }: { eachBatch: (payload: EachBatchPayload) => Promise<void> }) => {
    this.eachBatch = eachBatch;
  };
  commitOffsets = async ([commit]: Array<{ offset: string; metadata?: string }>) => {
    if (this.commits.length >= this.refuseCommitsFrom) throw rebalanceRefusal();
    this.commits.push(commit);
  };
  pause = (partitions: Array<{ topic: string; partitions?: number[] }>) => this.paused.push(...partitions);
  resume = (partitions: Array<{ topic: string; partitions?: number[] }>) => this.resumed.push(...partitions);
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

/** What kafkajs throws when the coordinator refuses a commit of an ended generation (wrapped by its retrier). */
const rebalanceRefusal = () => {
  const protocol = new KafkaJSProtocolError({
    type: 'ILLEGAL_GENERATION',
    code: 22,
    message: 'Specified group generation id is not valid',
  } as never);
  // The typings omit kafkajs' second argument; its retrier passes the protocol error as `cause`.
  const Wrapper = KafkaJSNonRetriableError as unknown as new (e: Error, options: { cause: Error }) => Error;
  return new Wrapper(protocol, { cause: protocol });
};

function setup(options: { inputLag?: number; stallTimeoutMs?: number; slicesInFlight?: number } = {}) {
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
  const serde = {
    registerWriter: async () => 1,
    prepareReader: async () => undefined,
    decode: async () => ({}),
  } as unknown as ContractSerde;
  const settings: StageRuntimeSettings = {
    stage: 'embedder',
    groupId: 'g',
    maxBatchRecords: 1,
    fetchMaxWaitMs: 100,
    fetchMaxBytesPerPartition: 1_000_000,
    fetchMaxBytes: 10_000_000,
    partitionsConcurrency: 1,
    slicesInFlight: options.slicesInFlight ?? 1,
    crashLoopMaxDeaths: 3,
    group: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 3_000, rebalanceTimeoutMs: 30_000 },
    retry: { maxAttempts: 3, minWindowMs: 0 },
    stallTimeoutMs: options.stallTimeoutMs ?? 0,
  };
  const metrics = new StageMetrics(new Registry());
  const handler = {
    handle: async (records: unknown[]) => records.map(() => ({ outputs: [] })),
  } as unknown as StageHandler<'Chunk'>;
  const runner = new StageRunner(kafka, serde, topicNames('t'), handler, settings, metrics, pino({ level: 'silent' }));
  return { runner, consumers, producers, metrics, input };
}

/** A batch of `count` records of partition 0 of `topic`, as kafkajs hands it to eachBatch. */
function batchOf(topic: string, count: number): EachBatchPayload {
  const messages = Array.from(
    { length: count },
    (_, i) => ({ offset: String(i), key: null, value: Buffer.from('x'), headers: {}, timestamp: '0', attributes: 0 }) as KafkaMessage,
  );
  return {
    batch: { topic, partition: 0, highWatermark: String(count), messages },
    resolveOffset: () => undefined,
    heartbeat: async () => undefined,
    isRunning: () => true,
    isStale: () => false,
  } as unknown as EachBatchPayload;
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

  it('rebuilds the clients when a commit has not returned for the stall timeout, lag or not', async () => {
    const { runner, consumers, producers, metrics, input } = setup({ inputLag: 0, stallTimeoutMs: 60_000 });
    await runner.start();
    const consumer = consumers[0];
    consumer.commitOffsets = () => new Promise<void>(() => undefined); // a request lost with its connection
    void consumer.eachBatch!(batchOf(input, 1));
    await jest.advanceTimersByTimeAsync(50_000);
    expect(consumers).toHaveLength(1); // not before the timeout
    await jest.advanceTimersByTimeAsync(25_000);
    expect([consumers.length, producers.length]).toEqual([2, 2]);
    expect((await metrics.consumerStalls.get()).values[0].value).toBe(1);
    // The lost call belonged to the replaced clients: the new ones are not rebuilt for it again.
    await jest.advanceTimersByTimeAsync(120_000);
    expect(consumers).toHaveLength(2);
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

describe('StageRunner with slices in flight, when a rebalance refuses a commit', () => {
  it('recognises the coordinator refusals that end a generation, through kafkajs wrappers', () => {
    expect(endsGeneration(rebalanceRefusal())).toBe(true);
    expect(endsGeneration(new KafkaJSProtocolError({ type: 'REBALANCE_IN_PROGRESS', code: 27, message: 'rebalancing' } as never))).toBe(
      true,
    );
    expect(endsGeneration(new KafkaJSProtocolError({ type: 'NOT_ENOUGH_REPLICAS', code: 19, message: 'replicas' } as never))).toBe(false);
    expect(endsGeneration(new Error('Specified group generation id is not valid'))).toBe(false);
  });

  it('pauses the partition and waits for the rejoin instead of rebuilding (a new member would look like a death)', async () => {
    const { runner, consumers, input } = setup({ slicesInFlight: 4 });
    await runner.start();
    const consumer = consumers[0];
    consumer.refuseCommitsFrom = 2;
    await consumer.eachBatch!(batchOf(input, 6));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(consumer.commits.length).toBe(2); // the rest were refused
    expect(consumer.paused).toEqual([{ topic: input, partitions: [0] }]);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // past the first rebuild backoff
    expect(consumers).toHaveLength(1);
    expect(consumer.resumed).toEqual([]);
    consumer.join!({ payload: { memberAssignment: { [input]: [0] }, duration: 5 } });
    expect(consumer.resumed).toEqual([{ topic: input, partitions: [0] }]);
    await runner.stop();
  });

  it('rebuilds the consumer when the rejoin does not come within the stall timeout', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    try {
      const { runner, consumers, input } = setup({ slicesInFlight: 4, stallTimeoutMs: 60_000 });
      await runner.start();
      consumers[0].refuseCommitsFrom = 2;
      await consumers[0].eachBatch!(batchOf(input, 6));
      await jest.advanceTimersByTimeAsync(50_000);
      expect(consumers).toHaveLength(1); // waiting for the rejoin
      await jest.advanceTimersByTimeAsync(25_000);
      expect(consumers).toHaveLength(2);
      await runner.stop();
    } finally {
      jest.useRealTimers();
    }
  });

  it('rebuilds the consumer when Kafka refuses a commit for any other reason', async () => {
    const { runner, consumers, input } = setup({ slicesInFlight: 4 });
    await runner.start();
    const consumer = consumers[0];
    consumer.commitOffsets = async () => {
      throw new KafkaJSProtocolError({ type: 'COORDINATOR_LOAD_IN_PROGRESS', code: 14, message: 'loading' } as never);
    };
    await consumer.eachBatch!(batchOf(input, 3)).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(consumers).toHaveLength(2);
    await runner.stop();
  });
});

describe('StageRunner one slice at a time, when Kafka refuses a commit', () => {
  it('fetches the slice again without taking the live failure for a death of the process', async () => {
    const { runner, consumers, input } = setup();
    await runner.start();
    const consumer = consumers[0];
    consumer.refuseCommitsFrom = 1; // the slice's marker is committed, its own commit is refused
    await expect(consumer.eachBatch!(batchOf(input, 1))).rejects.toThrow('generation id is not valid');
    consumer.refuseCommitsFrom = Infinity;
    await consumer.eachBatch!(batchOf(input, 1)); // kafkajs fetches the slice again
    const markers = consumer.commits.map((c) => decodeMarker(c.metadata));
    // A death would show as a second attempt at offset 0 (and three dead-letter the record).
    expect(markers).toEqual([{ first: '0', last: '0', attempt: 1 }, { first: '0', last: '0', attempt: 1 }, undefined]);
    await runner.stop();
  });
});
