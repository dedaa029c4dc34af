import type { Message } from 'kafkajs';
import { splitIntoRequests } from './produce-requests';

const msg = (key: string, bytes: number): Message => ({ key, value: Buffer.alloc(bytes) });

describe('splitIntoRequests', () => {
  it('keeps a small slice in one request', () => {
    const out = new Map([
      ['a', [msg('1', 10), msg('2', 10)]],
      ['b', [msg('3', 10)]],
    ]);
    const requests = splitIntoRequests(out, 10_000);
    expect(requests).toHaveLength(1);
    expect(requests[0].map((t) => [t.topic, t.messages.length])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
  });

  it('cuts a large slice into requests under the bound, keeping every message once and in order', () => {
    const messages = Array.from({ length: 1_700 }, (_, i) => msg(`doc-${i % 7}`, 600 + (i % 5) * 100));
    const requests = splitIntoRequests(new Map([['chunks', messages]]), 100_000);
    expect(requests.length).toBeGreaterThan(5);
    for (const request of requests) {
      const bytes = request.flatMap((t) => t.messages).reduce((n, m) => n + (m.value as Buffer).length + 64 + 5, 0);
      expect(bytes).toBeLessThanOrEqual(100_000);
    }
    expect(requests.flatMap((r) => r.flatMap((t) => t.messages))).toEqual(messages);
  });

  it('sends a message larger than the bound alone', () => {
    const requests = splitIntoRequests(new Map([['docs', [msg('a', 10), msg('b', 5_000), msg('c', 10)]]]), 1_000);
    expect(requests.map((r) => r[0].messages.map((m) => m.key))).toEqual([['a'], ['b'], ['c']]);
  });
});
