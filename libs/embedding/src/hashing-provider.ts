import { fnv1a32, fnv1aUpdate } from './fnv';
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
/** FNV states after the feature-kind prefixes, so keys are hashed without building strings. */
const WORD_PREFIX = fnv1aUpdate('w:');
const BIGRAM_PREFIX = fnv1aUpdate('b:');
const CHAR_PREFIX = fnv1aUpdate('c:');
/** Above any count of distinct words in one input, so (previous, next) ids pack into one number. */
const BIGRAM_KEY_BASE = 2 ** 26;

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
    const words = text.normalize('NFKC').toLowerCase().match(WORD) ?? [];
    const wordBlock = new Float64Array(this.dimensions);
    const charBlock = new Float64Array(this.dimensions);
    // Each feature is added once, when first seen (presence, not frequency), in text order.
    const wordIds = new Map<string, number>();
    const bigrams = new Set<number>();
    const grams = new Set<string>();
    let previousId = -1;
    let previous = '';
    for (const word of words) {
      let id = wordIds.get(word);
      const firstSeen = id === undefined;
      if (id === undefined) {
        id = wordIds.size;
        wordIds.set(word, id);
        this.add(wordBlock, fnv1a32(word, WORD_PREFIX), 1);
      }
      // Word ids are dense, so the pair is one exact number key.
      if (previousId >= 0 && !bigrams.has(previousId * BIGRAM_KEY_BASE + id)) {
        bigrams.add(previousId * BIGRAM_KEY_BASE + id);
        this.add(wordBlock, fnv1a32(word, fnv1aUpdate(' ', fnv1aUpdate(previous, BIGRAM_PREFIX))), BIGRAM_WEIGHT);
      }
      if (firstSeen) this.addCharNgrams(charBlock, word, grams); // a repeated word has no new n-grams
      previousId = id;
      previous = word;
    }
    l2normaliseInPlace(wordBlock);
    l2normaliseInPlace(charBlock);
    const combined = new Array<number>(this.dimensions);
    for (let i = 0; i < this.dimensions; i++) combined[i] = wordBlock[i] + CHAR_BLOCK_WEIGHT * charBlock[i];
    return l2normalise(combined);
  }

  private addCharNgrams(block: Float64Array, word: string, seen: Set<string>): void {
    const marked = `<${word}>`;
    for (const n of this.charNgrams) {
      for (let j = 0; j + n <= marked.length; j++) {
        const gram = marked.slice(j, j + n);
        if (seen.has(gram)) continue;
        seen.add(gram);
        this.add(block, fnv1a32(gram, CHAR_PREFIX), 1);
      }
    }
  }

  /** Signed feature hashing: the hash picks the bucket and, by its top bit, the sign. */
  private add(block: Float64Array, hash: number, weight: number): void {
    const bucket = (hash & 0x7fffffff) % this.dimensions;
    block[bucket] += hash & SIGN_BIT ? -weight : weight;
  }
}

function l2normaliseInPlace(vector: Float64Array): void {
  let norm = 0;
  for (const v of vector) norm += v * v;
  norm = Math.sqrt(norm);
  if (norm === 0) return;
  for (let i = 0; i < vector.length; i++) vector[i] /= norm;
}

export function l2normalise(vector: number[]): number[] {
  let norm = 0;
  for (const v of vector) norm += v * v;
  norm = Math.sqrt(norm);
  if (norm === 0) return vector;
  return vector.map((v) => v / norm);
}
