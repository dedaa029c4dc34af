import { Module } from '@nestjs/common';
import { ServiceCoreModule } from '@rag/common';
import { EmbeddingModule } from '@rag/embedding';
import { StageRuntimeModule } from '@rag/stage-runtime';
import { embedderConfigSchema } from './embedder.config';
import { EmbedderHandler } from './embedder.handler';

@Module({
  imports: [
    ServiceCoreModule.forRoot({ service: 'embedder', configSchema: embedderConfigSchema, readiness: ['kafka', 'registry'] }),
    EmbeddingModule,
    StageRuntimeModule.forStage('embedder', EmbedderHandler),
  ],
})
export class EmbedderModule {}
