import SwaggerParser from '@apidevtools/swagger-parser';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod, type Type } from '@nestjs/common';
import type { OpenAPIV3 } from 'openapi-types';
import { GatewayModule } from '../../../services/gateway/src/gateway.module';
import { Pipeline } from '../../support/pipeline';

/** The controllers of a module and of every module it imports, static or dynamic (forRoot/register). */
function controllersOf(module: unknown, seen = new Set<unknown>()): Type[] {
  if (!module || seen.has(module)) return [];
  seen.add(module);
  const dynamic = module as { module?: Type; controllers?: Type[]; imports?: unknown[] };
  const moduleClass = typeof module === 'function' ? module : dynamic.module;
  const controllers: Type[] = [
    ...((moduleClass && (Reflect.getMetadata('controllers', moduleClass) as Type[] | undefined)) ?? []),
    ...(dynamic.controllers ?? []),
  ];
  const imports = [
    ...((moduleClass && (Reflect.getMetadata('imports', moduleClass) as unknown[] | undefined)) ?? []),
    ...(dynamic.imports ?? []),
  ];
  for (const imported of imports) controllers.push(...controllersOf(imported, seen));
  return [...new Set(controllers)];
}

/** Every route of the gateway's controllers (its modules' included), as Nest registers them: "GET /v1/documents/{id}". */
function gatewayRoutes(): string[] {
  const controllers = controllersOf(GatewayModule);
  const routes: string[] = [];
  for (const controller of controllers) {
    const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = (controller.prototype as Record<string, unknown>)[name];
      if (name === 'constructor' || typeof handler !== 'function' || Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
      const path = `/${[base, String(Reflect.getMetadata(PATH_METADATA, handler))].filter((p) => p && p !== '/').join('/')}`;
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
      routes.push(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  return routes.sort();
}

/** The gateway's OpenAPI document, served by the running service. */
describe('gateway OpenAPI document', () => {
  const pipeline = new Pipeline();
  let document: OpenAPIV3.Document;

  beforeAll(async () => {
    await pipeline.start(['gateway']);
    document = (await (await fetch(`${pipeline.gatewayUrl}/openapi.json`)).json()) as OpenAPIV3.Document;
  });

  afterAll(async () => {
    await pipeline.stop();
  });

  it('is a valid OpenAPI 3 document', async () => {
    expect(document.openapi).toMatch(/^3\./);
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
  });

  it("documents every route of the gateway's controllers, and every API route's errors with the common body", () => {
    const documented = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item ?? {}).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const routes = gatewayRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(9);
    expect(documented.sort()).toEqual(routes);
    for (const [path, item] of Object.entries(document.paths)) {
      if (!path.startsWith('/v1/')) continue;
      for (const [method, operation] of Object.entries(item ?? {}) as [string, OpenAPIV3.OperationObject][]) {
        const errors = Object.entries(operation.responses).filter(([status]) => Number(status) >= 400);
        expect({ route: `${method} ${path}`, errors: errors.length > 0 }).toEqual({ route: `${method} ${path}`, errors: true });
        for (const [, response] of errors) {
          const schema = (response as OpenAPIV3.ResponseObject).content?.['application/json']?.schema as OpenAPIV3.SchemaObject;
          expect(schema.required).toEqual(['error', 'message']);
        }
      }
    }
  });

  it('serves browsable docs from local assets (no CDN)', async () => {
    const html = await (await fetch(`${pipeline.gatewayUrl}/docs`)).text();
    const scripts = [...html.matchAll(/src="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) {
      expect(src).not.toMatch(/^https?:/);
      // Relative to /docs (the page's URL), as a browser resolves them.
      const asset = await fetch(new URL(src, `${pipeline.gatewayUrl}/docs`));
      expect(asset.status).toBe(200);
    }
  });
});
