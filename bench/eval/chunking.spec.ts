import { chunkerConfigSchema, splitLimits } from '../../services/chunker/src/chunker.config';
import { splitDocument } from '../../services/chunker/src/chunk-document';
import { RecursiveTokenSplitter } from '../../services/chunker/src/text-splitter';
import { generateCorpus } from '../corpus';
import { generateEvalCorpus } from './eval-corpus';
import { meanReciprocalRank, recallAt, topK } from './retrieval-metrics';

describe('chunk counts on the benchmark corpus (the default bench settings)', () => {
  const config = chunkerConfigSchema.parse({});
  const splitter = new RecursiveTokenSplitter({ chunkSize: config.CHUNK_SIZE_TOKENS, chunkOverlap: config.CHUNK_OVERLAP_TOKENS });
  const corpus = generateCorpus({ documents: 300, minBytes: 2_000, maxBytes: 20_000, seed: 42 });

  const chunksOf = async (mergeSections: boolean) => {
    const pieces = await Promise.all(
      corpus.map((doc) => splitDocument(doc.contentType, doc.content, splitter, { ...splitLimits(config), mergeSections })),
    );
    return pieces.flat();
  };

  it('merging small sections makes at least 20 % fewer chunks, none above the chunk size', async () => {
    const [before, after] = [await chunksOf(false), await chunksOf(true)];
    console.log(
      `bench corpus, 300 documents: ${(before.length / 300).toFixed(2)} → ${(after.length / 300).toFixed(2)} chunks per document`,
    );
    expect(after.length).toBeLessThanOrEqual(0.8 * before.length);
    for (const chunk of after) expect(chunk.tokens).toBeLessThanOrEqual(config.CHUNK_SIZE_TOKENS);
  });
});

describe('retrieval metrics', () => {
  it('recall@k and MRR from first-relevant ranks', () => {
    const ranks = [1, 3, undefined, 2];
    expect(recallAt(ranks, 1)).toBe(0.25);
    expect(recallAt(ranks, 5)).toBe(0.75);
    expect(meanReciprocalRank(ranks)).toBeCloseTo((1 + 1 / 3 + 0 + 1 / 2) / 4);
  });

  it('topK ranks by cosine of normalised vectors', () => {
    expect(
      topK(
        [1, 0],
        [
          [0, 1],
          [0.8, 0.6],
          [1, 0],
        ],
        2,
      ),
    ).toEqual([2, 1]);
  });

  it('every labelled answer is in its document, once', () => {
    const corpus = generateEvalCorpus(20, 7);
    expect(corpus.queries.length).toBeGreaterThan(40);
    for (const q of corpus.queries) {
      const doc = corpus.documents.find((d) => d.documentId === q.documentId)!;
      expect(doc.markdown.split(q.answer)).toHaveLength(2);
      expect(doc.markdown).toContain(`## ${q.section}`);
    }
  });
});
