import { tokenizer } from './tokenizer';

describe('tokenizer (cl100k_base)', () => {
  it('gives the ids OpenAI publishes for cl100k_base', () => {
    // tiktoken: enc.encode("hello world") == [15339, 1917]; "tiktoken is great!" == [83, 1609, 5963, 374, 2294, 0]
    expect(tokenizer.encode('hello world')).toEqual([15339, 1917]);
    expect(tokenizer.encode('tiktoken is great!')).toEqual([83, 1609, 5963, 374, 2294, 0]);
    expect(tokenizer.count('tiktoken is great!')).toBe(6);
  });

  it('round-trips multilingual text and emoji', () => {
    const text = 'Grüße, 東京 🦄 — naïve café\n\n\tend';
    expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
    expect(tokenizer.count(text)).toBe(tokenizer.encode(text).length);
  });

  it('treats special-token markers in user text as plain text instead of throwing', () => {
    const text = 'before <|endoftext|> after <|fim_prefix|>';
    const ids = tokenizer.encode(text);
    expect(ids).not.toContain(100257); // <|endoftext|> as a special token
    expect(tokenizer.decode(ids)).toBe(text);
    expect(tokenizer.count(text)).toBe(ids.length);
  });

  it('encodes a long run without whitespace in slices that still decode to the input', () => {
    const run = Array.from({ length: 20_000 }, (_, i) => 'ACGT'[(i * 7919) % 4]).join('');
    const ids = tokenizer.encode(`start ${run} end`);
    expect(tokenizer.decode(ids)).toBe(`start ${run} end`);
    expect(tokenizer.count(`start ${run} end`)).toBe(ids.length);
  });

  it('counts within a limit: the count when it fits, undefined past it', () => {
    const text = 'one two three four five six seven eight nine ten';
    expect(tokenizer.countWithin(text, 10)).toBe(10);
    expect(tokenizer.countWithin(text, 9)).toBeUndefined();
    expect(tokenizer.countWithin('x'.repeat(5_000), 10)).toBeUndefined();
    expect(tokenizer.countWithin('', 10)).toBe(0);
  });
});
