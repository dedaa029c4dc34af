import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChunkLocation } from '@rag/contracts';
/** The gateway's HTTP API as the CLI uses it; errors carry the API's `{error, message}`. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message} (HTTP ${status})`);
  }
}

export interface DocumentStatus {
  documentId: string;
  version: number;
  status: string;
  title: string | null;
  source: string | null;
  chunkCount: number | null;
  indexedChunks: number;
  failures: { stage: string; reason: string }[];
  timings: { chunkingMs: number | null; indexingMs: number | null; totalMs: number | null };
  createdAt: string;
  [field: string]: unknown;
}

export interface Accepted {
  documentId: string;
  version: number;
  status: string;
  statusUrl: string;
}

export interface SearchHit extends ChunkLocation {
  documentId: string;
  chunkIndex: number;
  heading: string | null;
  title: string | null;
  text: string;
  score: number;
}

/**
 * The API key the CLI sends: RAG_API_KEY (or --api-key), else the development key that
 * `scripts/run.sh` wrote to .stack/dev-api-key.
 */
export function apiKeyFromEnvironment(): string | undefined {
  if (process.env.RAG_API_KEY) return process.env.RAG_API_KEY;
  const devKey = join(process.cwd(), '.stack', 'dev-api-key');
  return existsSync(devKey) ? readFileSync(devKey, 'utf8').trim() : undefined;
}

export class GatewayClient {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string | undefined = apiKeyFromEnvironment(),
  ) {}

  async upload(file: { name: string; bytes: Buffer; contentType: string }, fields: Record<string, string> = {}): Promise<Accepted> {
    const form = new FormData();
    form.append('file', new Blob([file.bytes], { type: file.contentType }), file.name);
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    return this.request<Accepted>('POST', '/v1/documents', form);
  }

  status(id: string): Promise<DocumentStatus> {
    return this.request('GET', `/v1/documents/${encodeURIComponent(id)}`);
  }

  /** The status, or undefined while the registry does not know the document yet. */
  async statusIfKnown(id: string): Promise<DocumentStatus | undefined> {
    try {
      return await this.status(id);
    } catch (err) {
      if (err instanceof GatewayError && err.status === 404) return undefined;
      throw err;
    }
  }

  list(query: {
    status?: string;
    source?: string;
    limit?: number;
    cursor?: string;
  }): Promise<{ documents: DocumentStatus[]; nextCursor: string | null }> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    return this.request('GET', `/v1/documents?${params}`);
  }

  search(body: { query: string; k?: number; hybrid?: boolean }): Promise<{ hits: SearchHit[]; took: number; model: string }> {
    return this.request('POST', '/v1/search', JSON.stringify(body), { 'content-type': 'application/json' });
  }

  delete(id: string): Promise<Accepted> {
    return this.request('DELETE', `/v1/documents/${encodeURIComponent(id)}`);
  }

  private async request<T>(method: string, path: string, body?: RequestInit['body'], headers: Record<string, string> = {}): Promise<T> {
    let res: Response;
    try {
      const auth: Record<string, string> = this.apiKey ? { Authorization: `Bearer ${this.apiKey}` } : {};
      res = await fetch(`${this.baseUrl}${path}`, { method, body, headers: { ...headers, ...auth } });
    } catch (err) {
      throw new GatewayError(0, 'unreachable', `cannot reach the gateway at ${this.baseUrl}: ${(err as Error).message}`);
    }
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const error = parsed as { error?: string; message?: string } | undefined;
      throw new GatewayError(res.status, error?.error ?? 'error', error?.message ?? text);
    }
    return parsed as T;
  }
}
