import { appendFileSync } from 'node:fs';
import { relative } from 'node:path';
import { spawnSync } from 'node:child_process';

/** System tools some tests drive; scripts/test-tools.sh installs them from Debian's packages. */
export type SystemTool = 'prometheus' | 'docker-compose' | 'go' | 'redis-server' | 'chromium' | 'nginx';

function installed(tool: SystemTool): boolean {
  const found = (cmd: string, args: string[] = ['--version']) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
  switch (tool) {
    case 'prometheus':
      return found('prometheus') && found('promtool');
    case 'docker-compose':
      return found('docker', ['compose', 'version']) || found('docker-compose', ['version']);
    case 'go':
      return found('go', ['version']);
    case 'redis-server':
      return found('redis-server');
    case 'chromium':
      return found('chromium') || found('chromium-browser');
    case 'nginx':
      return found('nginx', ['-v']) || found('/usr/sbin/nginx', ['-v']);
  }
}

/**
 * `describe` for tests that need a system tool. When the tool is missing and the test command
 * could not install it (it lists it in RAG_TEST_MISSING_TOOLS), the tests are skipped with the
 * reason, and the file is written to RAG_TEST_SKIP_LOG so the run ends with a count. Anywhere
 * else a missing tool fails the tests as before: a skip is never silent.
 */
export function describeWithTool(tool: SystemTool, name: string, body: () => void): void {
  const missing = (process.env.RAG_TEST_MISSING_TOOLS ?? '').split(' ').includes(tool);
  if (installed(tool) || !missing) {
    describe(name, body);
    return;
  }
  const file = relative(process.cwd(), expect.getState().testPath ?? name);
  console.warn(`SKIPPED: ${name} needs ${tool}, which is not installed and could not be installed`);
  if (process.env.RAG_TEST_SKIP_LOG) appendFileSync(process.env.RAG_TEST_SKIP_LOG, `${file}: needs ${tool} (${name})\n`);
  describe.skip(name, body);
}
