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
   */
  embed(texts: string[]): Promise<EmbeddingResult[]>;
}
