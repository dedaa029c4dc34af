import type { Client } from '@elastic/elasticsearch';
import { Module, type Provider } from '@nestjs/common';
import { ELASTICSEARCH, ROOT_LOGGER, SERVICE_CONFIG, ServiceCoreModule } from '@rag/common';
import { EmbeddingModule, IndexEmbeddingCache } from '@rag/embedding';
import { StageRuntimeModule } from '@rag/stage-runtime';
import type { Logger } from 'pino';
import { embedderConfigSchema, embeddingCacheEnabled, type EmbedderConfig } from './embedder.config';
import { EMBEDDING_CACHE, EmbedderHandler } from './embedder.handler';

const cacheEnabled = embeddingCacheEnabled(process.env);

const cacheProviders: Provider[] = cacheEnabled
  ? [
      {
        provide: EMBEDDING_CACHE,
        inject: [ELASTICSEARCH, SERVICE_CONFIG, ROOT_LOGGER],
        useFactory: (es: Client, cfg: EmbedderConfig, logger: Logger) =>
          new IndexEmbeddingCache(es, cfg.ES_INDEX_ALIAS, (err) =>
            logger.warn({ err }, 'embedding cache lookup failed; embedding instead'),
          ),
      },
    ]
  : [];

@Module({
  imports: [
    ServiceCoreModule.forRoot({
      service: 'embedder',
      configSchema: embedderConfigSchema,
      // The cache reads the chunk index; without it the embedder needs no Elasticsearch.
      readiness: cacheEnabled ? ['kafka', 'registry', 'elasticsearch'] : ['kafka', 'registry'],
    }),
    EmbeddingModule,
    StageRuntimeModule.forStage('embedder', EmbedderHandler, cacheProviders),
  ],
})
export class EmbedderModule {}
