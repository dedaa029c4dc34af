import { freePort } from '@rag/testkit';
import { Pipeline } from '../../support/pipeline';

/**
 * INTERNAL_HTTP_PORT: /metrics and /readyz leave the public port (an exposed gateway must not
 * show its dependency states or metrics) and are answered on the internal one, which serves
 * nothing else; /healthz answers on both. Same process, same metrics registry.
 */
describe('internal port for metrics and readiness', () => {
  let internalPort: number;
  let pipeline: Pipeline;

  beforeAll(async () => {
    internalPort = await freePort();
    pipeline = new Pipeline({ partitions: 1, serviceEnv: { gateway: { INTERNAL_HTTP_PORT: String(internalPort) } } });
    await pipeline.start(['gateway']); // waits for /readyz on the internal port
  }, 180_000);

  afterAll(async () => {
    await pipeline.stop();
  });

  it('answers /metrics and /readyz on the internal port only, the API on the public port only', async () => {
    const publicUrl = pipeline.service('gateway').url;
    const internalUrl = `http://127.0.0.1:${internalPort}`;
    const status = async (url: string) => (await fetch(url)).status;

    expect(await status(`${internalUrl}/readyz`)).toBe(200);
    const metrics = await (await fetch(`${internalUrl}/metrics`)).text();
    expect(metrics).toContain('process_cpu_seconds_total');
    expect(await status(`${internalUrl}/healthz`)).toBe(200);

    expect(await status(`${publicUrl}/readyz`)).toBe(404);
    expect(await status(`${publicUrl}/metrics`)).toBe(404);
    expect(await status(`${publicUrl}/healthz`)).toBe(200);
    expect(await status(`${publicUrl}/v1/documents?limit=1`)).toBe(200);
    // The internal port serves nothing of the API.
    const api = await fetch(`${internalUrl}/v1/documents?limit=1`);
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: string }).error).toBe('not_found');
  });
});
