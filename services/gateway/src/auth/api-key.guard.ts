import {
  createParamDecorator,
  ForbiddenException,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  SetMetadata,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DEFAULT_TENANT } from '@rag/contracts';
import type { Request, Response } from 'express';
import { ALL_TENANTS, SCOPES, type ApiKeyStore, type Principal, type Scope } from '@rag/common';
import type { TokenBuckets } from './token-bucket';

export const API_KEY_STORE = Symbol('API_KEY_STORE');
export const KEY_RATE_LIMITER = Symbol('KEY_RATE_LIMITER');

const REQUIRED_SCOPES = 'rag:required-scopes';
/** The route needs a key with one of these scopes. */
export const RequireScopes = (...scopes: Scope[]) => SetMetadata(REQUIRED_SCOPES, scopes);

/** With GATEWAY_AUTH=none every caller is this: every scope, every tenant. */
const ANONYMOUS: Principal = { keyId: 'anonymous', tenant: ALL_TENANTS, scopes: new Set(SCOPES) };

type AuthenticatedRequest = Request & { principal?: Principal };

/** The caller of the current request (set by ApiKeyGuard). */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal on a route without ApiKeyGuard');
  return principal;
});

/** Whether `principal` may see a document of `tenant`. */
export function canAccess(principal: Principal, tenant: string | undefined): boolean {
  return principal.tenant === ALL_TENANTS || principal.tenant === (tenant ?? DEFAULT_TENANT);
}

/** The tenant a principal's new documents belong to (operator keys write to the default tenant). */
export function writeTenant(principal: Principal): string {
  return principal.tenant === ALL_TENANTS ? DEFAULT_TENANT : principal.tenant;
}

/**
 * API keys (`Authorization: Bearer <key>` or `X-API-Key`), then the key's rate limit, then the
 * route's scopes. Keys are never logged: the request logger redacts both headers.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(API_KEY_STORE) private readonly keys: ApiKeyStore | null,
    @Inject(KEY_RATE_LIMITER) private readonly buckets: TokenBuckets | null,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const res = context.switchToHttp().getResponse<Response>();
    if (!this.keys) {
      req.principal = ANONYMOUS;
      return true;
    }
    const key = bearerToken(req.headers.authorization) ?? headerValue(req.headers['x-api-key']);
    const principal = key ? this.keys.authenticate(key) : undefined;
    if (!principal) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="rag-stream"');
      throw new UnauthorizedException({
        error: 'unauthorized',
        message: key ? 'unknown API key' : 'an API key is required: send "Authorization: Bearer <key>"',
      });
    }
    const waitSeconds = this.buckets?.take(principal.keyId);
    if (waitSeconds !== undefined) {
      res.setHeader('Retry-After', String(waitSeconds));
      throw new HttpException(
        { error: 'rate_limited', message: `too many requests for key ${principal.keyId}; retry in ${waitSeconds} s` },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    const needed = this.reflector.getAllAndOverride<Scope[] | undefined>(REQUIRED_SCOPES, [context.getHandler(), context.getClass()]) ?? [];
    if (needed.length > 0 && !needed.some((scope) => principal.scopes.has(scope))) {
      throw new ForbiddenException({ error: 'forbidden', message: `key ${principal.keyId} lacks the ${needed.join(' or ')} scope` });
    }
    req.principal = principal;
    return true;
  }
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
