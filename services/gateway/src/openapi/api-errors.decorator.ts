import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ERROR_BODY } from './schemas';

const DESCRIPTIONS: Record<number, string> = {
  400: 'invalid request (body, query or upload fields)',
  401: 'no API key, or an unknown one',
  403: 'the API key lacks the scope this route needs',
  404: 'no such document (or version)',
  409: 'version conflict (older than the current version, or deleted), or a documentId of another tenant',
  413: 'document or request body above its limit',
  415: 'unsupported media type or file type',
  429: 'rate limit of the API key (or open status streams) exceeded; retry after Retry-After',
  502: 'the embedding provider failed',
  503: 'a dependency is unavailable (Kafka did not take the record); retry after Retry-After',
  500: 'unexpected error (details in the gateway log)',
};

/** Documents the error answers of a route (always with 500): each has the API's `{error, message}` body. */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...[...statuses, 500].map((status) => ApiResponse({ status, description: DESCRIPTIONS[status] ?? 'error', schema: ERROR_BODY })),
  );
}
