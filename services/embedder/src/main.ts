import { runService } from '@rag/common';
import { EmbedderModule } from './embedder.module';

runService(EmbedderModule);
