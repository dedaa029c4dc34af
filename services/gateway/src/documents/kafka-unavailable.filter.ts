import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { KafkaUnavailableError } from './kafka-unavailable.error';

/** 503 with Retry-After and the API's error body ({error, message}) when Kafka did not take a document. */
@Catch(KafkaUnavailableError)
export class KafkaUnavailableFilter implements ExceptionFilter<KafkaUnavailableError> {
  catch(err: KafkaUnavailableError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    res.status(503).setHeader('Retry-After', String(err.retryAfterSeconds)).json({ error: 'kafka_unavailable', message: err.message });
  }
}
