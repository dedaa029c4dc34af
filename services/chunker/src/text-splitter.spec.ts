import { RecursiveTokenSplitter, type TextPiece } from './text-splitter';

const words = (text: string) => text.split(/\s+/).filter(Boolean);

/**
 * A document whose every word is unique (sentence and word numbers are baked in), so an
 * overlap between two chunks can be found exactly and any loss or reordering shows.
 */
function document(paragraphs: number, sentencesPerParagraph: number): string {
  let n = 0;
  return Array.from({ length: paragraphs }, (_, p) =>
    Array.from({ length: sentencesPerParagraph }, (_, s) => {
      n += 1;
      const length = 6 + ((p * 7 + s * 3) % 9);
      const body = Array.from({ length }, (_, w) => `w${n}x${w}`).join(' ');
      return `Sentence${n} ${body}${s % 3 === 2 ? '?' : '.'}`;
    }).join(' '),
  ).join('\n\n');
}

/** The longest k such that the first k words of `next` are the last k words of `previous`. */
function overlapWords(previous: string[], next: string[]): number {
  for (let k = Math.min(previous.length, next.length); k > 0; k--) {
    if (previous.slice(-k).every((w, i) => w === next[i])) return k;
  }
  return 0;
}

/** The input's words rebuilt from the chunks by dropping each chunk's overlap with the one before. */
function rebuild(chunks: TextPiece[]): { words: string[]; overlaps: string[][] } {
  const out: string[] = [];
  const overlaps: string[][] = [];
  let previous: string[] = [];
  for (const chunk of chunks) {
    const current = words(chunk.text);
    const k = overlapWords(previous, current);
    overlaps.push(current.slice(0, k));
    out.push(...current.slice(k));
    previous = current;
  }
  return { words: out, overlaps };
}

