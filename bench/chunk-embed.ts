import type { DocumentSubmitted, EmbeddedChunk } from '@rag/contracts';
import { embeddingInput, HashingEmbeddingProvider, type EmbeddingProvider } from '@rag/embedding';
import { chunkDocument } from '../services/chunker/src/chunk-document';
import { chunkerConfigSchema, splitLimits } from '../services/chunker/src/chunker.config';
import type { SplitLimits } from '../services/chunker/src/chunk-document';
import { RecursiveTokenSplitter } from '../services/chunker/src/text-splitter';

/** The vector size of every run (the services' default). */
export const DIMENSIONS = 384;

/**
 * extract → split → embed with exactly the code (and default settings) of the chunker and
 * the embedder, in-process: what the baseline worker runs and what the ES ceiling indexes.
 */
export class ChunkEmbed {
  private readonly splitter: RecursiveTokenSplitter;
  private readonly limits: SplitLimits;
  readonly provider: EmbeddingProvider;

  /** The hashing provider unless another is given (the baseline against the OpenAI-API test server). */
  constructor(dimensions: number, provider?: EmbeddingProvider) {
    const config = chunkerConfigSchema.parse({});
    this.splitter = new RecursiveTokenSplitter({ chunkSize: config.CHUNK_SIZE_TOKENS, chunkOverlap: config.CHUNK_OVERLAP_TOKENS });
    this.limits = splitLimits(config);
    this.provider = provider ?? new HashingEmbeddingProvider({ dimensions });
  }

  async run(doc: DocumentSubmitted): Promise<EmbeddedChunk[]> {
    const chunks = await chunkDocument(doc, this.splitter, this.limits);
    const vectors = await this.provider.embed(chunks.map(embeddingInput));
    return chunks.map((chunk, i) => {
      const embedding = vectors[i];
      if (embedding instanceof Error) throw embedding;
      return { ...chunk, embedding, model: this.provider.model };
    });
  }
}
