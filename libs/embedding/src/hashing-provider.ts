import { fnv1a32 } from './fnv';
import type { EmbeddingProvider, EmbeddingResult } from './provider';

export interface HashingOptions {
  dimensions: number;
  /** Character n-gram sizes taken inside words (with boundary marks), for morphology and typos. */
  charNgrams?: number[];
}

const WORD = /[\p{L}\p{N}]+/gu;
/** Weight of a word bigram relative to a word, inside the word block. */
const BIGRAM_WEIGHT = 0.3;
/** Weight of the (unit-length) character n-gram block relative to the (unit-length) word block. */
const CHAR_BLOCK_WEIGHT = 0.5;
const SIGN_BIT = 1 << 31;

/**
 * Offline embeddings by signed feature hashing (the "hashing trick"). Two blocks of features
 * are hashed into the same `dimensions` buckets with a hash-derived sign: words and word
 * bigrams (exact vocabulary), and character 3/4-grams inside words (morphology, typos). Each
 * block is normalised on its own and the char block is weighted down, so word pieces add
 * tolerance without drowning exact matches; features count once (presence, not frequency),
 * so the rare words that make a long chunk findable are not drowned by its filler words
 * (a stateless embedder has no corpus-wide IDF). The sum is L2-normalised.
 * Deterministic, no network, no weights; lexically similar texts are close. No synonyms.
 */
export class HashingEmbeddingProvider implements EmbeddingProvider {
  readonly model = 'hashing-v2';
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
    const wordFeatures = new Map<string, number>();
    const charFeatures = new Set<string>();
    const words = text.normalize('NFKC').toLowerCase().match(WORD) ?? [];
    for (let i = 0; i < words.length; i++) {
      const word = words[i];
      wordFeatures.set(`w:${word}`, 1);
      if (i > 0) wordFeatures.set(`b:${words[i - 1]} ${word}`, BIGRAM_WEIGHT);
      const marked = `<${word}>`;
      for (const n of this.charNgrams) {
        for (let j = 0; j + n <= marked.length; j++) charFeatures.add(`c:${marked.slice(j, j + n)}`);
      }
    }
    const wordBlock = l2normalise(this.hash(wordFeatures));
    const charBlock = l2normalise(this.hash(new Map([...charFeatures].map((f) => [f, 1]))));
    return l2normalise(wordBlock.map((v, i) => v + CHAR_BLOCK_WEIGHT * charBlock[i]));
  }

  private hash(features: Map<string, number>): number[] {
    const vector = new Array<number>(this.dimensions).fill(0);
    for (const [feature, weight] of features) {
      const hash = fnv1a32(feature);
      const bucket = (hash & 0x7fffffff) % this.dimensions;
      vector[bucket] += hash & SIGN_BIT ? -weight : weight;
    }
    return vector;
  }
}

export function l2normalise(vector: number[]): number[] {
  let norm = 0;
  for (const v of vector) norm += v * v;
  norm = Math.sqrt(norm);
  if (norm === 0) return vector;
  return vector.map((v) => v / norm);
}
