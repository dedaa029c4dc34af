import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { z } from 'zod';
import { envBool } from './env-bool';

/** How every Kafka client of the pipeline connects (services, provisioning, CLI, DLQ tools). */
export const kafkaSecurityConfigSchema = z.object({
  KAFKA_SECURITY_PROTOCOL: z.enum(['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']).default('PLAINTEXT'),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer']).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  /**
   * OAUTHBEARER: a file holding the current access token (a JWT from the identity provider),
   * kept fresh by the platform (a projected service-account token, an IdP agent or sidecar) and
   * read again at each authentication, so a rotated token is used without a restart.
   */
  KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: z.string().optional(),
  /** PEM bundle of the CAs that sign the brokers' certificates (default: the system's). */
  KAFKA_SSL_CA_FILE: z.string().optional(),
  /** Client certificate and key (PEM) for mutual TLS. */
  KAFKA_SSL_CERT_FILE: z.string().optional(),
  KAFKA_SSL_KEY_FILE: z.string().optional(),
  KAFKA_SSL_REJECT_UNAUTHORIZED: envBool.default('true'),
});
export type KafkaSecurityConfig = z.infer<typeof kafkaSecurityConfigSchema>;

/** The registry's credentials travel as headers, never in the URL (which logs and health answers may show). */
export const registryConnectionConfigSchema = z.object({
  SCHEMA_REGISTRY_USERNAME: z.string().optional(),
  SCHEMA_REGISTRY_PASSWORD: z.string().optional(),
  SCHEMA_REGISTRY_CA_FILE: z.string().optional(),
  /** false: look up this build's schema ids only, never register (provisioning registers; read rights suffice). */
  SCHEMA_REGISTRY_AUTO_REGISTER: envBool.default('true'),
});
export type RegistryConnectionConfig = z.infer<typeof registryConnectionConfigSchema> & { SCHEMA_REGISTRY_URL: string };

const readPem = (file: string | undefined, what: string) => {
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${what} ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
};

/** kafkajs' `ssl` and `sasl` options from the settings; inconsistent settings fail with the variable to fix. */
export function kafkaSecurity(cfg: KafkaSecurityConfig): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const protocol = cfg.KAFKA_SECURITY_PROTOCOL;
  const tls = protocol === 'SSL' || protocol === 'SASL_SSL';
  const sasl = protocol === 'SASL_SSL' || protocol === 'SASL_PLAINTEXT';
  if (!tls && (cfg.KAFKA_SSL_CA_FILE || cfg.KAFKA_SSL_CERT_FILE)) {
    throw new Error(`KAFKA_SSL_* files are set but KAFKA_SECURITY_PROTOCOL=${protocol} does not use TLS (SSL or SASL_SSL)`);
  }
  if (Boolean(cfg.KAFKA_SSL_CERT_FILE) !== Boolean(cfg.KAFKA_SSL_KEY_FILE)) {
    throw new Error('mutual TLS needs both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE');
  }
  if (sasl && cfg.KAFKA_SASL_MECHANISM === 'oauthbearer') {
    if (!cfg.KAFKA_SASL_OAUTHBEARER_TOKEN_FILE) throw new Error('KAFKA_SASL_MECHANISM=oauthbearer needs KAFKA_SASL_OAUTHBEARER_TOKEN_FILE');
    readOAuthToken(cfg.KAFKA_SASL_OAUTHBEARER_TOKEN_FILE); // fail at start, not at the first connection
  } else if (sasl && !(cfg.KAFKA_SASL_MECHANISM && cfg.KAFKA_SASL_USERNAME && cfg.KAFKA_SASL_PASSWORD)) {
    throw new Error(`KAFKA_SECURITY_PROTOCOL=${protocol} needs KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`);
  }
  const ssl: ConnectionOptions | undefined = tls
    ? {
        ca: readPem(cfg.KAFKA_SSL_CA_FILE, 'KAFKA_SSL_CA_FILE'),
        cert: readPem(cfg.KAFKA_SSL_CERT_FILE, 'KAFKA_SSL_CERT_FILE'),
        key: readPem(cfg.KAFKA_SSL_KEY_FILE, 'KAFKA_SSL_KEY_FILE'),
        rejectUnauthorized: cfg.KAFKA_SSL_REJECT_UNAUTHORIZED,
      }
    : undefined;
  return { ...(ssl && { ssl }), ...(sasl && { sasl: saslOptions(cfg) }) };
}

function saslOptions(cfg: KafkaSecurityConfig): SASLOptions {
  const tokenFile = cfg.KAFKA_SASL_OAUTHBEARER_TOKEN_FILE;
  if (cfg.KAFKA_SASL_MECHANISM === 'oauthbearer' && tokenFile) {
    // kafkajs asks on every new connection: the file's current token, never a cached one.
    return { mechanism: 'oauthbearer', oauthBearerProvider: () => Promise.resolve({ value: readOAuthToken(tokenFile) }) };
  }
  return { mechanism: cfg.KAFKA_SASL_MECHANISM, username: cfg.KAFKA_SASL_USERNAME, password: cfg.KAFKA_SASL_PASSWORD } as SASLOptions;
}

function readOAuthToken(file: string): string {
  const token = (readPem(file, 'KAFKA_SASL_OAUTHBEARER_TOKEN_FILE') ?? '').trim();
  if (!token) throw new Error(`KAFKA_SASL_OAUTHBEARER_TOKEN_FILE ${file} is empty`);
  return token;
}

export interface RegistryConnection {
  /** Without credentials: safe to log. */
  url: string;
  auth?: { username: string; password: string };
  agent?: Agent;
  autoRegister: boolean;
}

/** Credentials written into SCHEMA_REGISTRY_URL are moved to basic auth (the URL is logged and probed). */
export function registryConnection(cfg: RegistryConnectionConfig): RegistryConnection {
  const url = new URL(cfg.SCHEMA_REGISTRY_URL);
  const fromUrl = url.username ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : undefined;
  url.username = '';
  url.password = '';
  const username = cfg.SCHEMA_REGISTRY_USERNAME ?? fromUrl?.username;
  const password = cfg.SCHEMA_REGISTRY_PASSWORD ?? fromUrl?.password;
  if (Boolean(username) !== Boolean(password)) throw new Error('SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD go together');
  const ca = readPem(cfg.SCHEMA_REGISTRY_CA_FILE, 'SCHEMA_REGISTRY_CA_FILE');
  return {
    url: url.toString().replace(/\/$/, ''),
    ...(username && password && { auth: { username, password } }),
    ...(ca && { agent: new Agent({ ca, keepAlive: true }) }),
    autoRegister: cfg.SCHEMA_REGISTRY_AUTO_REGISTER,
  };
}

/** A request to the registry with its credentials and CA (fetch cannot take an https.Agent). */
export function registryRequest(
  conn: RegistryConnection,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<{ status: number; text: string }> {
  const url = new URL(`${conn.url}${path}`);
  const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json, application/json' };
  if (conn.auth) headers.authorization = `Basic ${Buffer.from(`${conn.auth.username}:${conn.auth.password}`).toString('base64')}`;
  if (body !== undefined) headers['content-type'] = 'application/vnd.schemaregistry.v1+json';
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method, headers, agent: conn.agent, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (part: string) => (text += part));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
