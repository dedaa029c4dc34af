import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

/** The gateway's OpenAPI 3 document, generated from its controllers' decorators. */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('rag-stream gateway')
    .setDescription(
      'Document ingestion for RAG: submit, follow, list and delete documents; search their chunks. ' +
        'Every error answers `{error, message}`. API routes need an API key (`Authorization: Bearer <key>`) ' +
        'with the scope the route names: ingest, search or admin.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'an API key: rsk_<id>_<secret>' })
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** `/openapi.json` and browsable docs at `/docs` (Swagger UI from the swagger-ui-dist package, no CDN). */
export function serveOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => createOpenApiDocument(app), { jsonDocumentUrl: 'openapi.json', raw: ['json'] });
}
