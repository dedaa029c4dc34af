import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export const SCOPES = ['ingest', 'search', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** The tenant of operator keys: they see every tenant's documents and dead letters. */
export const ALL_TENANTS = '*';

const tenantSchema = z.union([
  z.literal(ALL_TENANTS),
  z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'tenant: lowercase letters, digits, . _ -'),
]);

/** One configured key: never the key itself, only its SHA-256. */
export const apiKeyEntrySchema = z
  .object({
    id: z.string().regex(/^[a-z0-9-]{1,64}$/, 'id: lowercase letters, digits and -'),
    tenant: tenantSchema,
    scopes: z.array(z.enum(SCOPES)).min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256: 64 hex digits'),
  })
  .strict();
export type ApiKeyEntry = z.infer<typeof apiKeyEntrySchema>;

/** Who is calling: what the guard attaches to the request. */
export interface Principal {
  keyId: string;
  tenant: string;
  scopes: ReadonlySet<Scope>;
}

/** `rsk_<id>_<secret>`: the id finds the entry without comparing against every key. */
const KEY_FORMAT = /^rsk_([a-z0-9-]{1,64})_([A-Za-z0-9_-]{32,})$/;

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * A new key (256 random bits) and the entry to configure for it. Keys are random, so a plain
 * SHA-256 is enough to store them: no password-style stretching is needed against guessing.
 */
export function createApiKey(id: string, tenant: string, scopes: Scope[]): { key: string; entry: ApiKeyEntry } {
  const key = `rsk_${id}_${randomBytes(32).toString('base64url')}`;
  return { key, entry: apiKeyEntrySchema.parse({ id, tenant, scopes, sha256: sha256(key).toString('hex') }) };
}

/** The configured keys, looked up by id and compared in constant time. */
export class ApiKeyStore {
  private readonly byId = new Map<string, { entry: ApiKeyEntry; digest: Buffer }>();

  constructor(entries: ApiKeyEntry[]) {
    for (const entry of entries) {
      if (this.byId.has(entry.id)) throw new Error(`API key id "${entry.id}" is configured twice`);
      this.byId.set(entry.id, { entry, digest: Buffer.from(entry.sha256, 'hex') });
    }
  }

  get size(): number {
    return this.byId.size;
  }

  /** Entries from API_KEYS (JSON array) and API_KEYS_FILE (the same, in a file): both may be set. */
  static fromConfig(config: { API_KEYS?: string; API_KEYS_FILE?: string }): ApiKeyStore {
    const sources = [
      ...(config.API_KEYS ? [{ name: 'API_KEYS', text: config.API_KEYS }] : []),
      ...(config.API_KEYS_FILE ? [{ name: config.API_KEYS_FILE, text: readFileSync(config.API_KEYS_FILE, 'utf8') }] : []),
    ];
    return new ApiKeyStore(sources.flatMap(({ name, text }) => parseEntries(name, text)));
  }

  authenticate(key: string): Principal | undefined {
    const match = KEY_FORMAT.exec(key);
    const known = match ? this.byId.get(match[1]) : undefined;
    // Hash and compare even for an unknown id, so timing does not tell which ids exist.
    const expected = known?.digest ?? Buffer.alloc(32);
    const ok = timingSafeEqual(sha256(key), expected) && known !== undefined;
    return ok ? { keyId: known.entry.id, tenant: known.entry.tenant, scopes: new Set(known.entry.scopes) } : undefined;
  }
}

function parseEntries(source: string, text: string): ApiKeyEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source} is not JSON: ${(err as Error).message}`);
  }
  const parsed = z.array(apiKeyEntrySchema).safeParse(json);
  if (!parsed.success) throw new Error(`${source}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
