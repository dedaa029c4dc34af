#!/usr/bin/env node
/*
 * The secured stack's OAuth issuer (STACK_SECURE=1), used by scripts/stack/secure.sh and the
 * tests: an RSA signing key, its public JWKS (which Kafka's OAUTHBEARER listener verifies tokens
 * against) and access tokens (JWT, RS256) for a principal. In a real deployment an identity
 * provider (Keycloak, Entra ID, Okta…) holds the key and issues the tokens; the services only
 * read the token a platform agent keeps fresh in a file.
 *
 *   oauth-issuer.cjs keys  <dir>                          issuer key + JWKS, made once
 *   oauth-issuer.cjs token <dir> <subject> [ttl seconds]  prints a token (default 1 day)
 */
'use strict';

const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { exportJWK, exportPKCS8, generateKeyPair, importPKCS8, SignJWT } = require('jose');

const ISSUER = 'rag-stack';
const AUDIENCE = 'kafka';
const KEY_ID = 'rag-stack-1';

async function keys(dir) {
  const keyFile = join(dir, 'oauth-issuer.key');
  if (existsSync(keyFile)) return;
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: KEY_ID, alg: 'RS256', use: 'sig' };
  writeFileSync(keyFile, await exportPKCS8(privateKey), { mode: 0o600 });
  writeFileSync(join(dir, 'oauth-jwks.json'), JSON.stringify({ keys: [jwk] }, null, 2) + '\n', { mode: 0o644 });
}

async function token(dir, subject, ttlSeconds) {
  const key = await importPKCS8(readFileSync(join(dir, 'oauth-issuer.key'), 'utf8'), 'RS256');
  return new SignJWT({ scope: 'kafka' })
    .setProtectedHeader({ alg: 'RS256', kid: KEY_ID, typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(key);
}

async function main([command, dir, subject, ttl]) {
  if (command === 'keys' && dir) return keys(dir);
  if (command === 'token' && dir && subject) return process.stdout.write((await token(dir, subject, Number(ttl ?? 86_400))) + '\n');
  throw new Error('usage: oauth-issuer.cjs keys <dir> | token <dir> <subject> [ttl seconds]');
}

main(process.argv.slice(2)).catch((error) => {
  console.error(`oauth-issuer: ${error.message}`);
  process.exit(1);
});
