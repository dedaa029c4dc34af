import { PermanentError, TransientError } from '@rag/common';
import { Headers, UndecodableRecordError } from '@rag/contracts';
import {
  attemptOf,
  errorClassOf,
  failureHeaders,
  firstFailureAtOf,
  headersToStrings,
  notBeforeOf,
  originOf,
  type SourcePosition,
} from './failure-headers';

const FAILURE_HEADERS = [
  'x-retry-attempt',
  'x-original-topic',
  'x-original-partition',
  'x-original-offset',
  'x-first-failure-at',
  'x-error-kind',
  'x-error-class',
  'x-error-message',
  'x-stage',
];

const fromMainTopic: SourcePosition = {
  topic: 'ingest.chunks',
  partition: 4,
  offset: '1234',
  headers: { traceparent: '00-abc-def-01', 'content-origin': 'upload' },
};

describe('errorClassOf', () => {
  it('names the class an error was created as, subclasses included', () => {
    class RecordTooLargeError extends PermanentError {}
    expect(errorClassOf(new PermanentError('x'))).toBe('PermanentError');
    expect(errorClassOf(new TransientError('x'))).toBe('TransientError');
    expect(errorClassOf(new RecordTooLargeError('x'))).toBe('RecordTooLargeError');
    expect(errorClassOf(new UndecodableRecordError('x'))).toBe('UndecodableRecordError');
    expect(errorClassOf(new TypeError('x'))).toBe('TypeError');
    expect(errorClassOf(Object.assign(new Error('x'), { name: 'AbortError' }))).toBe('AbortError');
    expect(errorClassOf('a string')).toBe('string');
  });
});

describe('failureHeaders', () => {
  it('records the position of a record that first failed on its main topic', () => {
    const headers = failureHeaders({
      source: fromMainTopic,
      stage: 'embedder',
      attempt: 1,
      notBefore: 1_700_000_001_500,
      firstFailureAt: 1_700_000_000_000,
      kind: 'transient',
      errorClass: 'TransientError',
      message: 'embedding request failed: 503',
    });
    expect(headers).toEqual({
      traceparent: '00-abc-def-01',
      'content-origin': 'upload',
      'x-retry-attempt': '1',
      'x-retry-not-before': '1700000001500',
      'x-original-topic': 'ingest.chunks',
      'x-original-partition': '4',
      'x-original-offset': '1234',
      'x-first-failure-at': '1700000000000',
      'x-error-kind': 'transient',
      'x-error-class': 'TransientError',
      'x-error-message': 'embedding request failed: 503',
      'x-stage': 'embedder',
    });
  });

  it('keeps the original position and first failure time of a record read back from the retry topic', () => {
    const retried: SourcePosition = {
      topic: 'ingest.embedder.retry.5s',
      partition: 0,
      offset: '77',
      headers: {
        traceparent: '00-abc-def-01',
        'x-retry-attempt': '2',
        'x-retry-not-before': '1700000003000',
        'x-original-topic': 'ingest.chunks',
        'x-original-partition': '4',
        'x-original-offset': '1234',
        'x-first-failure-at': '1700000000000',
        'x-error-kind': 'transient',
        'x-error-message': 'old message',
        'x-stage': 'embedder',
      },
    };
    const headers = failureHeaders({
      source: retried,
      stage: 'embedder',
      attempt: 3,
      notBefore: 1_700_000_009_000,
      firstFailureAt: firstFailureAtOf(retried.headers, 1_700_000_005_000),
      kind: 'transient',
      errorClass: 'TransientError',
      message: 'still down',
    });
    expect(headers[Headers.originalTopic]).toBe('ingest.chunks');
    expect(headers[Headers.originalPartition]).toBe('4');
    expect(headers[Headers.originalOffset]).toBe('1234');
    expect(headers[Headers.firstFailureAt]).toBe('1700000000000');
    expect(headers[Headers.retryAttempt]).toBe('3');
    expect(headers[Headers.retryNotBefore]).toBe('1700000009000');
    expect(headers[Headers.errorMessage]).toBe('still down');
    expect(headers.traceparent).toBe('00-abc-def-01');
  });

  it('carries every required header on retry records, and x-retry-not-before only there', () => {
    const args = {
      source: fromMainTopic,
      stage: 'chunker',
      attempt: 1,
      firstFailureAt: 1,
      kind: 'transient' as const,
      errorClass: 'TransientError',
      message: 'm',
    };
    const retry = failureHeaders({ ...args, notBefore: 2 });
    for (const name of [...FAILURE_HEADERS, 'x-retry-not-before']) expect(retry).toHaveProperty([name]);

    const dlq = failureHeaders({ ...args, kind: 'permanent', attempt: 0 });
    for (const name of FAILURE_HEADERS) expect(dlq).toHaveProperty([name]);
    expect(dlq).not.toHaveProperty([Headers.retryNotBefore]);
    expect(dlq[Headers.errorKind]).toBe('permanent');
    expect(Object.values(dlq).every((v) => typeof v === 'string')).toBe(true);
  });

  it('does not carry a stale x-retry-not-before onto the DLQ when a retried record is dead-lettered', () => {
    const retried: SourcePosition = {
      ...fromMainTopic,
      topic: 'ingest.embedder.retry.5s',
      headers: { 'x-retry-attempt': '10', 'x-retry-not-before': '1700000003000', 'x-first-failure-at': '1700000000000' },
    };
    const dlq = failureHeaders({
      source: retried,
      stage: 'embedder',
      attempt: 10,
      firstFailureAt: 1_700_000_000_000,
      kind: 'transient',
      errorClass: 'TransientError',
      message: 'gave up',
    });
    expect(dlq).not.toHaveProperty([Headers.retryNotBefore]);
    expect(dlq[Headers.retryAttempt]).toBe('10');
  });

  it('truncates a long error message', () => {
    const message = 'x'.repeat(50_000);
    const headers = failureHeaders({
      source: fromMainTopic,
      stage: 'indexer',
      attempt: 0,
      firstFailureAt: 1,
      kind: 'permanent',
      errorClass: 'PermanentError',
      message,
    });
    expect(headers[Headers.errorMessage].length).toBeLessThan(message.length);
    expect(headers[Headers.errorMessage].length).toBeLessThanOrEqual(1_000);
    expect(message.startsWith(headers[Headers.errorMessage])).toBe(true);
  });
});

