import { Module } from '@nestjs/common';
import { MulterModule } from '@nestjs/platform-express';
import { SERVICE_CONFIG, ServiceCoreModule } from '@rag/common';
import { EmbeddingModule } from '@rag/embedding';
import { DocumentSubmitter } from './documents/document-submitter';
import { DocumentsController } from './documents/documents.controller';
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
  providers: [DocumentSubmitter, documentRegistryProvider, RegistryIndexInitializer, StatusWatcher, SearchService],
})
export class GatewayModule {}
