import { RecursiveTokenSplitter, type SplitSection } from './text-splitter';

const sentence = (n: number, word: string) => Array.from({ length: n }, (_, i) => `${word} ${i}.`).join(' ');

describe('RecursiveTokenSplitter.splitSections', () => {
  const splitter = new RecursiveTokenSplitter({ chunkSize: 120, chunkOverlap: 10 });
  const small: SplitSection[] = ['Install', 'Configure', 'Run', 'Upgrade', 'Remove'].map((title) => ({
    heading: `Guide > ${title}`,
    text: sentence(6, title.toLowerCase()),
  }));

  it('merges consecutive small sections up to the chunk size, keeping every heading', () => {
    const merged = splitter.splitSections(small, true);
    const separate = splitter.splitSections(small, false);
    expect(separate).toHaveLength(5);
    expect(merged.length).toBeLessThan(separate.length);
    for (const chunk of merged) expect(splitter.count(chunk.text)).toBeLessThanOrEqual(120);
    const headings = merged.flatMap((c) => [c.heading, ...c.headings]);
    expect(headings).toEqual(small.map((s) => s.heading));
    // A merged section's title stays in the text, before its own words.
    expect(merged[0].heading).toBe('Guide > Install');
    expect(merged[0].text).toMatch(/install 5\.\n\nConfigure\nconfigure 0\./);
  });

  it('loses no words of any section', () => {
    const words = (texts: string[]) => texts.join(' ').match(/\b[a-z]+ \d+\./g) ?? [];
    expect(words(splitter.splitSections(small, true).map((c) => c.text))).toEqual(words(small.map((s) => s.text)));
  });

  it('never cuts a code fence that fits, even across paragraph breaks inside it', () => {
    const fence = '```js\nconst a = 1;\n\nconst b = 2;\n\nconsole.log(a + b);\n```';
    const text = `${sentence(20, 'before')}\n\n${fence}\n\n${sentence(20, 'after')}`;
    const chunks = new RecursiveTokenSplitter({ chunkSize: 80, chunkOverlap: 0 }).splitSections([{ heading: null, text }], true);
    expect(chunks.filter((c) => c.text.includes('```js'))).toHaveLength(1);
    expect(chunks.find((c) => c.text.includes('```js'))?.text).toContain(fence);
  });

  it('cuts table rows only between rows', () => {
    const rows = Array.from({ length: 60 }, (_, i) => `part-${i} | ${i * 7} bar | valve ${i}`).join('\n');
    const chunks = new RecursiveTokenSplitter({ chunkSize: 64, chunkOverlap: 0 }).splitSections([{ heading: 'Limits', text: rows }], true);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) for (const line of chunk.text.split('\n')) expect(line).toMatch(/^part-\d+ \| \d+ bar \| valve \d+$/);
  });

  it('carries page and slide ranges, and never merges two sheets', () => {
    const pages = [1, 2, 3].map((page) => ({ heading: null, text: sentence(3, `page${page}`), page }));
    const [chunk] = splitter.splitSections(pages, true);
    expect([chunk.pageStart, chunk.pageEnd, chunk.slideStart]).toEqual([1, 3, null]);
    const sheets = ['A', 'B'].map((sheet) => ({ heading: sheet, text: 'x: 1', sheet }));
    expect(splitter.splitSections(sheets, true).map((c) => c.sheet)).toEqual(['A', 'B']);
  });

  it('overlaps only within a section', () => {
    const long = [
      { heading: 'One', text: sentence(80, 'one') },
      { heading: 'Two', text: sentence(80, 'two') },
    ];
    const chunks = splitter.splitSections(long, true);
    const ofTwo = chunks.filter((c) => c.heading === 'Two');
    expect(ofTwo.length).toBeGreaterThan(1);
    for (const chunk of ofTwo) expect(chunk.text).not.toMatch(/\bone \d+\./);
    // Within a section consecutive chunks do overlap.
    expect(ofTwo[0].text).toContain(ofTwo[1].text.split(' ').slice(0, 2).join(' '));
  });
});
