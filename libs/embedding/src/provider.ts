/** Result for one input: its vector, or why that input (alone) failed. */
export type EmbeddingResult = number[] | Error;

export interface EmbeddingProvider {
  /** Stable name of provider and model, carried on every EmbeddedChunk (e.g. `hashing-v1`). */
  readonly model: string;
  readonly dimensions: number;
  /**
   * Embeds many texts with as few requests as the provider allows. Returns one result per
   * input, in order; an input the provider rejects fails alone. Throws when nothing could
   * be embedded for a reason that applies to all inputs (provider down, rate limited).
   * `tokenCounts[i]`, when given, is an upper bound of the tokens of `texts[i]`.
   */
  embed(texts: string[], tokenCounts?: readonly (number | undefined)[]): Promise<EmbeddingResult[]>;
  /**
   * Whether the provider counts tokens (to respect per-input and per-request limits); callers
   * that already know an input's count (an upper bound) pass it in `tokenCounts` to save the work.
   */
  readonly countsTokens?: boolean;
}
