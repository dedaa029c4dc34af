import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kafkaSecurity, kafkaSecurityConfigSchema, registryConnection, registryConnectionConfigSchema } from './connections';

const kafka = (env: Record<string, string>) => kafkaSecurity(kafkaSecurityConfigSchema.parse(env));
const registry = (env: Record<string, string>) =>
  registryConnection({ ...registryConnectionConfigSchema.parse(env), SCHEMA_REGISTRY_URL: env.SCHEMA_REGISTRY_URL });

describe('kafkaSecurity', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conn-'));
  const ca = join(dir, 'ca.pem');
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');

  it('is plaintext by default', () => {
    expect(kafka({})).toEqual({});
  });

  it('SASL_SSL: SCRAM credentials and the CA bundle', () => {
    const security = kafka({
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'svc',
      KAFKA_SASL_PASSWORD: 'pw',
      KAFKA_SSL_CA_FILE: ca,
    });
    expect(security.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'svc', password: 'pw' });
    expect(security.ssl).toMatchObject({ ca: expect.stringContaining('BEGIN CERTIFICATE'), rejectUnauthorized: true });
  });

  it('SASL_SSL with OAUTHBEARER: the token file is read at each authentication (a rotated token is used at once)', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'first.token.jwt\n');
    const security = kafka({
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'oauthbearer',
      KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: tokenFile,
    });
    const sasl = security.sasl as { mechanism: string; oauthBearerProvider: () => Promise<{ value: string }> };
    expect(sasl.mechanism).toBe('oauthbearer');
    expect(await sasl.oauthBearerProvider()).toEqual({ value: 'first.token.jwt' });
    writeFileSync(tokenFile, 'second.token.jwt');
    expect(await sasl.oauthBearerProvider()).toEqual({ value: 'second.token.jwt' });
    expect(() => kafka({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'oauthbearer' })).toThrow(
      /KAFKA_SASL_OAUTHBEARER_TOKEN_FILE/,
    );
    writeFileSync(tokenFile, '  \n');
    expect(() =>
      kafka({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'oauthbearer', KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: tokenFile }),
    ).toThrow(/is empty/);
  });

  it('refuses inconsistent settings with the variable to fix', () => {
    expect(() => kafka({ KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KAFKA_SASL_MECHANISM: 'plain' })).toThrow(/KAFKA_SASL_USERNAME/);
    expect(() => kafka({ KAFKA_SSL_CA_FILE: ca })).toThrow(/does not use TLS/);
    expect(() => kafka({ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CERT_FILE: ca })).toThrow(/KAFKA_SSL_KEY_FILE/);
    expect(() => kafka({ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CA_FILE: join(dir, 'missing.pem') })).toThrow(/ENOENT/);
  });
});

describe('registryConnection', () => {
  it('moves credentials out of the URL into basic auth', () => {
    const conn = registry({ SCHEMA_REGISTRY_URL: 'https://svc:s%3Acret@registry.example:8081/apis/ccompat/v7' });
    expect(conn.url).toBe('https://registry.example:8081/apis/ccompat/v7');
    expect(conn.auth).toEqual({ username: 'svc', password: 's:cret' });
  });

  it('takes SCHEMA_REGISTRY_USERNAME/PASSWORD and the lookup-only mode', () => {
    const conn = registry({
      SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081',
      SCHEMA_REGISTRY_USERNAME: 'reader',
      SCHEMA_REGISTRY_PASSWORD: 'pw',
      SCHEMA_REGISTRY_AUTO_REGISTER: 'false',
    });
    expect(conn).toMatchObject({ url: 'http://127.0.0.1:8081', auth: { username: 'reader', password: 'pw' }, autoRegister: false });
    expect(() => registry({ SCHEMA_REGISTRY_URL: 'http://r', SCHEMA_REGISTRY_USERNAME: 'x' })).toThrow(/go together/);
  });
});
