import type { Server } from 'node:http';
import { runService, SERVICE_CONFIG } from '@rag/common';
import helmet from 'helmet';
import { GatewayModule } from './gateway.module';
import { serveConsole } from './console/serve-console';
import { translateBodyParserErrors } from './errors/body-parser-errors';
import type { GatewayConfig } from './gateway.config';
import { serveOpenApi } from './openapi/openapi';

runService(GatewayModule, {
  // JSON documents may be as large as uploads (MAX_DOCUMENT_BYTES), not express's 100 kB default.
  bodyLimitBytes: Number(process.env.MAX_DOCUMENT_BYTES ?? 10 * 1024 * 1024) + 64 * 1024,
  // A search body is a query and a few filters.
  routeBodyLimits: { '/v1/search': 64 * 1024 },
  configure: (app) => {
    const config = app.get<GatewayConfig>(SERVICE_CONFIG);
    // Security headers (CSP 'self': the console and /docs load only their own files); no X-Powered-By.
    app.use(helmet({ crossOriginEmbedderPolicy: false }));
    const server = app.getHttpServer() as Server;
    server.headersTimeout = config.HTTP_HEADERS_TIMEOUT_MS;
    server.requestTimeout = config.HTTP_REQUEST_TIMEOUT_MS;
    server.keepAliveTimeout = config.HTTP_KEEP_ALIVE_TIMEOUT_MS;
    translateBodyParserErrors(app);
    serveOpenApi(app);
    serveConsole(app);
  },
});
