import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describeWithTool } from '../../support/tools';

const ROOT = join(__dirname, '..', '..', '..');

/** Compose services that keep running (provision is a one-shot job). */
const LONG_RUNNING = [
  'kafka',
  'schema-registry',
  'elasticsearch',
  'gateway',
  'chunker',
  'embedder',
  'indexer',
  'kafka-exporter',
  'prometheus',
  'grafana',
];

/** `docker compose` (plugin) or `docker-compose` (Debian package): both validate without an engine. */
function composeCommand(): string[] | undefined {
  if (spawnSync('docker', ['compose', 'version']).status === 0) return ['docker', 'compose'];
  if (spawnSync('docker-compose', ['version']).status === 0) return ['docker-compose'];
  return undefined;
}

/** The file as compose resolves it (anchors, merges, defaults): what an engine would run. */
function composeConfig(cmd: string[], env: Record<string, string> = { GRAFANA_ADMIN_PASSWORD: 'test-only' }): string {
  return execFileSync(cmd[0], [...cmd.slice(1), '-f', join(ROOT, 'docker-compose.yml'), 'config'], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describeWithTool('docker-compose', 'docker-compose.yml', () => {
  const cmd = composeCommand();

  it('is valid for docker compose (config parses and resolves it, no engine needed)', () => {
    if (!cmd)
      throw new Error('neither `docker compose` nor `docker-compose` is installed (.ci/run installs the Debian package docker-compose)');
    const out = composeConfig(cmd);
    for (const service of [...LONG_RUNNING, 'provision']) {
      expect(out).toMatch(new RegExp(`^  ${service}:`, 'm'));
    }
  });

  it('publishes ports on 127.0.0.1 only, and Grafana has no default password and no anonymous access', () => {
    if (!cmd) throw new Error('no compose command');
    const resolved = parse(composeConfig(cmd)) as {
      services: Record<string, { ports?: (string | { host_ip?: string })[]; environment?: Record<string, string> }>;
    };
    // docker-compose (Debian) prints `127.0.0.1:9200:9200/tcp`, the compose plugin `{host_ip, published, target}`.
    const hostIp = (p: string | { host_ip?: string }) => (typeof p === 'string' ? /^(\d+\.\d+\.\d+\.\d+):/.exec(p)?.[1] : p.host_ip);
    const published = Object.entries(resolved.services).flatMap(([name, svc]) =>
      (svc.ports ?? []).map((p) => ({ name, hostIp: hostIp(p) })),
    );
    expect(published.length).toBeGreaterThan(3);
    for (const port of published) expect(port).toEqual({ name: port.name, hostIp: '127.0.0.1' });
    expect(resolved.services.grafana.environment?.GF_AUTH_ANONYMOUS_ENABLED).toBe('false');
    expect(() => composeConfig(cmd, { GRAFANA_ADMIN_PASSWORD: '' })).toThrow(/GRAFANA_ADMIN_PASSWORD/);
  });

  it('gives every long-running service a health check and starts the pipeline only after provisioning', () => {
    if (!cmd) throw new Error('no compose command');
    const resolved = parse(composeConfig(cmd)) as {
      services: Record<string, { healthcheck?: unknown; depends_on?: Record<string, { condition: string }> }>;
    };
    for (const name of LONG_RUNNING) {
      expect({ name, healthcheck: resolved.services[name].healthcheck !== undefined }).toEqual({ name, healthcheck: true });
    }
    for (const name of ['gateway', 'chunker', 'embedder', 'indexer']) {
      expect(resolved.services[name].depends_on?.provision?.condition).toBe('service_completed_successfully');
    }
    expect(resolved.services.provision.depends_on?.kafka?.condition).toBe('service_healthy');
  });

  it('runs Prometheus on deploy/monitoring with a scrape job per service on its port, and Grafana with the provisioned dashboard', () => {
    if (!cmd) throw new Error('no compose command');
    type ComposeService = {
      image?: string;
      environment?: Record<string, string>;
      volumes?: ({ source: string; target: string } | string)[];
      command?: string[];
    };
    const resolved = parse(composeConfig(cmd)) as {
      services: Record<string, ComposeService>;
    };
    // Bind mounts resolve to files that exist in the repository (docker-compose 1.x prints "src:dst[:mode]").
    const mounts = (service: string) =>
      (resolved.services[service].volumes ?? []).map((v) =>
        typeof v === 'string' ? { source: v.split(':')[0], target: v.split(':')[1] } : v,
      );
    const prometheusDir = mounts('prometheus').find((m) => m.target === '/etc/prometheus');
    expect(prometheusDir?.source).toBe(join(ROOT, 'deploy', 'monitoring', 'prometheus'));
    expect(existsSync(join(prometheusDir!.source, 'prometheus.yml'))).toBe(true);
    expect(existsSync(join(prometheusDir!.source, 'alerts.yml'))).toBe(true);
    expect(resolved.services.prometheus.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    const grafana = Object.fromEntries(mounts('grafana').map((m) => [m.target, m.source]));
    expect(grafana['/etc/grafana/provisioning']).toBe(join(ROOT, 'deploy', 'monitoring', 'grafana', 'provisioning'));
    expect(existsSync(join(grafana['/var/lib/grafana/dashboards'], 'rag-stream.json'))).toBe(true);
    expect(resolved.services['kafka-exporter'].command).toContain('--kafka.server=kafka:9092');

    // prometheus.yml scrapes each service by its compose name on the port it listens on.
    const prom = parse(readFileSync(join(prometheusDir!.source, 'prometheus.yml'), 'utf8')) as {
      scrape_configs: {
        job_name: string;
        dns_sd_configs?: { names: string[]; port: number }[];
        static_configs?: { targets: string[] }[];
      }[];
    };
    for (const service of ['gateway', 'chunker', 'embedder', 'indexer']) {
      const job = prom.scrape_configs.find((c) => c.job_name === service);
      expect({ service, names: job?.dns_sd_configs?.[0].names, port: String(job?.dns_sd_configs?.[0].port) }).toEqual({
        service,
        names: [service],
        port: resolved.services[service].environment?.HTTP_PORT,
      });
    }
    expect(prom.scrape_configs.find((c) => c.job_name === 'kafka-exporter')?.static_configs?.[0].targets).toEqual(['kafka-exporter:9308']);
  });

  it('runs the services with the heap settings that bench and scripts/services.sh use (deploy/node-options)', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const env = /^ENV NODE_OPTIONS="([^"]+)"$/m.exec(dockerfile)?.[1];
    expect(env).toBe(readFileSync(join(ROOT, 'deploy', 'node-options'), 'utf8').trim());
    expect(env).toMatch(/--max-old-space-size=\d+/);
  });
});
