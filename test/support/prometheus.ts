import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort, LOG_DIR, waitFor } from '@rag/testkit';

export const ROOT = join(__dirname, '..', '..');
export const MONITORING = join(ROOT, 'deploy', 'monitoring');
export const PROMETHEUS_CONFIG = join(MONITORING, 'prometheus', 'prometheus.yml');
export const PROMETHEUS_K8S_CONFIG = join(MONITORING, 'prometheus', 'prometheus-k8s.yml');
export const ALERT_RULES = join(MONITORING, 'prometheus', 'alerts.yml');
export const DASHBOARD = join(MONITORING, 'grafana', 'dashboards', 'rag-stream.json');

/** Debian's package `prometheus` (.ci/run installs it): the server and promtool. */
export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';
export const PROMTOOL_BIN = process.env.PROMTOOL_BIN ?? '/usr/bin/promtool';

export function requirePrometheus(): void {
  for (const bin of [PROMETHEUS_BIN, PROMTOOL_BIN]) {
    if (!existsSync(bin))
      throw new Error(`${bin} is missing: install Debian's prometheus package (apt-get install prometheus; .ci/run does)`);
  }
}

export function promtool(...args: string[]): { ok: boolean; output: string } {
  const res = spawnSync(PROMTOOL_BIN, args, { encoding: 'utf8' });
  return { ok: res.status === 0, output: `${res.stdout}${res.stderr}` };
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/**
 * A real Prometheus server on a free loopback port with a temporary data directory, running
 * the committed prometheus.yml with its scrape targets replaced by the test's (job names kept)
 * and the committed alerts.yml.
 */
export class PrometheusServer {
  private child?: ChildProcess;
  private readonly dir = mkdtempSync(join(tmpdir(), 'rag-prometheus-'));
  readonly logFile = join(LOG_DIR, `prometheus-${Date.now()}.log`);

  private constructor(readonly port: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** `targets`: job name → host:port list. Every job in the committed config must be given. */
  static async start(targets: Record<string, string[]>, intervalSeconds = 2): Promise<PrometheusServer> {
    requirePrometheus();
    const server = new PrometheusServer(await freePort());
    const committed = parse(readFileSync(PROMETHEUS_CONFIG, 'utf8')) as { scrape_configs: { job_name: string }[] };
    const jobs = committed.scrape_configs.map((c) => c.job_name).filter((j) => j !== 'prometheus');
    const missing = jobs.filter((j) => !targets[j]);
    if (missing.length > 0) throw new Error(`no test targets for jobs ${missing.join(', ')} of prometheus.yml`);
    const config = {
      global: { scrape_interval: `${intervalSeconds}s`, scrape_timeout: `${intervalSeconds}s`, evaluation_interval: `${intervalSeconds}s` },
      rule_files: [ALERT_RULES],
      scrape_configs: jobs.map((job) => ({ job_name: job, static_configs: [{ targets: targets[job] }] })),
    };
    const configFile = join(server.dir, 'prometheus.yml');
    writeFileSync(configFile, stringify(config));
    mkdirSync(LOG_DIR, { recursive: true });
    const log = createWriteStream(server.logFile, { flags: 'a' });
    const child = spawn(
      PROMETHEUS_BIN,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(server.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${server.port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    server.child = child;
    await waitFor(
      'prometheus /-/ready',
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}; see ${server.logFile}`);
        return (await fetch(`${server.url}/-/ready`)).ok;
      },
      60_000,
    );
    return server;
  }

  private async api<T>(path: string, params: Record<string, string | string[]>): Promise<T> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const item of [v].flat()) query.append(k, item);
    const res = await fetch(`${this.url}/api/v1/${path}?${query}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path} ${JSON.stringify(params)}: ${body.error}`);
    return body.data;
  }

  /** Instant query; throws on a PromQL error. */
  async query(expr: string): Promise<PromSample[]> {
    const data = await this.api<{ resultType: string; result: PromSample[] }>('query', { query: expr });
    if (data.resultType !== 'vector') throw new Error(`${expr}: expected a vector, got ${data.resultType}`);
    return data.result;
  }

  async labelValues(label: string, match: string): Promise<string[]> {
    return this.api<string[]>(`label/${encodeURIComponent(label)}/values`, { 'match[]': match });
  }

  async targets(): Promise<{ labels: Record<string, string>; health: string; lastError: string }[]> {
    return (await this.api<{ activeTargets: { labels: Record<string, string>; health: string; lastError: string }[] }>('targets', {}))
      .activeTargets;
  }

  async rules(): Promise<{ name: string; type: string; health: string; lastError?: string; query: string }[]> {
    const data = await this.api<{
      groups: { rules: { name: string; type: string; health: string; lastError?: string; query: string }[] }[];
    }>('rules', {});
    return data.groups.flatMap((g) => g.rules);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
