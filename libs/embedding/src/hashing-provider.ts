import { fnv1a32 } from './fnv';
import type { EmbeddingProvider, EmbeddingResult } from './provider';

export interface HashingOptions {
  dimensions: number;
  /** Character n-gram sizes taken inside words (with boundary marks), for morphology and typos. */
  charNgrams?: number[];
}

const WORD = /[\p{L}\p{N}]+/gu;
const WEIGHTS = { word: 1, bigram: 0.7, char: 0.35 };
const SIGN_BIT = 1 << 31;

/**
 * Offline embeddings by signed feature hashing (the "hashing trick"): word unigrams, word
 * bigrams and character n-grams are hashed into `dimensions` buckets with a hash-derived sign,
 * counts are damped (1 + log tf) and the vector is L2-normalised. Deterministic, needs no
 * network and no weights, and texts that share words and word pieces get high cosine
 * similarity, so lexical search over the vectors is meaningful. It does not know synonyms.
 */
export class HashingEmbeddingProvider implements EmbeddingProvider {
  readonly model = 'hashing-v1';
  readonly dimensions: number;
  private readonly charNgrams: number[];

  constructor(options: HashingOptions) {
    this.dimensions = options.dimensions;
    this.charNgrams = options.charNgrams ?? [3, 4];
  }

  async embed(texts: string[]): Promise<EmbeddingResult[]> {
    return texts.map((t) => this.embedOne(t));
  }

  embedOne(text: string): number[] {
    const counts = new Map<string, { weight: number; count: number }>();
    const add = (feature: string, weight: number) => {
      const seen = counts.get(feature);
      if (seen) seen.count += 1;
      else counts.set(feature, { weight, count: 1 });
    };
    const words = text.normalize('NFKC').toLowerCase().match(WORD) ?? [];
    for (let i = 0; i < words.length; i++) {
      const word = words[i];
      add(`w:${word}`, WEIGHTS.word);
      if (i > 0) add(`b:${words[i - 1]} ${word}`, WEIGHTS.bigram);
      const marked = `<${word}>`;
      for (const n of this.charNgrams) {
        for (let j = 0; j + n <= marked.length; j++) add(`c:${marked.slice(j, j + n)}`, WEIGHTS.char);
      }
    }
    const vector = new Array<number>(this.dimensions).fill(0);
    for (const [feature, { weight, count }] of counts) {
      const hash = fnv1a32(feature);
      const bucket = (hash & 0x7fffffff) % this.dimensions;
      const sign = hash & SIGN_BIT ? -1 : 1;
      vector[bucket] += sign * weight * (1 + Math.log(count));
    }
    return l2normalise(vector);
  }
}

export function l2normalise(vector: number[]): number[] {
  let norm = 0;
  for (const v of vector) norm += v * v;
  norm = Math.sqrt(norm);
  if (norm === 0) return vector;
  return vector.map((v) => v / norm);
}