describe('RecursiveTokenSplitter', () => {
  it('returns a text under the limit as one chunk, with its token count', () => {
    const splitter = new RecursiveTokenSplitter({ chunkSize: 100, chunkOverlap: 10 });
    const text = 'Kafka keeps the chunks of one document on one partition.\n\nThat keeps them ordered.';
    const chunks = splitter.split(text);
    expect(chunks).toEqual([{ text, tokens: splitter.count(text) }]);
    expect(chunks[0].tokens).toBeLessThanOrEqual(100);
  });

  it('splits a text of a quarter of a million sentences (spreading them into one push overflowed the stack)', () => {
    const splitter = new RecursiveTokenSplitter({ chunkSize: 400, chunkOverlap: 50 });
    const chunks = splitter.split('Go now. Stop. '.repeat(125_000));
    expect(chunks.length).toBeGreaterThan(1_000);
    expect(Math.max(...chunks.map((c) => c.tokens))).toBeLessThanOrEqual(400);
  });

  it('returns no chunk for blank text', () => {
    expect(new RecursiveTokenSplitter({ chunkSize: 50, chunkOverlap: 5 }).split('  \n\n \t ')).toEqual([]);
  });

  it('rejects an overlap that is not smaller than the chunk size', () => {
    expect(() => new RecursiveTokenSplitter({ chunkSize: 50, chunkOverlap: 50 })).toThrow(/overlap/);
  });

  // Sentences here are at most ~60 tokens, so with chunkSize - chunkOverlap above that the
  // overlap always fits in front of the next piece (otherwise fitting the chunk wins).
  describe.each([
    { name: 'paragraphs longer than the overlap', chunkSize: 120, chunkOverlap: 20, text: document(12, 5) },
    { name: 'one long paragraph of sentences', chunkSize: 80, chunkOverlap: 16, text: document(1, 40) },
    { name: 'the chunker defaults (400 / 50)', chunkSize: 400, chunkOverlap: 50, text: document(30, 6) },
    { name: 'lines, no blank lines', chunkSize: 160, chunkOverlap: 16, text: document(20, 2).replace(/\n\n/g, '\n') },
  ])('$name', ({ chunkSize, chunkOverlap, text }) => {
    const splitter = new RecursiveTokenSplitter({ chunkSize, chunkOverlap });
    const chunks = splitter.split(text);

    it('produces several chunks, none over chunkSize tokens (by the splitter’s own count)', () => {
      expect(splitter.count(text)).toBeGreaterThan(chunkSize * 2);
      expect(chunks.length).toBeGreaterThan(2);
      for (const chunk of chunks) {
        expect(chunk.tokens).toBe(splitter.count(chunk.text));
        expect(chunk.tokens).toBeLessThanOrEqual(chunkSize);
        expect(chunk.text).toBe(chunk.text.trim());
      }
    });

    it('starts every chunk after the first with the end of the previous one, within the overlap budget', () => {
      const { overlaps } = rebuild(chunks);
      overlaps.slice(1).forEach((overlap, i) => {
        expect({ chunk: i + 1, overlaps: overlap.length > 0 }).toEqual({ chunk: i + 1, overlaps: true });
        expect(splitter.count(overlap.join(' '))).toBeLessThanOrEqual(chunkOverlap);
      });
    });

    it('loses, duplicates and reorders no word (overlaps aside), and glues none together', () => {
      expect(rebuild(chunks).words).toEqual(words(text));
    });

    it('is deterministic', () => {
      expect(new RecursiveTokenSplitter({ chunkSize, chunkOverlap }).split(text)).toEqual(chunks);
    });
  });

  it('chunks text that contains special-token markers such as <|endoftext|> (plain text, no error)', () => {
    const text = 'A prompt log: <|im_start|>user hello<|im_end|> then <|endoftext|>. '.repeat(40);
    const chunks = new RecursiveTokenSplitter({ chunkSize: 64, chunkOverlap: 0 }).split(text);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.map((c) => c.text).join(' ')).toBe(text.trim());
  });

  it('does not overlap when the overlap is 0', () => {
    const splitter = new RecursiveTokenSplitter({ chunkSize: 64, chunkOverlap: 0 });
    const text = document(1, 40);
    const chunks = splitter.split(text);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.flatMap((c) => words(c.text))).toEqual(words(text));
  });

  it('prefers paragraph boundaries: a paragraph that fits in a chunk is not split across chunks', () => {
    const splitter = new RecursiveTokenSplitter({ chunkSize: 200, chunkOverlap: 0 });
    const text = document(12, 3);
    const chunks = splitter.split(text);
    const fitting = text.split('\n\n').filter((p) => splitter.count(p) <= 200);
    expect(fitting.length).toBeGreaterThan(6);
    for (const paragraph of fitting) expect(chunks.some((c) => c.text.includes(paragraph))).toBe(true);
  });

  it('splits after sentence punctuation without dropping the space, and after CJK full stops', () => {
    const splitter = new RecursiveTokenSplitter({ chunkSize: 16, chunkOverlap: 0 });
    const text = 'First sentence has a few words in it. Second sentence also has a few words. Third one is here!';
    const chunks = splitter.split(text);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.map((c) => c.text).join(' ')).toBe(text);

    // 28 tokens a sentence, no spaces: only the full stop is a boundary.
    const japanese = '東京都の天気は晴れですが午後から雨が降るでしょう。'.repeat(6);
    const cjkChunks = new RecursiveTokenSplitter({ chunkSize: 40, chunkOverlap: 0 }).split(japanese);
    expect(cjkChunks.length).toBeGreaterThan(1);
    expect(cjkChunks.every((c) => c.text.endsWith('。'))).toBe(true);
    expect(cjkChunks.map((c) => c.text).join('')).toBe(japanese);
  });

  describe('a single enormous word with no separator', () => {
    // Kept short: BPE is superlinear in the length of a single pre-token.
    const letters = (alphabet: string, length: number) => {
      const chars = Array.from(alphabet);
      let state = 12345;
      const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 16;
      return Array.from({ length }, () => chars[next() % chars.length]).join('');
    };
    it.each([
      ['ASCII', letters('abcdefghijklmnopqrstuvwxyz', 1_000)],
      ['Greek', letters('αβγδεζηθικλμνξοπρστυφχψωάέήίόύώ', 300)],
      ['emoji', '🦄🐙🦑'.repeat(60)],
      ['rare CJK', '齉龘靐'.repeat(60)],
    ])('is hard-cut by tokens without breaking characters (%s)', (_name, word) => {
      const splitter = new RecursiveTokenSplitter({ chunkSize: 32, chunkOverlap: 8 });
      const chunks = splitter.split(word);
      expect(chunks.length).toBeGreaterThan(1);
      for (const chunk of chunks) {
        expect(chunk.tokens).toBeLessThanOrEqual(32);
        expect(chunk.text).not.toContain('\uFFFD');
      }
      // No word boundary to overlap at, so the pieces join back into the word exactly.
      expect(chunks.map((c) => c.text).join('')).toBe(word);
    });
  });
});
