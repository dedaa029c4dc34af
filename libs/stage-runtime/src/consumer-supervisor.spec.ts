import type { Consumer } from 'kafkajs';
import pino from 'pino';
import { ConsumerSupervisor } from './consumer-supervisor';

type CrashListener = (event: { payload: { error: Error; restart: boolean } }) => void;

/** Just enough of a kafkajs consumer to crash it. */
function fakeConsumer(): Consumer & { crash: (restart: boolean) => void } {
  let listener: CrashListener | undefined;
  return {
    events: { CRASH: 'crash' },
    on: (_event: string, l: CrashListener) => (listener = l),
    crash: (restart: boolean) => listener!({ payload: { error: new Error('Failed to find group coordinator'), restart } }),
  } as unknown as Consumer & { crash: (restart: boolean) => void };
}

describe('ConsumerSupervisor', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  function setup() {
    const rebuilt: Consumer[] = [];
    let finishRebuild = () => undefined as void;
    const counters = { stalls: { inc: jest.fn() }, rebuilds: { inc: jest.fn() } };
    const supervisor: ConsumerSupervisor = new ConsumerSupervisor({
      stallTimeoutMs: 0,
      findStall: () => undefined,
      rebuild: async (broken) => {
        rebuilt.push(broken);
        // Reconnecting to a broker that is coming back takes a while.
        await new Promise<void>((resolve) => (finishRebuild = resolve));
        supervisor.watch(fakeConsumer());
      },
      counters,
      logger: pino({ level: 'silent' }),
    });
    supervisor.start();
    return { supervisor, rebuilt, counters, finish: () => finishRebuild() };
  }

  it('leaves crashes kafkajs restarts from to kafkajs', async () => {
    const { supervisor, rebuilt } = setup();
    const consumer = fakeConsumer();
    supervisor.watch(consumer);
    consumer.crash(true);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(rebuilt).toHaveLength(0);
  });

  it('rebuilds once when the replaced consumer fails again while the rebuild is running', async () => {
    const { supervisor, rebuilt, counters, finish } = setup();
    const consumer = fakeConsumer();
    supervisor.watch(consumer);
    consumer.crash(false);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(rebuilt).toEqual([consumer]);
    // Its slices still in flight fail their commits meanwhile: no second rebuild for them.
    supervisor.scheduleRebuild(consumer);
    finish();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(rebuilt).toHaveLength(1);
    expect(counters.rebuilds.inc).toHaveBeenCalledTimes(1);
    expect(supervisor.isAlive()).toBe(true);
  });
});
