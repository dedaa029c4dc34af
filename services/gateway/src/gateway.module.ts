import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { MulterModule } from '@nestjs/platform-express';
import { SERVICE_CONFIG, ServiceCoreModule } from '@rag/common';
import { EmbeddingModule } from '@rag/embedding';
import { DocumentSubmitter } from './documents/document-submitter';
import { DocumentsController } from './documents/documents.controller';
import { KafkaUnavailableFilter } from './documents/kafka-unavailable.filter';
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
      useFactory: (cfg: GatewayConfig) => ({ limits: { fileSize: cfg.MAX_DOCUMENT_BYTES, files: 1, fields: 20 } }),
    }),
  ],
  controllers: [DocumentsController, SearchController],
  providers: [
    DocumentSubmitter,
    documentRegistryProvider,
    RegistryIndexInitializer,
    StatusWatcher,
    SearchService,
    { provide: APP_FILTER, useClass: KafkaUnavailableFilter },
  ],
})
export class GatewayModule {}
