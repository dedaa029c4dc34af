import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { MulterModule } from '@nestjs/platform-express';
import { kafkaSecurity, ROOT_LOGGER, SERVICE_CONFIG, ServiceCoreModule } from '@rag/common';
import type { Logger } from 'pino';
import { EmbeddingModule } from '@rag/embedding';
import { AdminController } from './admin/admin.controller';
import { authProviders } from './auth/auth.providers';
import { adminProviders } from './admin/admin.providers';
import { DocumentSubmitter } from './documents/document-submitter';
import { DocumentsController } from './documents/documents.controller';
import { FENCED_PRODUCER_FACTORY, fencedProducerFactory } from './documents/fenced-producer';
import { ApiErrorFilter } from './errors/api-error.filter';
import { gatewayConfigSchema, type GatewayConfig } from './gateway.config';
import { SearchController } from './search/search.controller';
import { SearchService } from './search/search.service';
import { documentRegistryProvider, RegistryIndexInitializer } from './status/registry.provider';
import { StatusWatcher } from './status/status-watcher';

@Module({
  imports: [
    ServiceCoreModule.forRoot({
      service: 'gateway',
      configSchema: gatewayConfigSchema,
      readiness: ['kafka', 'registry', 'elasticsearch'],
    }),
    EmbeddingModule,
    MulterModule.registerAsync({
      inject: [SERVICE_CONFIG],
      useFactory: (cfg: GatewayConfig) => ({
        limits: { fileSize: Math.max(cfg.MAX_DOCUMENT_BYTES, cfg.MAX_BINARY_DOCUMENT_BYTES), files: 1, fields: 20 },
      }),
    }),
  ],
  controllers: [DocumentsController, SearchController, AdminController],
  providers: [
    DocumentSubmitter,
    documentRegistryProvider,
    RegistryIndexInitializer,
    StatusWatcher,
    SearchService,
    ...adminProviders,
    ...authProviders,
    { provide: APP_FILTER, useClass: ApiErrorFilter },
    {
      provide: FENCED_PRODUCER_FACTORY,
      inject: [SERVICE_CONFIG, ROOT_LOGGER],
      useFactory: (cfg: GatewayConfig, logger: Logger) =>
        fencedProducerFactory({
          brokers: cfg.KAFKA_BROKERS,
          clientId: cfg.KAFKA_CLIENT_ID ?? 'gateway',
          logger,
          security: kafkaSecurity(cfg),
        }),
    },
  ],
})
export class GatewayModule {}
