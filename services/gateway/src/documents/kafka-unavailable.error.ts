import { TransientError } from '@rag/common';
import { KafkaJSError, KafkaJSNumberOfRetriesExceeded } from 'kafkajs';

/**
 * Kafka did not acknowledge a document in time (broker down, frozen, no leader, no quorum).
 * The document is not accepted; the client should send it again after `retryAfterSeconds`.
 */
export class KafkaUnavailableError extends TransientError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Whether a failed send means "Kafka is not available now" (worth retrying later) rather than a
 * definite rejection of the record: kafkajs marks connection, timeout and leadership errors
 * retriable, and wraps them in KafkaJSNumberOfRetriesExceeded once its own retries are spent.
 */
export function isKafkaAvailabilityError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof KafkaJSNumberOfRetriesExceeded) return true;
    if (e instanceof KafkaJSError && e.retriable) return true;
  }
  return false;
}
