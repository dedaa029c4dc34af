import { HttpException, type INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { ApiErrorBody } from './api-error.filter';

/** What express's body parser attaches to the errors it raises (`type`, `status`, sizes). */
interface BodyParserError {
  type: string;
  status: number;
  message: string;
  length?: number;
  limit?: number;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  const e = err as Partial<BodyParserError> | null;
  return (
    typeof e?.type === 'string' &&
    typeof e.status === 'number' &&
    (e.type.startsWith('entity.') || e.type === 'encoding.unsupported' || e.type === 'charset.unsupported')
  );
}

function bodyOf(err: BodyParserError): ApiErrorBody {
  switch (err.type) {
    case 'entity.too.large':
      return { error: 'too_large', message: `request body is ${err.length ?? 'more than'} bytes, the limit is ${err.limit} bytes` };
    case 'entity.parse.failed':
      return { error: 'invalid_json', message: `request body is not valid JSON: ${err.message}` };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { error: 'unsupported_media_type', message: err.message };
    default:
      return { error: 'invalid_request', message: err.message };
  }
}

/**
 * The body parser's errors become HttpExceptions with the API's body before Nest sees them
 * (Nest turns invalid JSON into a plain BadRequestException and its code would be lost).
 * Mounted right after the body parser, before the routes.
 */
export function translateBodyParserErrors(app: INestApplication): void {
  app.use((err: unknown, _req: Request, _res: Response, next: NextFunction) => {
    next(isBodyParserError(err) ? new HttpException(bodyOf(err), err.status, { cause: err }) : err);
  });
}
