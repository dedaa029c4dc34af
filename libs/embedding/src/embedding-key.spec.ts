import { paragraph, seededRandom, sentence } from '@rag/testkit';
import { embeddingInput, embeddingInputTokens } from './embedding-key';
import { tokenizer } from './tokenizer';

describe('embeddingInputTokens', () => {
  it('bounds the exact token count of the embedded input from above, by at most 3', () => {
    const random = seededRandom(3);
    const endings = ['', '.', ':', '?', ' ', '\n', '  (draft)', ' — v2', '!!'];
    const starts = ['', ' ', '\n', '- ', '| a | b |\n', '```ts\n', '1. '];
    let checked = 0;
    for (let i = 0; i < 400; i++) {
      const heading = i % 5 === 0 ? null : `${sentence(random, 1 + (i % 6))}${endings[i % endings.length]}`;
      const text = `${starts[i % starts.length]}${paragraph(random)}`;
      const chunk = { heading, text, tokenCount: tokenizer.count(text) };
      const bound = embeddingInputTokens(chunk)!;
      const exact = tokenizer.count(embeddingInput(chunk));
      expect({ i, ok: bound >= exact && bound - exact <= 3 }).toEqual({ i, ok: true });
      checked++;
    }
    expect(checked).toBe(400);
  });

  it('gives no bound when the count cannot be the text’s (the provider then counts itself)', () => {
    expect(embeddingInputTokens({ heading: null, text: 'x'.repeat(10_000), tokenCount: 10 })).toBeUndefined();
    expect(embeddingInputTokens({ heading: 'H', text: 'some text', tokenCount: 0 })).toBeUndefined();
  });
});
