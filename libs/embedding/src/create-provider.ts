import type { EmbeddingConfig } from './embedding.config';
import type { EmbeddingMetrics } from './embedding-metrics';
import { HashingEmbeddingProvider } from './hashing-provider';
import { OpenAIEmbeddingProvider } from './openai-provider';
import type { EmbeddingProvider } from './provider';

export function createEmbeddingProvider(cfg: EmbeddingConfig, metrics?: EmbeddingMetrics): EmbeddingProvider {
  if (cfg.EMBEDDING_PROVIDER === 'openai') {
    if (!cfg.OPENAI_API_KEY) throw new Error('EMBEDDING_PROVIDER=openai needs OPENAI_API_KEY');
    return new OpenAIEmbeddingProvider({
      apiKey: cfg.OPENAI_API_KEY,
      baseURL: cfg.OPENAI_BASE_URL,
      model: cfg.OPENAI_EMBEDDING_MODEL,
      dimensions: cfg.EMBEDDING_DIMENSIONS,
      maxInputsPerRequest: cfg.OPENAI_MAX_INPUTS_PER_REQUEST,
      maxTokensPerRequest: cfg.OPENAI_MAX_TOKENS_PER_REQUEST,
      timeoutMs: cfg.OPENAI_TIMEOUT_MS,
      maxRetries: cfg.OPENAI_MAX_RETRIES,
      concurrency: cfg.OPENAI_CONCURRENCY,
      rateLimit: cfg.OPENAI_RATE_LIMIT === 'adaptive' ? { headroom: cfg.OPENAI_RATE_LIMIT_HEADROOM } : false,
      metrics,
    });
  }
  return new HashingEmbeddingProvider({ dimensions: cfg.EMBEDDING_DIMENSIONS });
}
