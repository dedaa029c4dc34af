import { HashingEmbeddingProvider, l2normalise } from './hashing-provider';

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
  return dot; // both unit vectors
}

function norm(v: number[]): number {
  return Math.sqrt(v.reduce((s, x) => s + x * x, 0));
}

const provider = new HashingEmbeddingProvider({ dimensions: 384 });

describe('HashingEmbeddingProvider', () => {
  it('is deterministic: the same text gives the identical vector, across instances too', async () => {
    const text = 'Kafka consumer groups rebalance when a member joins or leaves.';
    const [a] = await provider.embed([text]);
    const [b] = await new HashingEmbeddingProvider({ dimensions: 384 }).embed([text]);
    expect(a).toEqual(b);
    expect(provider.embedOne(text)).toEqual(a);
  });

  it('returns one vector per input, in order', async () => {
    const texts = ['alpha beta', 'gamma delta', 'alpha beta'];
    const results = await provider.embed(texts);
    expect(results).toHaveLength(3);
    expect(results[0]).toEqual(results[2]);
    expect(results[0]).not.toEqual(results[1]);
  });

  it.each([8, 64, 384, 1536])('produces exactly %i dimensions with L2 norm 1', (dimensions) => {
    const p = new HashingEmbeddingProvider({ dimensions });
    expect(p.dimensions).toBe(dimensions);
    for (const text of ['a', 'Elasticsearch stores dense vectors for approximate kNN search.', 'ÜBER naïve café — 東京 2024']) {
      const v = p.embedOne(text);
      expect(v).toHaveLength(dimensions);
      expect(Math.abs(norm(v) - 1)).toBeLessThan(1e-9);
      expect(v.every(Number.isFinite)).toBe(true);
    }
  });

  it('gives an all-zero vector without NaN for empty or wordless text', () => {
    for (const text of ['', '   ', '!!! ---']) {
      const v = provider.embedOne(text);
      expect(v).toHaveLength(384);
      expect(v.every((x) => x === 0)).toBe(true);
    }
  });

  it('is case and Unicode-normalisation insensitive', () => {
    expect(provider.embedOne('Retry Topic')).toEqual(provider.embedOne('retry topic'));
    expect(provider.embedOne('cafe\u0301')).not.toEqual(provider.embedOne('tea'));
    expect(provider.embedOne('ﬁle')).toEqual(provider.embedOne('file')); // NFKC folds the ligature
  });

  it('scores lexically similar sentences above unrelated ones', () => {
    const cases: Array<{ anchor: string; similar: string; unrelated: string }> = [
      {
        anchor: 'The embedder retries requests that fail with HTTP 429 after the Retry-After delay.',
        similar: 'Requests failing with HTTP 429 are retried by the embedder once the Retry-After delay has passed.',
        unrelated: 'Fresh basil and ripe tomatoes make a simple summer salad.',
      },
      {
        anchor: 'Elasticsearch indexes dense vectors with HNSW for approximate nearest neighbour search.',
        similar: 'Approximate nearest neighbour search in Elasticsearch uses HNSW over dense vectors.',
        unrelated: 'The marathon route follows the river before climbing into the old town.',
      },
      {
        anchor: 'A record that cannot be decoded goes straight to the dead letter queue.',
        similar: 'Records that cannot be decoded are sent to the dead letter queue at once.',
        unrelated: 'Our quarterly revenue grew thanks to strong demand in Asia.',
      },
      {
        // Morphology: shared word pieces, few identical words.
        anchor: 'tokenization of multilingual documents',
        similar: 'tokenizing a multilingual document',
        unrelated: 'painting a wooden garden fence',
      },
    ];
    for (const { anchor, similar, unrelated } of cases) {
      const a = provider.embedOne(anchor);
      const close = cosine(a, provider.embedOne(similar));
      const far = cosine(a, provider.embedOne(unrelated));
      expect(close).toBeGreaterThan(far + 0.2);
      expect(close).toBeGreaterThan(0.3);
    }
  });

  it('finds the paragraph a distinctive phrase comes from, by brute-force cosine over 20 paragraphs', () => {
    const subjects = [
      'solar panels',
      'sourdough bread',
      'river otters',
      'jazz harmony',
      'glacier retreat',
      'chess openings',
      'bee colonies',
      'volcanic soil',
      'cargo shipping',
      'medieval castles',
      'coral reefs',
      'electric bicycles',
      'tea ceremonies',
      'desert lizards',
      'pipe organs',
      'wind turbines',
      'cheese caves',
      'origami cranes',
      'lighthouse keepers',
      'night trains',
    ];
    const filler = (i: number) =>
      `This paragraph is part of a longer report and the report covers many topics in some detail. ` +
      `Section ${i} was written by the same team and uses the same style as the other sections.`;
    const paragraphs = subjects.map(
      (subject, i) => `${filler(i)} It is about ${subject}, and in particular how ${subject} change over the seasons. ${filler(i + 100)}`,
    );
    const vectors = paragraphs.map((p) => provider.embedOne(p));
    subjects.forEach((subject, target) => {
      const query = provider.embedOne(`how ${subject} change`);
      const scores = vectors.map((v) => cosine(query, v));
      const best = scores.indexOf(Math.max(...scores));
      expect({ subject, best }).toEqual({ subject, best: target });
    });
  });

  it('uses the configured character n-gram sizes', () => {
    const words = new HashingEmbeddingProvider({ dimensions: 256, charNgrams: [] });
    const grams = new HashingEmbeddingProvider({ dimensions: 256 });
    // Without character n-grams, morphology alone (no shared word) gives no similarity.
    const a = 'tokenization',
      b = 'tokenizing',
      unrelated = 'fence';
    expect(Math.abs(cosine(words.embedOne(a), words.embedOne(b)))).toBeLessThan(0.2);
    // The char block is weighted down (exact words dominate), so morphology is a smaller but clear signal.
    const related = cosine(grams.embedOne(a), grams.embedOne(b));
    expect(related).toBeGreaterThan(0.08);
    expect(related).toBeGreaterThan(Math.abs(cosine(grams.embedOne(a), grams.embedOne(unrelated))) + 0.05);
  });
});

describe('l2normalise', () => {
  it('scales to unit length and leaves a zero vector alone', () => {
    expect(l2normalise([3, 4])).toEqual([0.6, 0.8]);
    expect(l2normalise([0, 0, 0])).toEqual([0, 0, 0]);
  });
});
