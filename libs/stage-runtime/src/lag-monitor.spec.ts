import type { Admin, Kafka } from 'kafkajs';
import pino from 'pino';
import { LagMonitor } from './lag-monitor';

/** An admin client stand-in: `hang` makes its next fetchOffsets never answer (as one did after a broker restart). */
function fakeAdmin(committed: string, high: string) {
  const admin = {
    hang: false,
    disconnected: false,
    connect: (): Promise<void> => Promise.resolve(),
    disconnect: async () => {
      admin.disconnected = true;
    },
    fetchOffsets: () =>
      admin.hang
        ? new Promise<never>(() => undefined)
        : Promise.resolve([{ topic: 'in', partitions: [{ partition: 0, offset: committed, metadata: null }] }]),
    fetchTopicOffsets: async () => [{ partition: 0, offset: high, low: '0', high }],
  };
  return admin;
}

describe('LagMonitor', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  it('replaces an admin client whose poll hangs, and reports no figure while it has none fresh', async () => {
    const admins = [fakeAdmin('10', '50'), fakeAdmin('10', '70')];
    let made = 0;
    const kafka = { admin: () => admins[made++] as unknown as Admin } as unknown as Kafka;
    const monitor = new LagMonitor(kafka, 'g', ['in'], () => undefined, pino({ level: 'silent' }), 1_000);
    await monitor.start();
    expect(monitor.lagOf('in')).toBe(40);

    admins[0].hang = true;
    await jest.advanceTimersByTimeAsync(1_000); // the next poll starts and hangs
    expect(made).toBe(1);
    await jest.advanceTimersByTimeAsync(1_000); // its deadline: the client is replaced
    expect(made).toBe(2);
    expect(admins[0].disconnected).toBe(true);
    await jest.advanceTimersByTimeAsync(1_000); // the new client answers
    expect(monitor.lagOf('in')).toBe(60);
    await monitor.stop();
  });

  it('keeps polling while a replacement client cannot connect (the broker is still coming back)', async () => {
    const admins = [fakeAdmin('0', '5'), fakeAdmin('0', '5'), fakeAdmin('0', '9')];
    admins[1].connect = () => new Promise<void>(() => undefined); // retries for minutes
    let made = 0;
    const kafka = { admin: () => admins[made++] as unknown as Admin } as unknown as Kafka;
    const monitor = new LagMonitor(kafka, 'g', ['in'], () => undefined, pino({ level: 'silent' }), 1_000);
    await monitor.start();
    admins[0].fetchOffsets = () => Promise.reject(new Error('connection refused'));
    await jest.advanceTimersByTimeAsync(1_000); // fails: replaced by the client that cannot connect
    expect(made).toBe(2);
    await jest.advanceTimersByTimeAsync(2_000); // that poll waits for the connect until its deadline: replaced again
    expect(made).toBe(3);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(monitor.lagOf('in')).toBe(9);
    await monitor.stop();
  });

  it('reads an old figure as unknown rather than as the lag now', async () => {
    const admin = fakeAdmin('0', '5');
    const kafka = { admin: () => admin as unknown as Admin } as unknown as Kafka;
    const monitor = new LagMonitor(kafka, 'g', ['in'], () => undefined, pino({ level: 'silent' }), 1_000);
    await monitor.start();
    expect(monitor.lagOf('in')).toBe(5);
    admin.fetchOffsets = () => Promise.reject(new Error('connection refused'));
    await jest.advanceTimersByTimeAsync(2_500);
    expect(monitor.lagOf('in')).toBe(5); // still within three intervals
    await jest.advanceTimersByTimeAsync(1_000);
    expect(monitor.lagOf('in')).toBeUndefined();
    await monitor.stop();
  });
});
