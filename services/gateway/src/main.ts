import { runService } from '@rag/common';
import { GatewayModule } from './gateway.module';
import { serveConsole } from './console/serve-console';
import { translateBodyParserErrors } from './errors/body-parser-errors';
import { serveOpenApi } from './openapi/openapi';

runService(GatewayModule, {
  // JSON documents may be as large as uploads (MAX_DOCUMENT_BYTES), not express's 100 kB default.
  bodyLimitBytes: Number(process.env.MAX_DOCUMENT_BYTES ?? 10 * 1024 * 1024) + 64 * 1024,
  configure: (app) => {
    translateBodyParserErrors(app);
    serveOpenApi(app);
    serveConsole(app);
  },
});
