import { runService } from '@rag/common';
import { ChunkerModule } from './chunker.module';

runService(ChunkerModule);
