/**
 * Runs the fake OpenAI embeddings server for manual runs and local pipelines:
 *
 *   npm run build && FAKE_OPENAI_PORT=8090 node dist/libs/testkit/src/fake-openai-main.js
 *
 * then point the embedder at it: EMBEDDING_PROVIDER=openai OPENAI_API_KEY=test OPENAI_BASE_URL=http://127.0.0.1:8090/v1
 * Env: FAKE_OPENAI_PORT (default 8090, 0 = any free port), FAKE_OPENAI_LATENCY_MS (default 0),
 * FAKE_OPENAI_MAX_INPUTS (default 2048), FAKE_OPENAI_API_KEY (unset: any key is accepted).
 */
import { FakeOpenAIServer } from './fake-openai-server';

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

async function main(): Promise<void> {
  const server = await FakeOpenAIServer.start({
    port: intFromEnv('FAKE_OPENAI_PORT', 8090),
    latencyMs: intFromEnv('FAKE_OPENAI_LATENCY_MS', 0),
    maxInputsPerRequest: intFromEnv('FAKE_OPENAI_MAX_INPUTS', 2048),
    apiKey: process.env.FAKE_OPENAI_API_KEY || undefined,
  });
  console.log(JSON.stringify({ msg: 'fake OpenAI embeddings server listening', baseURL: server.baseURL }));
  const stop = (signal: string) => {
    console.log(JSON.stringify({ msg: 'stopping', signal, requests: server.stats.requests }));
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
