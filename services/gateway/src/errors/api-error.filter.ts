import { Catch, HttpException, HttpStatus, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { ROOT_LOGGER } from '@rag/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { KafkaUnavailableError } from '../documents/kafka-unavailable.error';

/** The one error body of the API, for every error: a stable code and a message for people. */
export interface ApiErrorBody {
  error: string;
  message: string;
}

/** Codes for errors raised without one (Nest's own, multer's), by status. */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  502: 'bad_gateway',
  503: 'unavailable',
};

/**
 * Every error the gateway answers has the body `{error, message}`: its own exceptions (which
 * carry both), Nest's (unknown route), multer's and body-parser's (translated by
 * translateBodyParserErrors: body too large, invalid JSON),
 * Kafka being unavailable (503 with Retry-After). Anything else is a 500 whose detail goes to the
 * log, not to the client.
 */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  constructor(@Inject(ROOT_LOGGER) private readonly logger: Logger) {}

  catch(err: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const req = http.getRequest<Request>();
    if (res.headersSent) return;
    if (err instanceof KafkaUnavailableError) {
      res.setHeader('Retry-After', String(err.retryAfterSeconds));
      this.send(res, 503, { error: 'kafka_unavailable', message: err.message });
      return;
    }
    if (err instanceof HttpException && isHealthReport(err.getResponse())) {
      // /healthz and /readyz answer 503 with Terminus' report (which check failed), not an API error.
      res.status(err.getStatus()).json(err.getResponse());
      return;
    }
    if (err instanceof HttpException) {
      this.send(res, err.getStatus(), fromHttpException(err));
      return;
    }
    this.logger.error({ err, method: req.method, url: req.originalUrl }, 'unhandled error');
    this.send(res, HttpStatus.INTERNAL_SERVER_ERROR, { error: 'internal', message: 'internal error; see the gateway log' });
  }

  private send(res: Response, status: number, body: ApiErrorBody): void {
    res.status(status).json(body);
  }
}

function isHealthReport(response: unknown): boolean {
  const r = response as { status?: unknown; details?: unknown } | null;
  return typeof r === 'object' && r !== null && (r.status === 'error' || r.status === 'ok') && typeof r.details === 'object';
}

function fromHttpException(err: HttpException): ApiErrorBody {
  const status = err.getStatus();
  const response = err.getResponse();
  const fallbackCode = CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal' : 'error');
  if (typeof response === 'string') return { error: fallbackCode, message: response };
  const body = response as { error?: unknown; message?: unknown };
  const message = Array.isArray(body.message) ? body.message.join('; ') : typeof body.message === 'string' ? body.message : err.message;
  // Our exceptions carry a snake_case code; Nest's carry the status text ("Not Found") there.
  const code = typeof body.error === 'string' && /^[a-z_]+$/.test(body.error) ? body.error : fallbackCode;
  return { error: code, message };
}
