import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { apiKeyEntrySchema, createApiKey, SCOPES, type ApiKeyEntry, type Scope } from '@rag/common';
import { z } from 'zod';
import { printJson } from '../output';
import type { GlobalOptions } from '../context';

export interface KeysCreateOptions extends GlobalOptions {
  id: string;
  tenant: string;
  scopes: string;
  file?: string;
  keyFile?: string;
}

/**
 * A new API key: the key is printed once (or written to --key-file) and only its SHA-256 entry
 * is stored, appended to --file (the gateway's API_KEYS_FILE) or printed for API_KEYS.
 */
export function keysCreate(options: KeysCreateOptions): number {
  const scopes = options.scopes.split(',').map((s) => s.trim());
  const invalid = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (invalid.length > 0) throw new Error(`unknown scope ${invalid.join(', ')}; scopes are ${SCOPES.join(', ')}`);
  const { key, entry } = createApiKey(options.id, options.tenant, scopes as Scope[]);
  if (options.file) {
    const entries: ApiKeyEntry[] = existsSync(options.file)
      ? z.array(apiKeyEntrySchema).parse(JSON.parse(readFileSync(options.file, 'utf8')))
      : [];
    if (entries.some((e) => e.id === entry.id)) throw new Error(`${options.file} already has a key with id ${entry.id}`);
    writeFileSync(options.file, `${JSON.stringify([...entries, entry], null, 2)}\n`, { mode: 0o600 });
  }
  if (options.keyFile) writeFileSync(options.keyFile, `${key}\n`, { mode: 0o600 });
  if (options.json) printJson({ key: options.keyFile ? null : key, entry });
  else {
    if (!options.keyFile) process.stdout.write(`${key}\n`);
    process.stderr.write(
      options.file
        ? `key ${entry.id} (tenant ${entry.tenant}, scopes ${entry.scopes.join(',')}) added to ${options.file}; the gateway reads it at start\n`
        : `configure the gateway with API_KEYS='${JSON.stringify([entry])}'\n`,
    );
  }
  return 0;
}
