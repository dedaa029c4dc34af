import { Global, Module } from '@nestjs/common';
import { METRICS_REGISTRY, SERVICE_CONFIG } from '@rag/common';
import type { Registry } from 'prom-client';
import { createEmbeddingProvider } from './create-provider';
import type { EmbeddingConfig } from './embedding.config';
import { EmbeddingMetrics } from './embedding-metrics';

export const EMBEDDING_PROVIDER = Symbol('EMBEDDING_PROVIDER');

/** Provides the configured EmbeddingProvider (EMBEDDING_PROVIDER=hashing|openai). */
@Global()
@Module({
  providers: [
    {
      provide: EMBEDDING_PROVIDER,
      inject: [SERVICE_CONFIG, METRICS_REGISTRY],
      useFactory: (cfg: EmbeddingConfig, registry: Registry) => createEmbeddingProvider(cfg, new EmbeddingMetrics(registry)),
    },
  ],
  exports: [EMBEDDING_PROVIDER],
})
export class EmbeddingModule {}
