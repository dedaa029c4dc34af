import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = join(__dirname, '..', '..', 'scripts', 'stack', 'stack.sh');

export type StackComponent = 'kafka' | 'registry' | 'es';

/** Drives scripts/stack/stack.sh, for tests that take a real server down and back up. */
export async function stack(command: 'up' | 'down' | 'restart', component: StackComponent): Promise<string> {
  const { stdout } = await run('bash', [SCRIPT, command, component], { timeout: 300_000, maxBuffer: 10 * 1024 * 1024 });
  return stdout;
}
