import { readFileSync } from 'node:fs';
import { Client } from '@elastic/elasticsearch';
import type { ElasticsearchConfig } from './config';

/** Node or Cloud id, API key or basic auth, a private CA (file or fingerprint). */
export function createElasticsearchClient(cfg: ElasticsearchConfig): Client {
  const auth = cfg.ELASTICSEARCH_API_KEY
    ? { apiKey: cfg.ELASTICSEARCH_API_KEY }
    : cfg.ELASTICSEARCH_USERNAME && cfg.ELASTICSEARCH_PASSWORD
      ? { username: cfg.ELASTICSEARCH_USERNAME, password: cfg.ELASTICSEARCH_PASSWORD }
      : undefined;
  const ca = cfg.ELASTICSEARCH_CA_FILE ? readFileSync(cfg.ELASTICSEARCH_CA_FILE, 'utf8') : undefined;
  return new Client({
    ...(cfg.ELASTICSEARCH_CLOUD_ID ? { cloud: { id: cfg.ELASTICSEARCH_CLOUD_ID } } : { node: cfg.ELASTICSEARCH_URL }),
    auth,
    ...(ca && { tls: { ca } }),
    ...(cfg.ELASTICSEARCH_CA_FINGERPRINT && { caFingerprint: cfg.ELASTICSEARCH_CA_FINGERPRINT }),
    // Retries and timeouts are owned by the stage runtime (retry topic), so keep the client's short.
    maxRetries: 1,
    requestTimeout: 30_000,
    compression: false,
  });
}
