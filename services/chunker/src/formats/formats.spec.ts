import { DOCX, PDF, PPTX, XLSX } from '@rag/contracts';
import { docxFile, imageOnlyPdf, manyPagePdf, pdfFile, pptxFile, xlsxFile, zipBombDocx } from '@rag/testkit';
import { extractSections, type ExtractionLimits, type Section } from '.';

const LIMITS: ExtractionLimits = { maxPages: 100, maxUnzippedBytes: 32 * 1024 * 1024 };

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect((err as { kind?: string }).kind).toBe('permanent');
    return (err as Error).message;
  }
  throw new Error('expected a permanent failure');
}

const find = (sections: Section[], phrase: string) => sections.find((s) => s.text.includes(phrase));

describe('extractSections (files written by other tools)', () => {
  it('PDF: one section per page, numbered, text in reading order', async () => {
    const pages = Array.from({ length: 9 }, (_, i) => ({ heading: `Chapter ${i + 1}`, text: `Page ${i + 1} body text.` }));
    pages[6].text = 'The zephyr valve tolerates forty two bar before it vents.';
    const sections = await extractSections(PDF, await pdfFile(pages), LIMITS);
    expect(sections).toHaveLength(9);
    expect(find(sections, 'zephyr valve')?.page).toBe(7);
    expect(sections[6].text).toMatch(/^Chapter 7\n+The zephyr valve tolerates forty two bar/);
  });

  it('PDF: image-only pages fail as having no text layer', async () => {
    expect(await reasonOf(extractSections(PDF, await imageOnlyPdf(3), LIMITS))).toMatch(/^no text layer \(OCR not enabled\)/);
  });

  it('PDF: encrypted fails as encrypted', async () => {
    const encrypted = await pdfFile([{ text: 'secret plans' }], { userPassword: 'hunter2' });
    expect(await reasonOf(extractSections(PDF, encrypted, LIMITS))).toMatch(/^encrypted/);
  });

  it('PDF: truncated or garbage fails as corrupt', async () => {
    const whole = await pdfFile([{ text: 'one' }, { text: 'two' }]);
    expect(await reasonOf(extractSections(PDF, whole.subarray(0, Math.floor(whole.length / 3)), LIMITS))).toMatch(/^corrupt/);
    expect(await reasonOf(extractSections(PDF, Buffer.from('%PDF-1.7\n%%garbage, not objects'), LIMITS))).toMatch(/^corrupt/);
  });

  it('PDF: more pages than CHUNKER_MAX_PAGES fails before reading them', async () => {
    expect(await reasonOf(extractSections(PDF, await manyPagePdf(150), LIMITS))).toBe('PDF has 150 pages, above CHUNKER_MAX_PAGES=100');
  });

  it('DOCX: heading styles become heading paths, table rows become lines', async () => {
    const docx = await docxFile([
      { heading: 'Install guide', paragraphs: ['Run the installer first.'] },
      {
        heading: 'Limits',
        level: 2,
        paragraphs: ['The pump has limits.'],
        table: [
          ['Part', 'Max pressure'],
          ['pump', '42 bar'],
          ['valve', '7 bar'],
        ],
      },
    ]);
    const sections = await extractSections(DOCX, docx, LIMITS);
    expect(sections.map((s) => s.heading)).toEqual(['Install guide', 'Install guide > Limits']);
    expect(sections[1].text).toContain('Part | Max pressure\npump | 42 bar\nvalve | 7 bar');
  });

  it('PPTX: one section per slide in show order', async () => {
    const pptx = await pptxFile(
      [1, 2, 3, 4].map((n) => ({ title: `Slide title ${n}`, body: n === 3 ? 'Quarterly marmalade revenue grew.' : `Body ${n}` })),
    );
    const sections = await extractSections(PPTX, pptx, LIMITS);
    expect(sections.map((s) => s.slide)).toEqual([1, 2, 3, 4]);
    expect(find(sections, 'marmalade')?.slide).toBe(3);
    expect(sections[2].text).toBe('Slide title 3\nQuarterly marmalade revenue grew.');
  });

  it('XLSX: one section per sheet, rows as "header: value" lines', async () => {
    const xlsx = await xlsxFile([
      {
        name: 'Summary',
        rows: [
          ['Region', 'Revenue'],
          ['EMEA', 100],
        ],
      },
      {
        name: 'Inventory',
        rows: [
          ['Item', 'Count'],
          ['gizmo flux capacitor', 3],
          ['sprocket', 12],
        ],
      },
    ]);
    const sections = await extractSections(XLSX, xlsx, LIMITS);
    expect(sections.map((s) => [s.sheet, s.heading])).toEqual([
      ['Summary', 'Summary'],
      ['Inventory', 'Inventory'],
    ]);
    expect(sections[1].text).toBe('Item | Count\nItem: gizmo flux capacitor; Count: 3\nItem: sprocket; Count: 12');
  });

  it('CSV: quoted fields with commas and newlines stay in their row', async () => {
    const csv = 'name,comment\nann,"likes a, b"\nbob,"two\nlines"\n';
    const [section] = await extractSections('text/csv', Buffer.from(csv), LIMITS);
    expect(section.text).toBe('name | comment\nname: ann; comment: likes a, b\nname: bob; comment: two lines');
  });

  it('Office zip bombs fail on their declared size before anything is inflated', async () => {
    const bomb = zipBombDocx(64);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expect(await reasonOf(extractSections(DOCX, bomb, LIMITS))).toBe(
      'zip bomb guard: the package declares 64 MiB uncompressed, above CHUNKER_MAX_UNZIPPED_MB=32',
    );
  });

  it('content that is not what its type claims fails with both named', async () => {
    const pdf = await pdfFile([{ text: 'hello' }]);
    expect(await reasonOf(extractSections(DOCX, pdf, LIMITS))).toBe(
      'content does not match its type: declared docx but the content is a PDF file',
    );
    expect(await reasonOf(extractSections(PDF, Buffer.from('just text'), LIMITS))).toBe(
      'content does not match its type: declared pdf but the content is text',
    );
    expect(await reasonOf(extractSections('text/markdown', pdf, LIMITS))).toMatch(/declared markdown but the content is a PDF file/);
    expect(await reasonOf(extractSections('image/png', Buffer.from('x'), LIMITS))).toMatch(/^unsupported content type "image\/png"/);
  });
});
