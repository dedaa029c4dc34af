import type { Provider } from '@nestjs/common';
import { SERVICE_CONFIG } from '@rag/common';
import type { GatewayConfig } from '../gateway.config';
import { API_KEY_STORE, ApiKeyGuard, KEY_RATE_LIMITER } from './api-key.guard';
import { ApiKeyStore } from '@rag/common';
import { TokenBuckets } from './token-bucket';

export const authProviders: Provider[] = [
  {
    provide: API_KEY_STORE,
    inject: [SERVICE_CONFIG],
    useFactory: (cfg: GatewayConfig): ApiKeyStore | null => {
      if (cfg.GATEWAY_AUTH === 'none') return null;
      const store = ApiKeyStore.fromConfig(cfg);
      if (store.size === 0) {
        throw new Error(
          'GATEWAY_AUTH=api-key needs at least one key in API_KEYS or API_KEYS_FILE (`rag-stream keys create`), or GATEWAY_AUTH=none',
        );
      }
      return store;
    },
  },
  {
    provide: KEY_RATE_LIMITER,
    inject: [SERVICE_CONFIG],
    useFactory: (cfg: GatewayConfig): TokenBuckets | null =>
      cfg.GATEWAY_AUTH === 'none' || cfg.RATE_LIMIT_PER_KEY === 0 ? null : new TokenBuckets(cfg.RATE_LIMIT_PER_KEY, cfg.RATE_LIMIT_BURST),
  },
  ApiKeyGuard,
];
