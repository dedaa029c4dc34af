/**
 * kafkajs 2.2.4 (its latest release) re-arms a 1 ms timer forever in every broker connection's
 * request queue once a request completed, even with nothing queued (kafkajs#1556): each client
 * spun its event loop ~1,000 times a second while idle. patches/kafkajs+2.2.4.patch (applied by
 * `npm install` through patch-package) schedules a check only while requests are queued. These
 * tests fail on the unpatched module.
 */
interface SocketRequestLike {
  entry: { correlationId: number; apiKey: number; apiName: string; apiVersion: number };
  expectResponse: boolean;
  sendRequest: () => void;
}
interface RequestQueueLike {
  pending: unknown[];
  checkPendingRequests(): void;
  maybeThrottle(ms: number): void;
  push(request: SocketRequestLike): void;
  destroy(): void;
}
type RequestQueueClass = new (options: Record<string, unknown>) => RequestQueueLike;

// eslint-disable-next-line @typescript-eslint/no-require-imports -- an internal module of kafkajs, without types
const RequestQueue = require('kafkajs/src/network/requestQueue') as RequestQueueClass;

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const queue = (maxInFlightRequests = 5) =>
  new RequestQueue({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'test',
    broker: 'b:9092',
    logger: silent,
  });
const request = (correlationId: number, sendRequest = jest.fn()): SocketRequestLike => ({
  entry: { correlationId, apiKey: 1, apiName: 'Fetch', apiVersion: 11 },
  expectResponse: true,
  sendRequest,
});

describe('kafkajs request queue (patched)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('arms no timer when nothing is queued', () => {
    const q = queue();
    q.checkPendingRequests(); // what every completed request does
    jest.advanceTimersByTime(100);
    expect(jest.getTimerCount()).toBe(0);
    q.destroy();
  });

  it('still sends a request queued behind a client-side throttle once the throttle ends', () => {
    const q = queue();
    q.maybeThrottle(50);
    const send = jest.fn();
    q.push(request(1, send));
    expect(q.pending).toHaveLength(1);
    jest.advanceTimersByTime(49);
    expect(send).not.toHaveBeenCalled();
    jest.advanceTimersByTime(20);
    expect(send).toHaveBeenCalledTimes(1);
    expect(q.pending).toHaveLength(0);
    expect(jest.getTimerCount()).toBe(0);
    q.destroy();
  });
});
