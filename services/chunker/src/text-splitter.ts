import { tokenizer } from '@rag/embedding/tokenizer';

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

/** The part of a section a splitter works on (see formats/section.ts). */
export interface SplitSection {
  heading: string | null;
  text: string;
  page?: number;
  slide?: number;
  sheet?: string;
}

/** A chunk's text with the sections it was cut from. */
export interface SectionPiece extends TextPiece {
  /** Heading path of the chunk's first section. */
  heading: string | null;
  /** Heading paths of the further sections merged in. */
  headings: string[];
  pageStart: number | null;
  pageEnd: number | null;
  slideStart: number | null;
  slideEnd: number | null;
  sheet: string | null;
}

/** An atom: a piece of one section that is never cut further. */
interface Atom extends TextPiece {
  section: number;
  /** The first atom of its section: merged after another section, it is preceded by the heading's title. */
  opensSection: boolean;
}

/**
 * Boundaries tried in order: paragraph, line, sentence, word; then a hard cut by tokens.
 * Zero-width (lookbehind) so no character is dropped: the space after a sentence stays with it.
 */
const SEPARATORS: RegExp[] = [/(?<=\n\n)/, /(?<=\n)/, /(?<=[.!?;:]\s|[。！？])/, /(?<=\s)/];
const LINE_LEVEL = 1;
const WORD_BOUNDARY = SEPARATORS[3];
/** A Markdown code fence, opening line to closing line (or to the end of the text). */
const CODE_FENCE = /^[ \t]*(```|~~~)[^\n]*\n[\s\S]*?(?:^[ \t]*\1[ \t]*(?:\n|$)|(?![\s\S]))/gm;

/**
 * Recursive splitting measured in tokens: a text that fits is one chunk; one that does not is
 * cut at the coarsest boundary that exists in it (paragraph, line, sentence, word) and the
 * pieces are merged back greedily up to `chunkSize`, each chunk starting with up to
 * `chunkOverlap` tokens of the previous one's tail. A code fence that fits is never cut; one
 * that does not is cut at lines only, like a table (one row per line).
 *
 * With `mergeSections`, consecutive small sections share a chunk (a chunk then carries the first
 * section's heading and the further ones' headings, and their titles stay in its text); without
 * it, every section starts a chunk. Sheets never share a chunk.
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
    return this.splitSections([{ heading: null, text }], false).map(({ text, tokens }) => ({ text, tokens }));
  }

  splitSections(sections: SplitSection[], mergeSections: boolean): SectionPiece[] {
    const atoms = sections.flatMap((section, index) =>
      this.blocks(section.text).map((piece, i) => ({ ...piece, section: index, opensSection: i === 0 })),
    );
    return this.merge(atoms, sections, mergeSections);
  }

  /** Pieces no larger than chunkSize; code fences are kept whole when they fit. */
  private blocks(text: string): TextPiece[] {
    // Runs of atoms, flattened at the end: spreading one into push() overflows the stack once a
    // text has a few hundred thousand sentences.
    const runs: TextPiece[][] = [];
    let position = 0;
    for (const fence of text.matchAll(CODE_FENCE)) {
      if (fence.index > position) runs.push(this.atoms(text.slice(position, fence.index), 0));
      runs.push(this.atoms(fence[0], LINE_LEVEL, true));
      position = fence.index + fence[0].length;
    }
    if (position < text.length) runs.push(this.atoms(text.slice(position), 0));
    return runs.flat();
  }

  /** Pieces no larger than chunkSize, cut at the coarsest boundary available from `level` on. */
  private atoms(text: string, level: number, whole = false): TextPiece[] {
    // Most of a long section is never encoded here: counting stops past the chunk size.
    const tokens = tokenizer.countWithin(text, this.options.chunkSize);
    if (tokens !== undefined) return whole || text.trim() ? [{ text, tokens }] : [];
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

  private merge(atoms: Atom[], sections: SplitSection[], mergeSections: boolean): SectionPiece[] {
    const { chunkSize, chunkOverlap } = this.options;
    const chunks: SectionPiece[] = [];
    const titleTokens = new Map<number, number>();
    /** What an atom adds to a window: its tokens, plus its section's title when it opens a section mid-chunk. */
    const cost = (atom: Atom, window: Atom[]) => {
      if (!atom.opensSection || window.length === 0) return atom.tokens;
      if (!titleTokens.has(atom.section)) titleTokens.set(atom.section, this.count(`\n\n${sectionTitle(sections[atom.section])}\n`));
      return atom.tokens + titleTokens.get(atom.section)!;
    };
    let window: Atom[] = [];
    let windowTokens = 0;
    for (const atom of atoms) {
      const last = window.at(-1);
      const boundary =
        last !== undefined &&
        last.section !== atom.section &&
        (!mergeSections || sections[last.section].sheet !== sections[atom.section].sheet);
      if (last && (boundary || windowTokens + cost(atom, window) > chunkSize)) {
        const piece = this.piece(window, sections);
        if (piece) chunks.push(piece);
        // Overlap carries context within a section; a new section brings its own title instead.
        const tail = last.section === atom.section ? this.tail(window, Math.min(chunkOverlap, chunkSize - atom.tokens)) : [];
        window = tail.map((p) => ({ ...p, section: atom.section, opensSection: false }));
        windowTokens = window.reduce((sum, p) => sum + p.tokens, 0);
      }
      windowTokens += cost(atom, window);
      window.push(atom);
    }
    const piece = window.length > 0 ? this.piece(window, sections) : undefined;
    if (piece) chunks.push(piece);
    return chunks;
  }

  /** A window of atoms as a chunk: text (section titles between sections), headings and location. */
  private piece(window: Atom[], sections: SplitSection[]): SectionPiece | undefined {
    let text = '';
    for (const [i, atom] of window.entries()) {
      if (i > 0 && atom.section !== window[i - 1].section) {
        text =
          text.trimEnd() +
          '\n\n' +
          (atom.opensSection && sectionTitle(sections[atom.section]) ? `${sectionTitle(sections[atom.section])}\n` : '');
      }
      text += atom.text;
    }
    text = text.trim();
    if (!text) return undefined;
    const parts = [...new Set(window.map((a) => a.section))].map((i) => sections[i]);
    const headings = [...new Set(parts.slice(1).map((s) => s.heading))].filter((h): h is string => h !== null && h !== parts[0].heading);
    return {
      text,
      tokens: this.count(text),
      heading: parts[0].heading,
      headings,
      ...range(
        parts.map((s) => s.page),
        'page',
      ),
      ...range(
        parts.map((s) => s.slide),
        'slide',
      ),
      sheet: parts[0].sheet ?? null,
    };
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

/** The last part of a section's heading path ("Guide > Install" → "Install"), or empty. */
function sectionTitle(section: SplitSection): string {
  return section.heading?.split(' > ').at(-1) ?? '';
}

function range<K extends 'page' | 'slide'>(values: (number | undefined)[], kind: K) {
  const known = values.filter((v): v is number => v !== undefined);
  const [start, end] = known.length > 0 ? [Math.min(...known), Math.max(...known)] : [null, null];
  return { [`${kind}Start`]: start, [`${kind}End`]: end } as Record<`${K}Start` | `${K}End`, number | null>;
}
