import { createServer, type Server } from 'node:http';
import { json, type NextFunction, type Request, type Response } from 'express';
import 'reflect-metadata';
import { type INestApplication, type InjectionToken, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import type { BaseConfig } from './config';
import { SERVICE_CONFIG } from './tokens';

/**
 * Starts a service: JSON logs, shutdown hooks (SIGTERM/SIGINT finish in-flight work, commit and
 * disconnect), HTTP on HTTP_HOST:HTTP_PORT. A hard deadline keeps a stuck shutdown from hanging a pod.
 */
export interface BootstrapOptions {
  /** Largest JSON request body accepted (default 1 MiB). */
  bodyLimitBytes?: number;
  /** Smaller JSON limits for some routes (path prefix → bytes), applied before the global one. */
  routeBodyLimits?: Record<string, number>;
  /**
   * Providers that are Nest microservice transports (for a stage: StageTransport). They are
   * connected to the app (a hybrid app: HTTP for health and metrics), started after the app's
   * init hooks and before HTTP listens, and closed by `app.close()`.
   */
  microservices?: InjectionToken[];
  /** Runs before the app initialises, e.g. to mount the OpenAPI document and docs. */
  configure?: (app: INestApplication) => void;
}

export async function bootstrapService(appModule: Type<unknown>, options: BootstrapOptions = {}): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(appModule, {
    bufferLogs: true,
    bodyParser: false,
    // Open keep-alive and SSE connections must not hold up a shutdown.
    forceCloseConnections: true,
  });
  app.useLogger(app.get(Logger));
  for (const [path, limit] of Object.entries(options.routeBodyLimits ?? {})) app.use(path, json({ limit }));
  app.useBodyParser('json', { limit: options.bodyLimitBytes ?? 1024 * 1024 });
  const config = app.get<BaseConfig>(SERVICE_CONFIG);
  const logger = app.get(Logger);
  if (config.INTERNAL_HTTP_PORT !== undefined) app.use(splitByPort(config.INTERNAL_HTTP_PORT));
  let internalServer: Server | undefined;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      internalServer?.close();
      internalServer?.closeAllConnections();
      // Nest's close runs the shutdown hooks and closes the microservices: the stage finishes its
      // slice, commits, leaves the group.
      setTimeout(() => {
        logger.error(`shutdown took longer than ${config.SHUTDOWN_TIMEOUT_MS} ms; exiting`);
        process.exit(1);
      }, config.SHUTDOWN_TIMEOUT_MS).unref();
      logger.log(`${signal} received, shutting down`);
      app.close().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error(`shutdown failed: ${String(err)}`);
          process.exit(1);
        },
      );
    });
  }
  for (const token of options.microservices ?? []) {
    app.connectMicroservice({ strategy: app.get<CustomTransportStrategy>(token) });
  }
  options.configure?.(app);
  // Init first: handlers' onModuleInit (e.g. index setup) must run before the first slice arrives.
  await app.init();
  await app.startAllMicroservices();
  await app.listen(config.HTTP_PORT, config.HTTP_HOST);
  if (config.INTERNAL_HTTP_PORT !== undefined) {
    // The same Express app on a second port; splitByPort decides what each port answers.
    const server = createServer(app.getHttpAdapter().getInstance() as Parameters<typeof createServer>[1]);
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(config.INTERNAL_HTTP_PORT, config.HTTP_HOST, resolve));
    internalServer = server;
  }
  return app;
}

/** Served on the internal port only, when there is one. /healthz answers on both (load balancers). */
const INTERNAL_ROUTES = new Set(['/metrics', '/readyz']);

/** The internal port answers /metrics, /readyz and /healthz and nothing else; the public port all but the first two. */
function splitByPort(internalPort: number) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const internal = req.socket.localPort === internalPort;
    const allowed = internal ? INTERNAL_ROUTES.has(req.path) || req.path === '/healthz' : !INTERNAL_ROUTES.has(req.path);
    if (allowed) return next();
    res.status(404).json({ error: 'not_found', message: internal ? 'the internal port serves /metrics, /readyz and /healthz only' : 'not found' });
  };
}

/** Entry point of a service's main.ts: start, or log why not and exit non-zero. */
export function runService(appModule: Type<unknown>, options: BootstrapOptions = {}): void {
  bootstrapService(appModule, options).catch((err: unknown) => {
    // The Nest logger may not exist yet; this is the last word before exiting.
    process.stderr.write(
      `${JSON.stringify({ level: 'fatal', msg: 'service failed to start', err: String((err as Error)?.stack ?? err) })}\n`,
    );
    process.exit(1);
  });
}
