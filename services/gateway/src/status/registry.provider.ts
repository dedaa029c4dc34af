import type { Client } from '@elastic/elasticsearch';
import { Inject, Injectable, type OnModuleInit, type Provider } from '@nestjs/common';
import { ELASTICSEARCH, SERVICE_CONFIG } from '@rag/common';
import { DocumentRegistry, ensureRegistryIndex } from '@rag/document-registry';
import type { GatewayConfig } from '../gateway.config';

export const DOCUMENT_REGISTRY = Symbol('DOCUMENT_REGISTRY');

export const documentRegistryProvider: Provider = {
  provide: DOCUMENT_REGISTRY,
  inject: [ELASTICSEARCH, SERVICE_CONFIG],
  useFactory: (es: Client, cfg: GatewayConfig) => new DocumentRegistry(es, cfg.ES_REGISTRY_ALIAS),
};

/** The registry index exists before the first read (provisioning creates it too; this is idempotent). */
@Injectable()
export class RegistryIndexInitializer implements OnModuleInit {
  constructor(
    @Inject(ELASTICSEARCH) private readonly es: Client,
    @Inject(SERVICE_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await ensureRegistryIndex(this.es, this.config.ES_REGISTRY_ALIAS, this.config.ES_NUMBER_OF_REPLICAS);
  }
}
