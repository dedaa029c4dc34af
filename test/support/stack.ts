import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = join(__dirname, '..', '..', 'scripts', 'stack', 'stack.sh');

/** A component (kafka, registry, es) or one node of a Kafka cluster (kafka-1 … kafka-3). */
export type StackComponent = 'kafka' | 'registry' | 'es' | `kafka-${number}`;

/**
 * Drives scripts/stack/stack.sh, for tests that take a real server down and back up. `env`
 * selects another stack instance (STACK_DIR, ports, STACK_KAFKA_BROKERS) than the default one.
 */
export async function stack(
  command: 'up' | 'down' | 'restart' | 'kill',
  component: StackComponent,
  env: Record<string, string> = {},
): Promise<string> {
  const { stdout } = await run('bash', [SCRIPT, command, component], {
    timeout: 300_000,
    maxBuffer: 10 * 1024 * 1024,
    env: { ...process.env, ...env },
  });
  return stdout;
}
