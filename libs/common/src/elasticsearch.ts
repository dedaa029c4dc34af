import { Client } from '@elastic/elasticsearch';
import type { ElasticsearchConfig } from './config';

export function createElasticsearchClient(cfg: ElasticsearchConfig): Client {
  const auth =
    cfg.ELASTICSEARCH_USERNAME && cfg.ELASTICSEARCH_PASSWORD
      ? { username: cfg.ELASTICSEARCH_USERNAME, password: cfg.ELASTICSEARCH_PASSWORD }
      : undefined;
  // Retries and timeouts are owned by the stage runtime (retry topic), so keep the client's short.
  return new Client({ node: cfg.ELASTICSEARCH_URL, auth, maxRetries: 1, requestTimeout: 30_000, compression: false });
}
