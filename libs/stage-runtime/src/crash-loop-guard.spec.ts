import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { CrashLoopGuard, decodeMarker, encodeMarker, planSlice, type SliceMarker } from './crash-loop-guard';

const offsets = ['10', '11', '12', '13', '14'];
const plan = (marker?: SliceMarker, suspectUntil?: bigint, from = offsets) =>
  planSlice({ offsets: from, marker, suspectUntil, maxRecords: 4, maxDeaths: 3 });

describe('planSlice', () => {
  it('handles up to maxRecords at once when nothing died', () => {
    expect(plan()).toEqual({ action: 'handle', records: 4, suspect: false, marker: { first: '10', last: '13', attempt: 1 } });
    expect(plan(undefined, undefined, ['10', '11'])).toEqual({
      action: 'handle',
      records: 2,
      suspect: false,
      marker: { first: '10', last: '11', attempt: 1 },
    });
  });

  it('ignores a marker of another offset (a slice that finished, or records gone by retention)', () => {
    expect(plan({ first: '7', last: '9', attempt: 2 })).toMatchObject({ action: 'handle', records: 4 });
  });

  it('after a death inside a slice, handles its first record alone, counting the attempt', () => {
    expect(plan({ first: '10', last: '13', attempt: 1 })).toEqual({
      action: 'handle',
      records: 1,
      suspect: true,
      marker: { first: '10', last: '10', attempt: 2 },
    });
  });

  it('keeps handling the records of the slice that died one at a time, then goes back to slices', () => {
    expect(plan(undefined, 13n, ['12', '13', '14'])).toEqual({
      action: 'handle',
      records: 1,
      suspect: true,
      marker: { first: '12', last: '12', attempt: 1 },
    });
    expect(plan(undefined, 13n, ['14', '15'])).toMatchObject({ action: 'handle', records: 2 });
  });

  it('dead-letters a record that died maxDeaths times alone, and not before', () => {
    expect(plan({ first: '12', last: '12', attempt: 2 }, 13n, ['12', '13'])).toEqual({
      action: 'handle',
      records: 1,
      suspect: true,
      marker: { first: '12', last: '12', attempt: 3 },
    });
    expect(plan({ first: '12', last: '12', attempt: 3 }, undefined, ['12', '13'])).toEqual({ action: 'dead-letter', deaths: 3 });
  });

  it('after a death with several slices in flight (one marker spans them), narrows down all of them', () => {
    expect(plan({ first: '10', last: '14', attempt: 1 })).toEqual({
      action: 'handle',
      records: 1,
      suspect: true,
      marker: { first: '10', last: '10', attempt: 2 },
    });
    expect(plan(undefined, 14n, ['14', '15'])).toMatchObject({ records: 1, suspect: true });
  });

  it('does not dead-letter on deaths of a whole slice: they only narrow it down', () => {
    expect(plan({ first: '10', last: '13', attempt: 5 })).toMatchObject({ action: 'handle', records: 1, marker: { attempt: 6 } });
  });
});

describe('slice markers in commit metadata', () => {
  it('round-trips and ignores metadata that is not ours', () => {
    const marker = { first: '10', last: '13', attempt: 2 };
    expect(decodeMarker(encodeMarker(marker))).toEqual(marker);
    const owned = { ...marker, owner: 'indexer-5c1d' };
    expect(decodeMarker(encodeMarker(owned))).toEqual(owned);
    for (const other of [null, undefined, '', 'event-id-3', 'rag-slice-in-flight:{oops', 'rag-slice-in-flight:{"first":1}']) {
      expect(decodeMarker(other)).toBeUndefined();
    }
  });
});

describe('CrashLoopGuard reading the markers', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  it('gives up on an admin client that does not answer, and reads with a new one next time', async () => {
    const admins: { hang: boolean; disconnected: boolean }[] = [];
    const kafka = {
      admin: () => {
        const admin = {
          hang: admins.length === 0,
          disconnected: false,
          connect: async () => undefined,
          disconnect: async () => {
            admin.disconnected = true;
          },
          // After a broker restart one client was seen answering nothing at all.
          fetchOffsets: () =>
            admin.hang
              ? new Promise(() => undefined)
              : Promise.resolve([{ topic: 'in', partitions: [{ partition: 0, offset: '10', metadata: null }] }]),
        };
        admins.push(admin);
        return admin;
      },
    } as unknown as Kafka;
    const guard = new CrashLoopGuard(kafka, 'g', 4, 3, pino({ level: 'silent' }));

    const hung = guard.plan('in', 0, ['10', '11']);
    const failed = expect(hung).rejects.toThrow('reading the slice markers took longer than 15000 ms');
    await jest.advanceTimersByTimeAsync(15_000);
    await failed;
    expect(admins[0].disconnected).toBe(true);

    await expect(guard.plan('in', 0, ['10', '11'])).resolves.toMatchObject({ action: 'handle', records: 2 });
    expect(admins).toHaveLength(2);
  });
});
