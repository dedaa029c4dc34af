import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CONSUMER_STAGES } from '@rag/contracts';
import { seededRandom, textDocument } from '@rag/testkit';
import { Pipeline } from '../../support/pipeline';

const CLI = join(__dirname, '..', '..', '..', 'dist', 'tools', 'cli', 'main.js');
/** Terminal output without colours and cursor movements (ANSI escape sequences start with ESC). */
// eslint-disable-next-line no-control-regex
const plain = (text: string) => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
const exec = promisify(execFile);

/** The built `rag-stream` binary as a user runs it: a child process against a real pipeline. */
describe('rag-stream CLI', () => {
  const pipeline = new Pipeline();
  const random = seededRandom(12);
  const dir = mkdtempSync(join(tmpdir(), 'rag-cli-'));
  const phrase = `zebra quartz ledger ${pipeline.id}`;

  /** Runs the CLI in `dir`; resolves with its exit code and output even when it exits non-zero. */
  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const env = { ...process.env, ...pipeline.baseEnv(), GATEWAY_URL: pipeline.gatewayUrl, NO_COLOR: '1' };
    try {
      const { stdout, stderr } = await exec(process.execPath, [CLI, ...args], { cwd: dir, env, timeout: 180_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  /** Runs the CLI under a pseudo-terminal (util-linux `script`), as a person at a terminal sees it. */
  function inTerminal(...args: string[]): string {
    const env = { ...process.env, ...pipeline.baseEnv(), GATEWAY_URL: pipeline.gatewayUrl, TERM: 'xterm', COLUMNS: '120' };
    const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const result = spawnSync('script', ['-qfec', command, '/dev/null'], { cwd: dir, env, encoding: 'utf8', timeout: 180_000 });
    return result.stdout;
  }

  beforeAll(async () => {
    await pipeline.start();
    mkdirSync(join(dir, 'docs', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'docs', 'guide.md'), `# Guide\n\n${textDocument(random, 3_000, phrase)}`);
    writeFileSync(join(dir, 'docs', 'notes.txt'), textDocument(random, 2_000, `notes ${pipeline.id}`));
    writeFileSync(
      join(dir, 'docs', 'sub', 'page.html'),
      `<html><body><h1>Page</h1><p>${textDocument(random, 1_500, 'page')}</p></body></html>`,
    );
    writeFileSync(join(dir, 'docs', 'scan.tiff'), 'II*\0 not a supported format');
    writeFileSync(join(dir, 'docs', 'broken.pdf'), '%PDF-1.4 truncated, no objects');
    writeFileSync(join(dir, 'docs', 'empty.txt'), '   ');
  });

  afterAll(async () => {
    await pipeline.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ingests a directory: waits for indexing, reports rejected and skipped files, exits 1 because one failed', async () => {
    const { code, stdout } = await cli('--json', 'ingest', 'docs');
    const report = JSON.parse(stdout) as {
      indexed: number;
      failed: number;
      skipped: number;
      documents: { documentId: string; status: string; chunks: number | null; reason: string | null }[];
      skippedFiles: string[];
    };
    expect(code).toBe(1);
    expect({ indexed: report.indexed, failed: report.failed, skipped: report.skipped }).toEqual({ indexed: 3, failed: 2, skipped: 1 });
    expect(report.skippedFiles[0]).toMatch(/scan\.tiff$/);
    expect(report.documents.find((d) => d.documentId === 'docs/broken.pdf')).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/corrupt/),
    });
    const rejected = report.documents.find((d) => d.status === 'rejected');
    expect(rejected).toMatchObject({ documentId: 'docs/empty.txt', reason: expect.stringMatching(/no text/) });
    for (const d of report.documents.filter((x) => x.status === 'indexed')) expect(d.chunks).toBeGreaterThan(0);
  });

  it('finds the right document, shows its status, lists it, and deletes another', async () => {
    const search = JSON.parse((await cli('--json', 'search', phrase, '-k', '3')).stdout) as { hits: { documentId: string }[] };
    expect(search.hits[0]?.documentId).toBe('docs/guide.md');

    const status = await cli('--json', 'status', 'docs/guide.md');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ documentId: 'docs/guide.md', status: 'indexed' });

    const listed = JSON.parse((await cli('--json', 'list', '--status', 'indexed', '--all')).stdout) as {
      documents: { documentId: string }[];
    };
    expect(listed.documents.map((d) => d.documentId).sort()).toEqual(['docs/guide.md', 'docs/notes.txt', 'docs/sub/page.html']);

    const deleted = await cli('--json', 'delete', 'docs/notes.txt');
    expect(JSON.parse(deleted.stdout)).toMatchObject({ documentId: 'docs/notes.txt', status: 'deleting' });
    await pipeline.waitForStatus(['docs/notes.txt'], 'deleted', 60_000);

    const missing = await cli('status', 'no-such-document');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/not_found/);
  });

  it('--kafka produces straight to the input topic; an empty file ends in the chunker DLQ, which dlq lists and replays', async () => {
    writeFileSync(join(dir, 'kafka-ok.md'), `# Kafka\n\n${textDocument(random, 2_000, 'through kafka')}`);
    writeFileSync(join(dir, 'kafka-empty.txt'), ' ');
    const ok = await cli('--json', 'ingest', '--kafka', 'kafka-ok.md');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ indexed: 1, failed: 0 });

    const bad = await cli('--json', 'ingest', '--kafka', 'kafka-empty.txt');
    expect(bad.code).toBe(1);
    const badReport = JSON.parse(bad.stdout) as { documents: { status: string; reason: string }[] };
    expect(badReport.documents[0]).toMatchObject({ status: 'failed', reason: expect.stringMatching(/chunker: .*no text/) });

    const dlq = JSON.parse((await cli('--json', 'dlq', 'list', '--stage', 'chunker')).stdout) as {
      records: number;
      reasons: { reason: string }[];
    };
    // docs/broken.pdf of the first test is there too (the pipeline's topics are shared by this file).
    expect(dlq.records).toBe(2);
    const replay = JSON.parse((await cli('--json', 'dlq', 'replay', '--stage', 'chunker', '--dry-run')).stdout) as {
      records: { key: string }[];
    };
    expect(replay.records.map((r) => r.key).sort()).toEqual(['docs/broken.pdf', 'kafka-empty.txt']);
  });

  it('draws progress bars and a summary in a terminal, and `top` shows every stage live', () => {
    writeFileSync(join(dir, 'terminal.md'), `# Terminal\n\n${textDocument(random, 2_000, 'terminal')}`);
    const ingest = plain(inTerminal('ingest', 'terminal.md'));
    expect(ingest).toMatch(/sent\s+\|[█░]+\| 1\/1 files/);
    expect(ingest).toMatch(/indexed\s+\|[█░]+\| 1\/1 documents/);
    expect(ingest).toMatch(/1 indexed, 0 skipped/);

    const groups = CONSUMER_STAGES.flatMap((s) => ['--group', `${s}=rag-${s}-${pipeline.id}`]);
    const top = inTerminal('top', '--interval', '1', '--iterations', '2', ...groups);
    // Redrawn in place: the screen is cleared before each refresh.
    expect(top.split('\x1b[2J').length - 1).toBe(2);
    for (const stage of CONSUMER_STAGES) expect(plain(top)).toMatch(new RegExp(`${stage}\\s*│\\s*1\\s*│\\s*Stable`));
  });
});
