import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = join(__dirname, '..', '..', 'scripts', 'stack', 'stack.sh');

export type StackComponent = 'kafka' | 'registry' | 'es';

/**
 * Drives scripts/stack/stack.sh, for tests that take a real server down and back up. `env`
 * selects another instance than the default one (STACK_DIR, STACK_*_PORT, STACK_CACHE).
 */
export async function stack(
  command: 'up' | 'down' | 'restart',
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
