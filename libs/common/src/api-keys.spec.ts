import { ApiKeyStore, createApiKey } from './api-keys';

describe('API keys', () => {
  const { key, entry } = createApiKey('team-a', 'acme', ['ingest', 'search']);
  const store = new ApiKeyStore([entry, createApiKey('ops', '*', ['admin']).entry]);

  it('stores only the SHA-256 of a random key and authenticates the key itself', () => {
    expect(key).toMatch(/^rsk_team-a_[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(entry)).not.toContain(key.split('_').at(-1));
    expect(store.authenticate(key)).toEqual({ keyId: 'team-a', tenant: 'acme', scopes: new Set(['ingest', 'search']) });
  });

  it('refuses a changed secret, another id with the same secret, and malformed keys', () => {
    const secret = key.slice('rsk_team-a_'.length);
    expect(store.authenticate(`rsk_team-a_${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    expect(store.authenticate(`rsk_ops_${secret}`)).toBeUndefined();
    expect(store.authenticate('team-a')).toBeUndefined();
    expect(store.authenticate('')).toBeUndefined();
  });

  it('reads API_KEYS and rejects bad entries with their path', () => {
    expect(ApiKeyStore.fromConfig({ API_KEYS: JSON.stringify([entry]) }).authenticate(key)?.tenant).toBe('acme');
    expect(() => ApiKeyStore.fromConfig({ API_KEYS: '[{"id":"x","tenant":"acme","scopes":["root"],"sha256":"00"}]' })).toThrow(
      /API_KEYS: 0\.scopes\.0: .*0\.sha256: sha256: 64 hex digits/,
    );
    expect(() => new ApiKeyStore([entry, entry])).toThrow(/configured twice/);
  });
});