describe('reading failure headers back', () => {
  it('originOf falls back to the record position when there are no original-* headers', () => {
    expect(originOf(fromMainTopic)).toEqual({ topic: 'ingest.chunks', partition: '4', offset: '1234' });
    expect(
      originOf({
        topic: 'r',
        partition: 0,
        offset: '1',
        headers: { 'x-original-topic': 't', 'x-original-partition': '2', 'x-original-offset': '9' },
      }),
    ).toEqual({ topic: 't', partition: '2', offset: '9' });
  });

  it('attemptOf is 0 for a fresh record and for garbage', () => {
    expect(attemptOf({})).toBe(0);
    expect(attemptOf({ 'x-retry-attempt': '4' })).toBe(4);
    expect(attemptOf({ 'x-retry-attempt': 'four' })).toBe(0);
    expect(attemptOf({ 'x-retry-attempt': '-3' })).toBe(0);
  });

  it('firstFailureAtOf and notBeforeOf parse epoch ms, with fallbacks', () => {
    expect(firstFailureAtOf({ 'x-first-failure-at': '1700000000000' }, 5)).toBe(1_700_000_000_000);
    expect(firstFailureAtOf({}, 5)).toBe(5);
    expect(firstFailureAtOf({ 'x-first-failure-at': 'nope' }, 5)).toBe(5);
    expect(notBeforeOf({ 'x-retry-not-before': '1700000000123' })).toBe(1_700_000_000_123);
    expect(notBeforeOf({})).toBe(0);
    expect(notBeforeOf({ 'x-retry-not-before': 'soon' })).toBe(0);
  });
});

describe('headersToStrings', () => {
  it('decodes Buffers as UTF-8, keeps strings, takes the first of an array and skips undefined', () => {
    expect(
      headersToStrings({
        a: Buffer.from('ümlaut', 'utf8'),
        b: 'plain',
        c: [Buffer.from('first'), Buffer.from('second')],
        d: ['one', 'two'],
        e: undefined,
      }),
    ).toEqual({ a: 'ümlaut', b: 'plain', c: 'first', d: 'one' });
  });

  it('returns an empty object for missing headers', () => {
    expect(headersToStrings(undefined)).toEqual({});
    expect(headersToStrings({})).toEqual({});
  });

  it('round-trips the headers failureHeaders writes, as Kafka hands them back (Buffers)', () => {
    const written = failureHeaders({
      source: fromMainTopic,
      stage: 'embedder',
      attempt: 2,
      notBefore: 99,
      firstFailureAt: 7,
      kind: 'transient',
      errorClass: 'TransientError',
      message: 'é',
    });
    const asRead = Object.fromEntries(Object.entries(written).map(([k, v]) => [k, Buffer.from(v, 'utf8')]));
    expect(headersToStrings(asRead)).toEqual(written);
  });
});
