import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';

/** The web console (services/gateway/console, copied next to the build) as static files at `/`. */
export function serveConsole(app: INestApplication): void {
  (app as NestExpressApplication).useStaticAssets(join(__dirname, '..', '..', 'console'), { index: 'index.html', maxAge: 0 });
}
