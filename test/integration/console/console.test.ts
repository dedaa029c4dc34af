import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CONSUMER_STAGES } from '@rag/contracts';
import { seededRandom, textDocument, waitFor } from '@rag/testkit';
import { Pipeline } from '../../support/pipeline';
import { describeWithTool } from '../../support/tools';

const SCREENSHOTS = join(__dirname, '..', '..', '..', 'test-output', 'console');
const CHROMIUM = spawnSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).stdout.trim();

/** The web console in a real browser (Debian's chromium driven by playwright-core) against a real pipeline. */
describeWithTool('chromium', 'web console', () => {
  const groups = CONSUMER_STAGES.map((s) => `${s}=rag-${s}-`);
  const pipeline = new Pipeline();
  const random = seededRandom(33);
  const phrase = `albatross meridian ${pipeline.id}`;
  let browser: Browser;
  let page: Page;

  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const rowOf = (file: string) => page.locator(`#uploads tr[data-file="${file}"]`);

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    pipeline.options.serviceEnv = { gateway: { PIPELINE_GROUPS: groups.map((g) => `${g}${pipeline.id}`).join(',') } };
    await pipeline.start();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    page.on('dialog', (dialog) => void dialog.accept(dialog.type() === 'prompt' ? 'chunker' : undefined));
  });

  afterAll(async () => {
    await browser?.close();
    await pipeline.stop();
  });

  it('uploads three files and a poison one: three reach indexed, the poison shows failed with its reason', async () => {
    await page.goto(`${pipeline.gatewayUrl}/#upload`);
    await page.setInputFiles('#file-input', [
      { name: 'alpha.md', mimeType: 'text/markdown', buffer: Buffer.from(`# Alpha\n\n${textDocument(random, 2_000, 'alpha')}`) },
      { name: 'beta.txt', mimeType: 'text/plain', buffer: Buffer.from(textDocument(random, 2_000, phrase)) },
      { name: 'gamma.html', mimeType: 'text/html', buffer: Buffer.from(`<h1>Gamma</h1><p>${textDocument(random, 1_500, 'gamma')}</p>`) },
      { name: 'poison.html', mimeType: 'text/html', buffer: Buffer.from('<html><body><script>nothing to read</script></body></html>') },
    ]);
    for (const file of ['alpha.md', 'beta.txt', 'gamma.html']) {
      await rowOf(file).locator('.status-indexed').waitFor({ timeout: 60_000 });
    }
    await rowOf('poison.html').locator('.status-failed').waitFor({ timeout: 60_000 });
    expect(await rowOf('poison.html').textContent()).toMatch(/chunker: .*no text/);
    expect(await rowOf('beta.txt').locator('progress').getAttribute('value')).toBe(
      await rowOf('beta.txt').locator('progress').getAttribute('max'),
    );
    await shot('1-upload');
  });

  it('search finds the right document, with the query words highlighted', async () => {
    const beta = await rowOf('beta.txt').getAttribute('data-document');
    await page.goto(`${pipeline.gatewayUrl}/#search`);
    await page.getByLabel('Query').fill(phrase);
    await page.getByRole('button', { name: 'Search' }).click();
    const first = page.locator('#hits li').first();
    await first.waitFor();
    expect(await first.getAttribute('data-document')).toBe(beta);
    expect(await first.locator('mark').count()).toBeGreaterThan(0);
    await shot('2-search');
  });

  it('dead letters: the poison is counted under the chunker with its reason, inspected and replayed', async () => {
    await page.goto(`${pipeline.gatewayUrl}/#dead-letters`);
    const chunker = page.locator('#dlq-stages tr[data-stage="chunker"]');
    await chunker.waitFor();
    expect(await chunker.textContent()).toMatch(/1 × document has no text/);
    await chunker.getByRole('button', { name: 'Inspect' }).click();
    await page.locator('#dlq-records details').first().waitFor();
    await shot('3-dead-letters');
    await chunker.getByRole('button', { name: 'Replay' }).click();
    await page.getByText(/replayed 1 record/).waitFor();
    // Replayed, it fails again (the input is still empty of text): a second dead letter arrives.
    await waitFor(
      'a second chunker dead letter',
      async () => {
        await page.locator('#dlq-refresh').click();
        return (await page.locator('#dlq-stages tr[data-stage="chunker"] td').nth(1).textContent()) === '2';
      },
      30_000,
    );
  });

  it('documents: lists them, shows a document with its chunks, deletes it', async () => {
    const alpha = (await rowOf('alpha.md').getAttribute('data-document'))!;
    await page.goto(`${pipeline.gatewayUrl}/#documents`);
    const link = page.locator(`#documents a[data-document="${alpha}"]`);
    await link.waitFor();
    await link.click();
    await page.locator('#document-detail .chunk').first().waitFor();
    expect(await page.locator('#document-detail .chunk').count()).toBeGreaterThan(0);
    await shot('4-document');
    await page.locator('#document-detail').getByRole('button', { name: 'Delete' }).click();
    await pipeline.waitForStatus([alpha], 'deleted', 60_000);
  });

  it('pipeline: every stage with one instance, refreshing live', async () => {
    await page.goto(`${pipeline.gatewayUrl}/#pipeline`);
    for (const stage of CONSUMER_STAGES) {
      const instances = page.locator(`#stages tr[data-stage="${stage}"] td`).nth(1);
      await waitFor(`${stage} shown with one instance`, async () => (await instances.textContent().catch(() => '')) === '1', 20_000);
    }
    const before = await page.locator('#pipeline-meta').textContent();
    await waitFor('the pipeline view to refresh', async () => (await page.locator('#pipeline-meta').textContent()) !== before, 10_000);
    await shot('5-pipeline');
  });
});
