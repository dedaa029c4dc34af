import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describeWithTool } from '../../support/tools';

const ROOT = join(__dirname, '..', '..', '..');

/** Every number in the report, with its path, so a missing or zero measurement names itself. */
function numbers(value: unknown, path = ''): [string, number][] {
  if (typeof value === 'number') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => numbers(v, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => numbers(v, path ? `${path}.${k}` : k));
  return [];
}

// Runs the compiled benchmark (npm run build first, as scripts/test.sh does) in smoke mode, so the
// benchmark keeps working as the code changes.
describeWithTool('redis-server', 'benchmark (smoke)', () => {
  const out = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('produces a complete report with positive numbers', async () => {
    await promisify(execFile)(process.execPath, [join(ROOT, 'dist', 'bench', 'main.js'), '--smoke', '--out', out], {
      cwd: ROOT,
      env: process.env,
      timeout: 540_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const json = readdirSync(out).find((f) => /^\d{4}-.*\.json$/.test(f));
    expect(json).toBeDefined();
    const report = JSON.parse(readFileSync(join(out, json!), 'utf8'));
    expect(readFileSync(join(out, 'latest.md'), 'utf8')).toContain('## Targets');

    expect(report.pipeline.throughput.documentsPerSec).toBeGreaterThan(0);
    expect(report.pipeline.throughput.incomplete).toBe(0);
    expect(report.pipeline.latency.map((l: { loadFraction: number }) => l.loadFraction)).toEqual([0.25, 0.5, 1]);
    for (const l of report.pipeline.latency) expect(l.completed).toBe(l.submitted);
    expect(Object.keys(report.pipeline.peakRssMiB).sort()).toEqual(['chunker', 'embedder', 'gateway', 'indexer']);
    expect(report.stages.map((s: { stage: string }) => s.stage)).toEqual(['chunker', 'embedder', 'indexer']);
    expect(report.ceilings.kafka.documentsPerSec).toBeGreaterThan(0);
    expect(report.ceilings.elasticsearch.chunksPerSec).toBeGreaterThan(0);
    expect(report.baseline.best.documentsPerSec).toBeGreaterThan(0);
    expect(report.scaling.runs.map((r: { embedders: number }) => r.embedders)).toEqual([1, 2]);
    expect(report.scaling.batching.providerRequests).toBeGreaterThan(0);
    expect(report.targets).toHaveLength(6);
    // CPU is charged to the services and to the local stack's servers (found by STACK_DIR).
    const cpu = report.pipeline.cpu.cpuSeconds as Record<string, number>;
    expect(Object.keys(cpu).sort()).toEqual(['bench', 'chunker', 'embedder', 'es', 'gateway', 'indexer', 'kafka', 'registry']);
    for (const busy of ['chunker', 'embedder', 'indexer', 'es', 'kafka']) expect(cpu[busy]).toBeGreaterThan(0);
    // Each latency run charges CPU the same way; the schema registry may idle through one (schemas are cached).
    for (const l of report.pipeline.latency as { cpu: { cpuSeconds: Record<string, number> } }[]) {
      for (const busy of ['chunker', 'embedder', 'indexer', 'es', 'kafka']) expect(l.cpu.cpuSeconds[busy]).toBeGreaterThan(0);
    }
    expect(report.machine.loadAverageAtStart).toHaveLength(3);

    // Measurements are positive; counts of failures, and the CPU of a process idle in a short run, may be zero.
    const zeroAllowed = /(failed|incomplete)$|^pipeline\.(latency\[\d+\]\.)?cpu\.(cpuSeconds|msPerDocument)\./;
    const notPositive = numbers(report).filter(([path, v]) => !zeroAllowed.test(path) && !(v > 0));
    expect(notPositive).toEqual([]);
  }, 600_000);
});
