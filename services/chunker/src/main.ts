import { runService } from '@rag/common';
import { StageTransport } from '@rag/stage-runtime';
import { ChunkerModule } from './chunker.module';

// The stage runs as a Nest microservice transport beside the HTTP app (health, metrics).
runService(ChunkerModule, { microservices: [StageTransport] });
