import { runService } from '@rag/common';
import { IndexerModule } from './indexer.module';

runService(IndexerModule);
