/**
 * Lifecycle of the local stack script (scripts/stack/stack.sh) against the running stack:
 * `up` on a running stack is a quick no-op, `down` leaves no process and no listening port,
 * and `up` brings everything back healthy (so later steps still have a stack).
 *
 * Run it on its own and last, as it stops the servers other tests use:
 *   npx jest --selectProjects integration --runInBand test/stack-lifecycle
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';

const REPO_ROOT = path.resolve(__dirname, '../..');
const STACK_DIR = process.env.STACK_DIR ? path.resolve(process.env.STACK_DIR) : path.join(REPO_ROOT, '.stack');
const COMPONENTS = ['kafka', 'registry', 'es'] as const;
type Component = (typeof COMPONENTS)[number];

const PORTS: Record<Component, number[]> = {
  kafka: [Number(process.env.STACK_KAFKA_PORT ?? 9092), Number(process.env.STACK_KAFKA_CONTROLLER_PORT ?? 9093)],
  registry: [Number(process.env.STACK_REGISTRY_PORT ?? 8081)],
  es: [Number(process.env.STACK_ES_PORT ?? 9200), Number(process.env.STACK_ES_TRANSPORT_PORT ?? 9300)],
};
const ALL_PORTS = COMPONENTS.flatMap((c) => PORTS[c]);
const ES_URL = `http://127.0.0.1:${PORTS.es[0]}`;
const REGISTRY_URL = `http://127.0.0.1:${PORTS.registry[0]}/apis/ccompat/v7`;

// Project-level testTimeout is not honoured by jest 29 (it warns "Unknown option"), so set it here.
jest.setTimeout(400000);

function stack(...args: string[]): { status: number | null; out: string; ms: number } {
  const t0 = Date.now();
  const res = spawnSync('bash', ['scripts/stack/stack.sh', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 380000,
    env: process.env,
  });
  return { status: res.status, out: `${res.stdout ?? ''}${res.stderr ?? ''}`, ms: Date.now() - t0 };
}

function pidOf(c: Component): number | undefined {
  const file = path.join(STACK_DIR, 'run', `${c}.pid`);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const finish = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(2000, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/** Identities that live in each server's data directory: they must survive down/up. */
async function identities(): Promise<{ kafkaCluster: string; esCluster: string; registryCompat: string }> {
  const kafka = new Kafka({ brokers: [`127.0.0.1:${PORTS.kafka[0]}`], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const { clusterId } = await admin.describeCluster();
  await admin.disconnect();
  const es = (await (await fetch(`${ES_URL}/_cluster/state/metadata?filter_path=metadata.cluster_uuid`)).json()) as {
    metadata: { cluster_uuid: string };
  };
  const compat = (await (await fetch(`${REGISTRY_URL}/config`)).json()) as { compatibilityLevel: string };
  return { kafkaCluster: clusterId, esCluster: es.metadata.cluster_uuid, registryCompat: compat.compatibilityLevel };
}

describe('local stack lifecycle (stack.sh up/down)', () => {
  let pidsBefore: Record<Component, number>;
  let identitiesBefore: Awaited<ReturnType<typeof identities>>;

  beforeAll(async () => {
    // Precondition: the stack is up (npm run stack:up). Make it so if it is not.
    const up = stack('up');
    if (up.status !== 0) throw new Error(`stack.sh up failed:\n${up.out}`);
    pidsBefore = Object.fromEntries(COMPONENTS.map((c) => [c, pidOf(c)])) as Record<Component, number>;
    for (const c of COMPONENTS) expect(pidsBefore[c]).toBeDefined();
    identitiesBefore = await identities();
  });

  it('`up` on a running stack is harmless and quick', () => {
    const up = stack('up');
    expect(up.status).toBe(0);
    for (const c of COMPONENTS) expect(up.out).toContain(`${c}: already running (pid ${pidsBefore[c]})`);
    expect(up.ms).toBeLessThan(30000);
    for (const c of COMPONENTS) {
      expect(pidOf(c)).toBe(pidsBefore[c]);
      expect(alive(pidsBefore[c])).toBe(true);
    }
    const status = stack('status');
    expect(status.status).toBe(0);
    for (const c of COMPONENTS) expect(status.out).toMatch(new RegExp(`^${c}\\s+${pidsBefore[c]}\\s+\\S+\\s+healthy\\s`, 'm'));
  });

  it('`down` leaves no server process and no listening port', async () => {
    const down = stack('down');
    expect(down.status).toBe(0);
    for (const c of COMPONENTS) {
      expect(alive(pidsBefore[c])).toBe(false);
      expect(existsSync(path.join(STACK_DIR, 'run', `${c}.pid`))).toBe(false);
    }
    for (const port of ALL_PORTS) expect({ port, open: await listening(port) }).toEqual({ port, open: false });

    const status = stack('status');
    expect(status.status).not.toBe(0);
    for (const c of COMPONENTS) expect(status.out).toMatch(new RegExp(`^${c}\\s+-\\s+\\S+\\s+stopped`, 'm'));

    // A second down is a no-op.
    const again = stack('down');
    expect(again.status).toBe(0);
    for (const c of COMPONENTS) expect(again.out).toContain(`${c}: not running`);
  });

  it('`up` brings every server back healthy, with its data', async () => {
    const up = stack('up');
    expect(up.status).toBe(0);
    for (const c of COMPONENTS) expect(up.out).toMatch(new RegExp(`^${c}: healthy \\(pid \\d+`, 'm'));
    // Cached: no download on a warm start.
    expect(up.out).not.toContain('fetching from Maven Central');

    for (const c of COMPONENTS) {
      const pid = pidOf(c);
      expect(pid).toBeDefined();
      expect(pid).not.toBe(pidsBefore[c]);
      expect(alive(pid!)).toBe(true);
    }
    for (const port of ALL_PORTS) expect({ port, open: await listening(port) }).toEqual({ port, open: true });

    const status = stack('status');
    expect(status.status).toBe(0);
    for (const c of COMPONENTS) expect(status.out).toMatch(new RegExp(`^${c}\\s+\\d+\\s+\\S+\\s+healthy\\s`, 'm'));

    // Same Kafka cluster, same ES cluster, same registry settings: data dirs were reused.
    expect(await identities()).toEqual(identitiesBefore);
  });
});
