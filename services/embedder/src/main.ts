import { runService } from '@rag/common';
import { StageTransport } from '@rag/stage-runtime';
import { EmbedderModule } from './embedder.module';

// The stage runs as a Nest microservice transport beside the HTTP app (health, metrics).
runService(EmbedderModule, { microservices: [StageTransport] });
