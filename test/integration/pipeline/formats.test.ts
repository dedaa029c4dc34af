import { DOCX, PDF, PPTX, XLSX } from '@rag/contracts';
import {
  distinctivePhrase,
  docxFile,
  imageOnlyPdf,
  manyPagePdf,
  paragraph,
  pdfFile,
  pptxFile,
  seededRandom,
  waitFor,
  xlsxFile,
  zipBombDocx,
} from '@rag/testkit';
import { Pipeline } from '../../support/pipeline';

/**
 * Real files written by other tools (pdfkit, docx, pptxgenjs, exceljs), uploaded through the
 * gateway and produced straight to Kafka: each reaches `indexed`, and a phrase from page 7 /
 * slide 3 / sheet 2 is found by search (no refresh) with its page, slide or sheet, also as a
 * filter. Scanned, encrypted, corrupt, mislabeled and pathological files end with their reasons
 * and hold nothing else up.
 */
describe('document formats end to end', () => {
  let pipeline: Pipeline;
  const random = seededRandom(13);
  let zipBomb: Buffer;
  let tenThousandPages: Buffer;

  beforeAll(async () => {
    // Made before any connection is open: writing them blocks this process for seconds, long
    // enough for the gateway to close an idle keep-alive socket the client would then reuse.
    zipBomb = zipBombDocx(300);
    tenThousandPages = await manyPagePdf(10_000);
    pipeline = new Pipeline({ partitions: 2, serviceEnv: { chunker: { CHUNKER_MAX_PAGES: '2000' } } });
    await pipeline.start();
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  const upload = async (name: string, bytes: Buffer, type: string, fields: Record<string, string> = {}) => {
    const form = new FormData();
    form.set('file', new Blob([bytes], { type }), name);
    for (const [key, value] of Object.entries(fields)) form.set(key, value);
    const res = await fetch(`${pipeline.gatewayUrl}/v1/documents`, { method: 'POST', body: form });
    return { status: res.status, body: (await res.json()) as { documentId: string; error?: string; message?: string } };
  };

  const uploadAccepted = async (name: string, bytes: Buffer, type: string, fields: Record<string, string> = {}) => {
    const { status, body } = await upload(name, bytes, type, fields);
    expect({ status, body }).toMatchObject({ status: 202 });
    return body.documentId;
  };

  const finalStatus = async (documentId: string) => {
    await waitFor(
      `${documentId} indexed or failed`,
      async () => ['indexed', 'failed'].includes((await pipeline.status(documentId))?.status ?? ''),
      90_000,
      50,
    );
    return (await pipeline.status(documentId))!;
  };

  it('PDF: a phrase from page 7 is found with pageStart ≤ 7 ≤ pageEnd, and by the page filter', async () => {
    const phrase = distinctivePhrase(random);
    const pages = Array.from({ length: 12 }, (_, i) => ({ heading: `Chapter ${i + 1}`, text: paragraph(random, 12) }));
    pages[6].text = `${paragraph(random, 4)} The inspection code is ${phrase}. ${paragraph(random, 4)}`;
    const documentId = await uploadAccepted('manual.pdf', await pdfFile(pages), 'application/pdf');
    expect(await finalStatus(documentId)).toMatchObject({ status: 'indexed' });
    const [hit] = await pipeline.search({ query: phrase, k: 1, hybrid: true, filter: { documentId } });
    expect(hit.text).toContain(phrase);
    expect(hit.pageStart).toBeLessThanOrEqual(7);
    expect(hit.pageEnd).toBeGreaterThanOrEqual(7);
    const onPage2 = await pipeline.search({ query: phrase, k: 5, hybrid: true, filter: { documentId, page: 2 } });
    expect(onPage2.some((h) => h.text.includes(phrase))).toBe(false);
    const onPage7 = await pipeline.search({ query: phrase, k: 5, hybrid: true, filter: { documentId, page: 7 } });
    expect(onPage7[0]?.text).toContain(phrase);
  });

  it('PPTX: a phrase from slide 3 is found with its slide', async () => {
    const phrase = distinctivePhrase(random);
    const slides = Array.from({ length: 6 }, (_, i) => ({ title: `Slide ${i + 1}`, body: paragraph(random, 2) }));
    slides[2].body = `Quarterly results: ${phrase} grew fastest.`;
    const documentId = await uploadAccepted('deck.pptx', await pptxFile(slides), 'application/octet-stream');
    expect(await finalStatus(documentId)).toMatchObject({ status: 'indexed' });
    const [hit] = await pipeline.search({ query: phrase, k: 1, hybrid: true, filter: { documentId } });
    expect(hit.text).toContain(phrase);
    expect(hit.slideStart).toBeLessThanOrEqual(3);
    expect(hit.slideEnd).toBeGreaterThanOrEqual(3);
  });

  it('XLSX: a phrase from sheet 2 is found with its sheet name, rows as header: value lines', async () => {
    const phrase = distinctivePhrase(random);
    const documentId = await uploadAccepted(
      'inventory.xlsx',
      await xlsxFile([
        { name: 'Summary', rows: [['Region', 'Revenue'], ...Array.from({ length: 20 }, (_, i) => [`region ${i}`, i * 100])] },
        {
          name: 'Parts',
          rows: [
            ['Part', 'Count'],
            ['sprocket', 12],
            [phrase, 7],
          ],
        },
      ]),
      XLSX,
    );
    expect(await finalStatus(documentId)).toMatchObject({ status: 'indexed' });
    const [hit] = await pipeline.search({ query: phrase, k: 1, hybrid: true, filter: { documentId, sheet: 'Parts' } });
    expect(hit).toMatchObject({ sheet: 'Parts', heading: 'Parts' });
    expect(hit.text).toContain(`Part: ${phrase}; Count: 7`);
  });

  it('CSV: a row is found as one "header: value" line', async () => {
    const phrase = distinctivePhrase(random);
    const rows = [
      'sku,name,warehouse',
      ...Array.from({ length: 40 }, (_, i) => `${i},part ${i},"Hall ${i % 3}, shelf ${i}"`),
      `99,${phrase},"Hall 9, shelf 99"`,
    ];
    const documentId = await uploadAccepted('stock.csv', Buffer.from(rows.join('\n')), 'text/csv');
    expect(await finalStatus(documentId)).toMatchObject({ status: 'indexed' });
    const [hit] = await pipeline.search({ query: phrase, k: 1, hybrid: true, filter: { documentId } });
    expect(hit.text).toContain(`sku: 99; name: ${phrase}; warehouse: Hall 9, shelf 99`);
  });

  it('DOCX produced straight to Kafka (any producer): headings become the chunk heading path', async () => {
    const phrase = distinctivePhrase(random);
    const docx = await docxFile([
      { heading: 'Operations', paragraphs: [paragraph(random, 3)] },
      {
        heading: 'Pressure limits',
        level: 2,
        paragraphs: [`The relief valve opens at ${phrase}.`],
        table: [
          ['Part', 'Max'],
          ['pump', '42 bar'],
        ],
      },
    ]);
    const documentId = `docx-${pipeline.id}`;
    await pipeline.produceDocument({
      documentId,
      version: 1,
      title: 'runbook.docx',
      contentType: DOCX,
      content: docx,
      source: 'kafka-producer',
      metadata: {},
      submittedAt: Date.now(),
    });
    expect(await finalStatus(documentId)).toMatchObject({ status: 'indexed' });
    const [hit] = await pipeline.search({ query: phrase, k: 1, hybrid: true, filter: { documentId } });
    expect(hit.text).toContain(phrase);
    expect(hit.text).toContain('Part | Max\npump | 42 bar');
    expect([hit.heading, ...hit.headings]).toContain('Operations > Pressure limits');
  });

  it('per-document chunkSize: the same PDF in 64-token chunks makes more, smaller chunks', async () => {
    const pdf = await pdfFile(Array.from({ length: 3 }, () => ({ text: paragraph(random, 30) })));
    const [big, small] = [
      await uploadAccepted('a.pdf', pdf, PDF),
      await uploadAccepted('b.pdf', pdf, PDF, { chunkSize: '64', chunkOverlap: '8' }),
    ];
    const [bigStatus, smallStatus] = [await finalStatus(big), await finalStatus(small)];
    expect(smallStatus.chunkCount).toBeGreaterThan(2 * bigStatus.chunkCount!);
    expect((await upload('c.pdf', pdf, PDF, { chunkSize: '64', chunkOverlap: '64' })).body).toMatchObject({ error: 'invalid_request' });
  });

  it('scanned, encrypted, corrupt, zip-bomb and 10,000-page files end failed with their reasons; the good file beside them is indexed', async () => {
    const good = await pdfFile([{ text: `A good file ${distinctivePhrase(random)}.` }]);
    const whole = await pdfFile([{ text: paragraph(random) }, { text: paragraph(random) }]);
    const cases: [string, Buffer, string, RegExp][] = [
      ['scan.pdf', await imageOnlyPdf(2), PDF, /^no text layer \(OCR not enabled\)/],
      ['locked.pdf', await pdfFile([{ text: 'secret' }], { userPassword: 'pw' }), PDF, /^encrypted/],
      ['broken.pdf', whole.subarray(0, Math.floor(whole.length / 3)), PDF, /^corrupt/],
      ['bomb.docx', zipBomb, DOCX, /^zip bomb guard: the package declares 300 MiB uncompressed/],
      ['long.pdf', tenThousandPages, PDF, /^PDF has 10000 pages, above CHUNKER_MAX_PAGES=2000/],
    ];
    const ids = new Map<string, RegExp>();
    for (const [name, bytes, type, reason] of cases) ids.set(await uploadAccepted(name, bytes, type), reason);
    const goodId = await uploadAccepted('good.pdf', good, PDF);
    for (const [documentId, reason] of ids) {
      const status = await finalStatus(documentId);
      expect(status.status).toBe('failed');
      expect(status.failures.map((f) => `${f.stage}: ${f.reason}`).join('\n')).toMatch(
        new RegExp(`chunker: .*${reason.source.replace(/^\^/, '')}`),
      );
    }
    expect(await finalStatus(goodId)).toMatchObject({ status: 'indexed' });
  });

  it('mislabeled files are refused at the gateway with 415 naming both types', async () => {
    const pdf = await pdfFile([{ text: 'hello' }]);
    expect(await upload('notes.md', pdf, 'text/markdown')).toMatchObject({
      status: 415,
      body: { error: 'content_type_mismatch', message: 'declared markdown but the content is a PDF file' },
    });
    expect(await upload('deck.pptx', pdf, PPTX)).toMatchObject({
      status: 415,
      body: { error: 'content_type_mismatch', message: 'declared pptx but the content is a PDF file' },
    });
    expect(await upload('report.pdf', Buffer.from('plain words'), 'application/pdf')).toMatchObject({ status: 415 });
    expect(await upload('photo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0]), 'image/png')).toMatchObject({
      status: 415,
      body: { error: 'unsupported_media_type' },
    });
  });

  it('a mislabeled file produced straight to Kafka ends failed with the mismatch', async () => {
    const documentId = `mislabeled-${pipeline.id}`;
    await pipeline.produceDocument({
      documentId,
      version: 1,
      title: null,
      contentType: XLSX,
      content: await pdfFile([{ text: 'not a spreadsheet' }]),
      source: 'kafka-producer',
      metadata: {},
      submittedAt: Date.now(),
    });
    const status = await finalStatus(documentId);
    expect(status.status).toBe('failed');
    expect(status.failures[0].reason).toMatch(/declared xlsx but the content is a PDF file/);
  });
});
