import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..', '..', '..');

/** `docker compose` (plugin) or `docker-compose` (Debian package): both validate without an engine. */
function composeCommand(): string[] | undefined {
  if (spawnSync('docker', ['compose', 'version']).status === 0) return ['docker', 'compose'];
  if (spawnSync('docker-compose', ['version']).status === 0) return ['docker-compose'];
  return undefined;
}

describe('docker-compose.yml', () => {
  const cmd = composeCommand();

  it('is valid for docker compose (config parses and resolves it, no engine needed)', () => {
    if (!cmd) throw new Error('neither `docker compose` nor `docker-compose` is installed (.ci/run installs the Debian package docker-compose)');
    const out = execFileSync(cmd[0], [...cmd.slice(1), '-f', join(ROOT, 'docker-compose.yml'), 'config'], { encoding: 'utf8' });
    for (const service of ['kafka', 'schema-registry', 'elasticsearch', 'provision', 'gateway', 'chunker', 'embedder', 'indexer']) {
      expect(out).toMatch(new RegExp(`^  ${service}:`, 'm'));
    }
  });

  it('gives every long-running service a health check and starts the pipeline only after provisioning', () => {
    if (!cmd) throw new Error('no compose command');
    const resolved = parse(execFileSync(cmd[0], [...cmd.slice(1), '-f', join(ROOT, 'docker-compose.yml'), 'config'], { encoding: 'utf8' })) as {
      services: Record<string, { healthcheck?: unknown; depends_on?: Record<string, { condition: string }> }>;
    };
    for (const name of ['kafka', 'schema-registry', 'elasticsearch', 'gateway', 'chunker', 'embedder', 'indexer']) {
      expect({ name, healthcheck: resolved.services[name].healthcheck !== undefined }).toEqual({ name, healthcheck: true });
    }
    for (const name of ['gateway', 'chunker', 'embedder', 'indexer']) {
      expect(resolved.services[name].depends_on?.provision?.condition).toBe('service_completed_successfully');
    }
    expect(resolved.services.provision.depends_on?.kafka?.condition).toBe('service_healthy');
  });
});
