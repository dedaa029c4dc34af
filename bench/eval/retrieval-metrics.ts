/** Ranks (1-based) of the first relevant result per query; undefined = not in the results. */
export type FirstRelevantRanks = (number | undefined)[];

/** Share of queries whose first relevant result is within the top k. */
export function recallAt(ranks: FirstRelevantRanks, k: number): number {
  return ranks.filter((r) => r !== undefined && r <= k).length / ranks.length;
}

/** Mean reciprocal rank: 1/rank of the first relevant result, 0 when none was retrieved. */
export function meanReciprocalRank(ranks: FirstRelevantRanks): number {
  return ranks.reduce<number>((sum, r) => sum + (r === undefined ? 0 : 1 / r), 0) / ranks.length;
}

/** Indices of the `k` vectors most similar to `query` by dot product (vectors are L2-normalised: cosine). */
export function topK(query: number[], vectors: number[][], k: number): number[] {
  const scored = vectors.map((v, i) => {
    let dot = 0;
    for (let d = 0; d < v.length; d++) dot += v[d] * query[d];
    return { i, dot };
  });
  return scored
    .sort((a, b) => b.dot - a.dot)
    .slice(0, k)
    .map((s) => s.i);
}
