import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded } from 'kafkajs';
import { elasticsearchFailure, kafkaFailure } from './health';

describe('readiness failure reasons', () => {
  it('names a Kafka refusal in a few words, never the broker message', () => {
    // kafkajs' typings omit this class's constructor; the name is what the probe reads.
    const sasl = Object.assign(new Error('SASL SCRAM SHA512 authentication failed for user rag'), { name: 'KafkaJSSASLAuthenticationError' });
    expect(kafkaFailure(sasl)).toBe('authentication failed');
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092', { code: 'ECONNREFUSED' });
    expect(kafkaFailure(refused)).toBe('ECONNREFUSED');
    expect(kafkaFailure(new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 3, retryTime: 100 }))).toBe('ECONNREFUSED');
    expect(kafkaFailure(new Error('timed out after 3000 ms'))).toBe('timed out after 3000 ms');
  });

  it('names an Elasticsearch refusal by its HTTP status or socket code', () => {
    expect(elasticsearchFailure(Object.assign(new Error('security_exception: unable to authenticate user [rag]'), { meta: { statusCode: 401 } }))).toBe('HTTP 401');
    expect(elasticsearchFailure(Object.assign(new Error('self-signed certificate in certificate chain'), { name: 'ConnectionError', cause: { code: 'SELF_SIGNED_CERT_IN_CHAIN' } }))).toBe(
      'SELF_SIGNED_CERT_IN_CHAIN',
    );
  });
});
