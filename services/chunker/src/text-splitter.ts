import { tokenizer } from '@rag/embedding';

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

/**
 * Boundaries tried in order: paragraph, line, sentence, word; then a hard cut by tokens.
 * Zero-width (lookbehind) so no character is dropped: the space after a sentence stays with it.
 */
const SEPARATORS: RegExp[] = [/(?<=\n\n)/, /(?<=\n)/, /(?<=[.!?;:]\s|[。！？])/, /(?<=\s)/];
const WORD_BOUNDARY = SEPARATORS[3];

/**
 * Recursive splitting measured in tokens: a text that fits is one chunk; one that does not is
 * cut at the coarsest boundary that exists in it (paragraph, line, sentence, word) and the
 * pieces are merged back greedily up to `chunkSize`, each chunk starting with up to
 * `chunkOverlap` tokens of the previous one's tail.
 */
export class RecursiveTokenSplitter {
  constructor(private readonly options: SplitterOptions) {
    if (options.chunkOverlap >= options.chunkSize) throw new Error('chunk overlap must be smaller than chunk size');
  }

  /** Tokens as the embedding model counts them (cl100k_base). */
  count(text: string): number {
    return tokenizer.count(text);
  }

  split(text: string): TextPiece[] {
    const pieces = this.atoms(text, 0);
    return this.merge(pieces);
  }

  /** Pieces no larger than chunkSize, cut at the coarsest boundary available. */
  private atoms(text: string, level: number): TextPiece[] {
    // Most of a long section is never encoded here: counting stops past the chunk size.
    const tokens = tokenizer.countWithin(text, this.options.chunkSize);
    if (tokens !== undefined) return [{ text, tokens }];
    if (level >= SEPARATORS.length) return this.hardCut(text);
    const parts = text.split(SEPARATORS[level]).filter((p) => p.length > 0);
    if (parts.length <= 1) return this.atoms(text, level + 1);
    return parts.flatMap((part) => this.atoms(part, level + 1));
  }

  private hardCut(text: string): TextPiece[] {
    const ids = tokenizer.encode(text);
    const out: TextPiece[] = [];
    let position = 0;
    for (let i = 0; i < ids.length;) {
      let end = Math.min(i + this.options.chunkSize, ids.length);
      let piece = tokenizer.decode(ids.slice(i, end));
      // A token boundary can fall inside a multi-byte character (decoded as U+FFFD): end before it.
      // Re-encoding a slice can merge differently (more tokens than the slice): shrink until it fits.
      while (end > i + 1 && (!text.startsWith(piece, position) || this.count(piece) > this.options.chunkSize)) {
        end -= 1;
        piece = tokenizer.decode(ids.slice(i, end));
      }
      out.push({ text: piece, tokens: this.count(piece) });
      position += piece.length;
      i = end;
    }
    return out;
  }

  private merge(pieces: TextPiece[]): TextPiece[] {
    const { chunkSize, chunkOverlap } = this.options;
    const chunks: TextPiece[] = [];
    let window: TextPiece[] = [];
    let windowTokens = 0;
    const emit = () => {
      const text = window
        .map((p) => p.text)
        .join('')
        .trim();
      if (text) chunks.push({ text, tokens: this.count(text) });
    };
    for (const piece of pieces) {
      if (windowTokens + piece.tokens > chunkSize && window.length > 0) {
        emit();
        // Keep the tail of the window as overlap, as long as the new piece still fits.
        window = this.tail(window, Math.min(chunkOverlap, chunkSize - piece.tokens));
        windowTokens = window.reduce((sum, p) => sum + p.tokens, 0);
      }
      window.push(piece);
      windowTokens += piece.tokens;
    }
    if (window.length > 0) emit();
    return chunks;
  }

  /**
   * The last pieces worth at most `budget` tokens. A piece too big to be kept whole gives its
   * last words, so chunks overlap even when the pieces (paragraphs, sentences) exceed the budget.
   */
  private tail(pieces: TextPiece[], budget: number): TextPiece[] {
    const kept: TextPiece[] = [];
    for (let i = pieces.length - 1; i >= 0 && budget > 0; i--) {
      if (pieces[i].tokens <= budget) {
        kept.unshift(pieces[i]);
        budget -= pieces[i].tokens;
        continue;
      }
      const words = pieces[i].text.split(WORD_BOUNDARY);
      for (let j = words.length - 1; j >= 0; j--) {
        const tokens = this.count(words[j]);
        if (tokens > budget) break;
        kept.unshift({ text: words[j], tokens });
        budget -= tokens;
      }
      break;
    }
    return kept;
  }
}
