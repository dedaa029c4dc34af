import { RegistryUnavailableError, SchemaViolationError, UndecodableRecordError } from '@rag/contracts';
import { classifyError, errorMessage, PermanentError, TransientError } from './errors';

/** An HTTP-ish error as SDKs throw them: an Error with a numeric `status`. */
function httpError(status: number): Error {
  return Object.assign(new Error(`HTTP ${status}`), { status });
}

describe('classifyError', () => {
  it('trusts typed errors', () => {
    expect(classifyError(new TransientError('dependency down'))).toBe('transient');
    expect(classifyError(new PermanentError('bad content'))).toBe('permanent');
    expect(new TransientError('x').retriable).toBe(true);
    expect(new PermanentError('x').retriable).toBe(false);
  });

  it('a typed error wins over a status it also carries', () => {
    expect(classifyError(Object.assign(new PermanentError('rejected'), { status: 503 }))).toBe('permanent');
    expect(classifyError(Object.assign(new TransientError('throttled'), { status: 400 }))).toBe('transient');
  });

  it.each([429, 408, 500, 502, 503, 504])('HTTP %i is transient', (status) => {
    expect(classifyError(httpError(status))).toBe('transient');
  });

  it.each([400, 401, 403, 404, 409, 413, 422])('HTTP %i is permanent', (status) => {
    expect(classifyError(httpError(status))).toBe('permanent');
  });

  it('reads statusCode as well as status', () => {
    expect(classifyError(Object.assign(new Error('x'), { statusCode: 404 }))).toBe('permanent');
    expect(classifyError(Object.assign(new Error('x'), { statusCode: 503 }))).toBe('transient');
  });

  it('reads meta.statusCode, the shape of an Elasticsearch client ResponseError', () => {
    const esError = (statusCode: number) =>
      Object.assign(new Error('ResponseError'), {
        name: 'ResponseError',
        meta: { statusCode, body: { error: { type: 'x' } }, headers: {} },
      });
    expect(classifyError(esError(400))).toBe('permanent');
    expect(classifyError(esError(429))).toBe('transient');
    expect(classifyError(esError(503))).toBe('transient');
  });

  it('treats connection errors as transient', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT']) {
      expect(classifyError(Object.assign(new Error(`connect ${code} 127.0.0.1:9200`), { code }))).toBe('transient');
    }
  });

  it('treats an undecodable record as permanent and an unreachable registry as transient', () => {
    expect(classifyError(new UndecodableRecordError('unknown magic byte 7'))).toBe('permanent');
    expect(classifyError(new RegistryUnavailableError('registry down'))).toBe('transient');
  });

  it('treats a value that does not match its Avro schema as permanent', () => {
    expect(classifyError(new SchemaViolationError('Chunk does not match its Avro schema at: text'))).toBe('permanent');
    // Classified by type where it is created, not by the wording of a message.
    expect(classifyError(new TypeError('Chunk does not match its Avro schema at: text'))).toBe('transient');
  });

  it('treats anything unknown as transient (retrying costs time, dead-lettering loses a document)', () => {
    expect(classifyError(new Error('something odd'))).toBe('transient');
    expect(classifyError('a thrown string')).toBe('transient');
    expect(classifyError(undefined)).toBe('transient');
    expect(classifyError(null)).toBe('transient');
  });
});

describe('errorMessage', () => {
  it('uses the message, the name when the message is empty, or the stringified value', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage(new TransientError(''))).toBe('TransientError');
    expect(errorMessage(42)).toBe('42');
  });
});
