import { runService } from '@rag/common';
import { StageTransport } from '@rag/stage-runtime';
import { IndexerModule } from './indexer.module';

// The stage runs as a Nest microservice transport beside the HTTP app (health, metrics).
runService(IndexerModule, { microservices: [StageTransport] });
