import { Module } from '@nestjs/common';
import { ServiceCoreModule } from '@rag/common';
import { StageRuntimeModule } from '@rag/stage-runtime';
import { indexerConfigSchema } from './indexer.config';
import { IndexerHandler } from './indexer.handler';
import { RegistryProjectorModule } from './registry/registry-projector.module';

@Module({
  imports: [
    ServiceCoreModule.forRoot({
      service: 'indexer',
      configSchema: indexerConfigSchema,
      readiness: ['kafka', 'registry', 'elasticsearch'],
    }),
    StageRuntimeModule.forStage('indexer', IndexerHandler),
    RegistryProjectorModule,
  ],
})
export class IndexerModule {}
