import { TokenBuckets } from './token-bucket';

describe('TokenBuckets', () => {
  it('grants the burst, then one token per 1/rate seconds, per key', () => {
    let now = 0;
    const buckets = new TokenBuckets(2, 3, () => now);
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([undefined, undefined, undefined]);
    expect(buckets.take('a')).toBe(1);
    expect(buckets.take('b')).toBeUndefined();
    now = 500;
    expect(buckets.take('a')).toBeUndefined();
    expect(buckets.take('a')).toBe(1);
    now = 10_000;
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([undefined, undefined, undefined, 1]);
  });

  it('answers the whole seconds until the next token at a slow rate', () => {
    const buckets = new TokenBuckets(0.1, 1, () => 0);
    buckets.take('k');
    expect(buckets.take('k')).toBe(10);
  });
});
