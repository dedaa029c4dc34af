import { Module } from '@nestjs/common';
import { ServiceCoreModule } from '@rag/common';
import { StageRuntimeModule } from '@rag/stage-runtime';
import { chunkerConfigSchema } from './chunker.config';
import { ChunkerHandler } from './chunker.handler';
import { DocumentSplitter } from './document-splitter';

@Module({
  imports: [
    ServiceCoreModule.forRoot({ service: 'chunker', configSchema: chunkerConfigSchema, readiness: ['kafka', 'registry'] }),
    StageRuntimeModule.forStage('chunker', ChunkerHandler, [DocumentSplitter]),
  ],
})
export class ChunkerModule {}
