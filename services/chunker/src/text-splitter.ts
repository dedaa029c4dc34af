import { getEncoding, type Tiktoken } from 'js-tiktoken';

export interface SplitterOptions {
  /** Maximum tokens per chunk. */
  chunkSize: number;
  /** Tokens repeated from the end of a chunk at the start of the next, for context. */
  chunkOverlap: number;
}

export interface TextPiece {
  text: string;
  tokens: number;
}

/** Boundaries tried in order: paragraph, line, sentence, word; then a hard cut by tokens. */
const SEPARATORS: RegExp[] = [/(?<=\n\n)/, /(?<=\n)/, /(?<=[.!?;:。！？])\s+/, /(?<=\s)/];

let sharedEncoder: Tiktoken | undefined;

/** cl100k_base: the tokenizer of OpenAI's embedding models, so chunk sizes match what they bill. */
export function tokenizer(): Tiktoken {
  sharedEncoder ??= getEncoding('cl100k_base');
  return sharedEncoder;
}

/**
 * Recursive splitting measured in tokens: a text that fits is one chunk; one that does not is
 * cut at the coarsest boundary that exists in it (paragraph, line, sentence, word) and the
 * pieces are merged back greedily up to `chunkSize`, each chunk starting with up to
 * `chunkOverlap` tokens of the previous one's tail.
 */
export class RecursiveTokenSplitter {
  private readonly encoder = tokenizer();

  constructor(private readonly options: SplitterOptions) {
    if (options.chunkOverlap >= options.chunkSize) throw new Error('chunk overlap must be smaller than chunk size');
  }

  count(text: string): number {
    return this.encoder.encode(text).length;
  }

  split(text: string): TextPiece[] {
    const pieces = this.atoms(text, 0);
    return this.merge(pieces);
  }

  /** Pieces no larger than chunkSize, cut at the coarsest boundary available. */
  private atoms(text: string, level: number): TextPiece[] {
    const tokens = this.count(text);
    if (tokens <= this.options.chunkSize) return [{ text, tokens }];
    if (level >= SEPARATORS.length) return this.hardCut(text);
    const parts = text.split(SEPARATORS[level]).filter((p) => p.length > 0);
    if (parts.length <= 1) return this.atoms(text, level + 1);
    return parts.flatMap((part) => this.atoms(part, level + 1));
  }

  private hardCut(text: string): TextPiece[] {
    const ids = this.encoder.encode(text);
    const out: TextPiece[] = [];
    for (let i = 0; i < ids.length; i += this.options.chunkSize) {
      const slice = ids.slice(i, i + this.options.chunkSize);
      out.push({ text: this.encoder.decode(slice), tokens: slice.length });
    }
    return out;
  }

  private merge(pieces: TextPiece[]): TextPiece[] {
    const { chunkSize, chunkOverlap } = this.options;
    const chunks: TextPiece[] = [];
    let window: TextPiece[] = [];
    let windowTokens = 0;
    const emit = () => {
      const text = window.map((p) => p.text).join('').trim();
      if (text) chunks.push({ text, tokens: this.count(text) });
    };
    for (const piece of pieces) {
      if (windowTokens + piece.tokens > chunkSize && window.length > 0) {
        emit();
        // Keep the tail of the window as overlap, as long as the new piece still fits.
        while (window.length > 0 && (windowTokens > chunkOverlap || windowTokens + piece.tokens > chunkSize)) {
          windowTokens -= window[0].tokens;
          window.shift();
        }
      }
      window.push(piece);
      windowTokens += piece.tokens;
    }
    if (window.length > 0) emit();
    return chunks;
  }
}
