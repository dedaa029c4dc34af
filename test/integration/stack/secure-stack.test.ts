import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@elastic/elasticsearch';
import { createApiKey } from '@rag/common';
import {
  distinctivePhrase,
  freePort,
  seededRandom,
  ServiceProcess,
  textDocument,
  uniqueSuffix,
  waitFor,
  type ServiceName,
} from '@rag/testkit';
import { generateKeyPair, importPKCS8, SignJWT, type KeyLike } from 'jose';
import { Kafka, logLevel } from 'kafkajs';
import { stack } from '../../support/stack';
import { describeWithTool } from '../../support/tools';

const run = promisify(execFile);
const REPO = join(__dirname, '..', '..', '..');

/**
 * The pipeline against a secured stack of its own (stack.sh with STACK_SECURE=1): Kafka with
 * SASL_SSL only (SCRAM-SHA-512, or OAUTHBEARER with the stack issuer's JWTs) and ACLs, the schema registry behind TLS and basic auth, Elasticsearch
 * with security on, TLS and a least-privilege user. With the settings stack.sh writes to
 * secrets/stack.env, a document uploaded with an API key becomes searchable; without them, or
 * with a wrong password, each server refuses, the services say why in short words, and no
 * secret appears in any log or answer.
 */
describeWithTool('nginx', 'secured stack: SASL_SSL Kafka, TLS + basic-auth registry, Elasticsearch security', () => {
  const dir = join(REPO, '.stack', 'secure-test');
  const random = seededRandom(41);
  const id = uniqueSuffix();
  const services: ServiceProcess[] = [];
  let stackEnv: Record<string, string>;
  let connection: Record<string, string>;
  let secrets: string[];

  const pipelineEnv = (): Record<string, string> => ({
    ...connection,
    TOPIC_PREFIX: `s${id}`,
    ES_INDEX_ALIAS: `rag-chunks-${id}`,
    ES_REGISTRY_ALIAS: `rag-documents-${id}`,
    REGISTRY_GROUP_ID: `rag-registry-${id}`,
    EMBEDDING_DIMENSIONS: '384',
    LOG_LEVEL: 'info',
  });
  const start = async (name: ServiceName, env: Record<string, string>, waitReady = true): Promise<ServiceProcess> => {
    const service = new ServiceProcess(name, await freePort(), { ...pipelineEnv(), KAFKA_GROUP_ID: `rag-${name}-${id}`, ...env });
    services.push(service);
    return service.start(waitReady);
  };
  /** An HTTPS request trusting the stack's CA only. */
  const https = (url: string, auth?: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request(url, { ca: readFileSync(connection.KAFKA_SSL_CA_FILE), ...(auth && { auth }) }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });

  beforeAll(async () => {
    stackEnv = {
      STACK_SECURE: '1',
      STACK_DIR: dir,
      STACK_CACHE: process.env.STACK_CACHE ?? join(REPO, '.stack', 'cache'),
      STACK_KAFKA_PORT: String(await freePort()),
      STACK_KAFKA_CONTROLLER_PORT: String(await freePort()),
      STACK_REGISTRY_PORT: String(await freePort()),
      STACK_REGISTRY_INTERNAL_PORT: String(await freePort()),
      STACK_ES_PORT: String(await freePort()),
      STACK_ES_TRANSPORT_PORT: String(await freePort()),
      STACK_ES_HEAP: '512m',
      // The services' Kafka user may use this pipeline's topics and `rag-` groups, nothing else.
      STACK_SECURE_TOPIC_PREFIX: `s${id}.`,
    };
    // A leftover stack of an earlier run is stopped; data, users and certificates start afresh.
    for (const component of ['es', 'registry', 'kafka'] as const) await stack('down', component, stackEnv).catch(() => '');
    for (const sub of ['data', 'secrets', 'conf']) rmSync(join(dir, sub), { recursive: true, force: true });
    for (const component of ['kafka', 'registry', 'es'] as const) await stack('up', component, stackEnv);
    connection = Object.fromEntries(
      readFileSync(join(dir, 'secrets', 'stack.env'), 'utf8')
        .split('\n')
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    secrets = [connection.KAFKA_SASL_PASSWORD, connection.SCHEMA_REGISTRY_PASSWORD, connection.ELASTICSEARCH_PASSWORD];
    for (const secret of secrets) expect(secret).toMatch(/^[0-9a-f]{48}$/);
  }, 420_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    for (const component of ['es', 'registry', 'kafka'] as const) await stack('down', component, stackEnv).catch(() => '');
  });

  it('runs the pipeline end to end with credentials: uploaded with an API key, indexed, searchable, no secret logged', async () => {
    const { stdout, stderr } = await run(process.execPath, [join(REPO, 'dist', 'tools', 'provision', 'main.js'), '--partitions', '2'], {
      env: { ...process.env, ...pipelineEnv() },
    });
    const apiKey = createApiKey('secure-app', 'acme', ['ingest', 'search']);
    for (const name of ['indexer', 'embedder', 'chunker'] as const) await start(name, {});
    const gateway = await start('gateway', { GATEWAY_AUTH: 'api-key', API_KEYS: JSON.stringify([apiKey.entry]) });
    const headers = { authorization: `Bearer ${apiKey.key}`, 'content-type': 'application/json' };

    const phrase = distinctivePhrase(random);
    const documentId = `secure-${id}`;
    const accepted = await fetch(`${gateway.url}/v1/documents`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ documentId, text: textDocument(random, 3_000, phrase) }),
    });
    expect(accepted.status).toBe(202);
    await waitFor(
      `${documentId} indexed`,
      async () =>
        ((await (await fetch(`${gateway.url}/v1/documents/${documentId}`, { headers })).json()) as { status: string }).status === 'indexed',
      120_000,
      100,
    );
    // Indexed means searchable: no refresh in between.
    const search = await fetch(`${gateway.url}/v1/search`, { method: 'POST', headers, body: JSON.stringify({ query: phrase, k: 3 }) });
    const { hits } = (await search.json()) as { hits: { documentId: string; text: string }[] };
    expect(hits[0]).toMatchObject({ documentId });
    expect(hits[0].text).toContain(phrase);

    const logs = [stdout, stderr, ...services.map((s) => readFileSync(s.logFile, 'utf8'))].join('\n');
    for (const secret of [...secrets, apiKey.key]) expect(logs.includes(secret)).toBe(false);
    console.log(
      `secured stack: ${documentId} indexed and found over SASL_SSL, TLS + basic auth and ES security; ${logs.length} log bytes free of secrets`,
    );
  });

  it('runs the pipeline end to end over OAUTHBEARER: a JWT from a token file instead of a password', async () => {
    // The SCRAM services of the test above leave; every Kafka connection from now on uses the token.
    await Promise.all(services.splice(0).map((s) => s.stop()));
    const token = readFileSync(connection.KAFKA_SASL_OAUTHBEARER_TOKEN_FILE, 'utf8').trim();
    const oauth = { KAFKA_SASL_MECHANISM: 'oauthbearer', KAFKA_SASL_USERNAME: '', KAFKA_SASL_PASSWORD: '' };
    for (const name of ['indexer', 'embedder', 'chunker'] as const) await start(name, oauth);
    const gateway = await start('gateway', { ...oauth, GATEWAY_AUTH: 'none' });

    const phrase = distinctivePhrase(random);
    const documentId = `secure-oauth-${id}`;
    const accepted = await fetch(`${gateway.url}/v1/documents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ documentId, text: textDocument(random, 3_000, phrase) }),
    });
    expect(accepted.status).toBe(202);
    await waitFor(
      `${documentId} indexed`,
      async () => ((await (await fetch(`${gateway.url}/v1/documents/${documentId}`)).json()) as { status: string }).status === 'indexed',
      120_000,
      100,
    );
    const search = await fetch(`${gateway.url}/v1/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: phrase, k: 3 }),
    });
    const { hits } = (await search.json()) as { hits: { documentId: string; text: string }[] };
    expect(hits[0]).toMatchObject({ documentId });
    const logs = services.map((s) => readFileSync(s.logFile, 'utf8')).join('\n');
    // The services really authenticated with the token: SCRAM is impossible without a password.
    expect(services.every((s) => s.running)).toBe(true);
    for (const secret of [token, ...secrets]) expect(logs.includes(secret)).toBe(false);
    console.log(`secured stack: ${documentId} indexed and found over SASL_SSL with OAUTHBEARER (token from a file)`);
  });

  it('each server refuses a client without the right credentials', async () => {
    const brokers = connection.KAFKA_BROKERS.split(',');
    const ca = [readFileSync(connection.KAFKA_SSL_CA_FILE, 'utf8')];
    const tryKafka = async (options: Partial<ConstructorParameters<typeof Kafka>[0]>) => {
      const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING, connectionTimeout: 3_000, retry: { retries: 0 }, ...options }).admin();
      try {
        await admin.connect();
        await admin.listTopics();
        return 'connected';
      } catch (error) {
        // kafkajs wraps a failure it retried (an OAUTHBEARER refusal among them): the first cause says why.
        let root = error as Error;
        while (root.cause instanceof Error) root = root.cause;
        return root === error ? root.name : `${root.name}: ${root.message}`;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    };
    const username = connection.KAFKA_SASL_USERNAME;
    expect(await tryKafka({ ssl: { ca }, sasl: { mechanism: 'scram-sha-512', username, password: connection.KAFKA_SASL_PASSWORD } })).toBe(
      'connected',
    );
    expect(await tryKafka({})).not.toBe('connected'); // plaintext against the TLS listener
    expect(await tryKafka({ ssl: { ca } })).not.toBe('connected'); // TLS without SASL
    expect(await tryKafka({ ssl: { ca }, sasl: { mechanism: 'scram-sha-512', username, password: 'wrong' } })).toBe(
      'KafkaJSSASLAuthenticationError',
    );
    // OAUTHBEARER: the issuer's token is taken; an expired one, one for another audience and one
    // signed by a key the broker does not know are refused.
    const issuerKey = await importPKCS8(readFileSync(join(dir, 'secrets', 'oauth-issuer.key'), 'utf8'), 'RS256');
    const strangerKey = (await generateKeyPair('RS256')).privateKey;
    const jwt = (key: KeyLike, claims: { aud?: string; exp?: number } = {}) =>
      new SignJWT({ scope: 'kafka' })
        .setProtectedHeader({ alg: 'RS256', kid: 'rag-stack-1' })
        .setIssuer('rag-stack')
        .setAudience(claims.aud ?? 'kafka')
        .setSubject(username)
        .setIssuedAt()
        .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 600)
        .sign(key);
    const withToken = async (token: string) =>
      tryKafka({ ssl: { ca }, sasl: { mechanism: 'oauthbearer', oauthBearerProvider: () => Promise.resolve({ value: token }) } });
    expect(await withToken(await jwt(issuerKey))).toBe('connected');
    const refused = {
      expired: await withToken(await jwt(issuerKey, { exp: Math.floor(Date.now() / 1000) - 600 })),
      audience: await withToken(await jwt(issuerKey, { aud: 'elsewhere' })),
      stranger: await withToken(await jwt(strangerKey)),
    };
    for (const outcome of Object.values(refused)) expect(outcome).not.toBe('connected');
    // kafkajs does not read the broker's OAUTHBEARER error reply (RFC 7628) and reports only a
    // lost connection ("No brokers in the broker pool"); the broker's log says why it refused.
    const brokerLog = readFileSync(join(dir, 'logs', 'kafka.log'), 'utf8');
    expect(brokerLog).toMatch(/"aud":"kafka","sub":"rag".*is on or after the Expiration Time/);
    expect(brokerLog).toMatch(/Audience \(aud\) claim \[elsewhere\] doesn't contain an acceptable identifier/);
    expect(brokerLog).toMatch(/JWT rejected due to invalid signature/);
    console.log(`OAUTHBEARER refusals as kafkajs reports them: ${JSON.stringify(refused)}`);

    // Authorised, not all-powerful: the services' user may not create, write or read outside its
    // topic prefix and `rag-` groups (ACLs; the broker's own admin user made the other topic).
    const as = (user: string, password: string) =>
      new Kafka({
        brokers,
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
        ssl: { ca },
        sasl: { mechanism: 'scram-sha-512', username: user, password },
      });
    const adminClient = as('admin', readFileSync(join(dir, 'secrets', 'kafka-admin-password'), 'utf8').trim()).admin();
    const ragAdmin = as(username, connection.KAFKA_SASL_PASSWORD).admin();
    const ragProducer = as(username, connection.KAFKA_SASL_PASSWORD).producer();
    try {
      await Promise.all([adminClient.connect(), ragAdmin.connect(), ragProducer.connect()]);
      const other = `other-${id}`;
      /** The Kafka error codes of a refusal (kafkajs nests them in aggregate and retry errors). */
      type KafkaError = { type?: string; message?: string; errors?: KafkaError[]; cause?: KafkaError };
      const codes = (e: KafkaError): string[] => [e.type ?? '', ...(e.errors ?? []).flatMap(codes), ...(e.cause ? codes(e.cause) : [])];
      const refusal = (attempt: Promise<unknown>) =>
        attempt.then(
          () => 'allowed',
          (e: KafkaError) => codes(e).filter(Boolean).join(',') || `no code: ${e.message}`,
        );
      expect(await refusal(ragAdmin.createTopics({ topics: [{ topic: `${other}-x` }] }))).toMatch(/TOPIC_AUTHORIZATION_FAILED/);
      await adminClient.createTopics({ topics: [{ topic: other }] });
      expect(await refusal(ragProducer.send({ topic: other, messages: [{ value: 'x' }] }))).toMatch(/TOPIC_AUTHORIZATION_FAILED/);
      // kafkajs reports a group refused by the ACLs as "Failed to find group coordinator"; the same
      // call for a `rag-` group on the same broker succeeds, so the refusal is the ACL's.
      expect(await refusal(ragAdmin.fetchOffsets({ groupId: `intruder-${id}`, topics: [`s${id}.documents`] }))).toMatch(
        /AUTHORIZATION_FAILED|find group coordinator/,
      );
      expect(await refusal(ragAdmin.fetchOffsets({ groupId: `rag-probe-${id}`, topics: [`s${id}.documents`] }))).toBe('allowed');
      // …while its own prefix works (the pipeline test above ran on it).
      expect(await ragAdmin.listTopics()).toEqual(expect.arrayContaining([`s${id}.documents`]));
      expect(await ragAdmin.listTopics()).not.toContain(other);
    } finally {
      await Promise.all([adminClient.disconnect(), ragAdmin.disconnect(), ragProducer.disconnect()]);
    }

    const registry = connection.SCHEMA_REGISTRY_URL;
    expect(await https(`${registry}/subjects`, `rag:${connection.SCHEMA_REGISTRY_PASSWORD}`)).toBe(200);
    expect(await https(`${registry}/subjects`)).toBe(401);
    expect(await https(`${registry}/subjects`, 'rag:wrong')).toBe(401);
    // Plain HTTP on the TLS port: nginx answers 400 and serves nothing.
    expect((await fetch(`${registry.replace('https:', 'http:')}/subjects`)).status).toBe(400);

    const es = (password: string) =>
      new Client({
        node: connection.ELASTICSEARCH_URL,
        auth: { username: connection.ELASTICSEARCH_USERNAME, password },
        tls: { ca: readFileSync(connection.ELASTICSEARCH_CA_FILE) },
      });
    expect((await es(connection.ELASTICSEARCH_PASSWORD).cluster.health()).status).not.toBe('red');
    await expect(es('wrong').cluster.health()).rejects.toMatchObject({ meta: { statusCode: 401 } });
    const anonymous = new Client({ node: connection.ELASTICSEARCH_URL, tls: { ca: readFileSync(connection.ELASTICSEARCH_CA_FILE) } });
    await expect(anonymous.cluster.health()).rejects.toMatchObject({ meta: { statusCode: 401 } });
    // Least privilege: the services' user owns rag-* indices and nothing else.
    await expect(es(connection.ELASTICSEARCH_PASSWORD).indices.create({ index: `other-${id}` })).rejects.toMatchObject({
      meta: { statusCode: 403 },
    });
  });

  it('a service with a wrong password says which server refused, in short words, and leaks nothing', async () => {
    const wrong = { kafka: `k-${uniqueSuffix()}`, registry: `r-${uniqueSuffix()}`, es: `e-${uniqueSuffix()}` };
    // The registry and Elasticsearch are needed to start: a service registers its writer schemas
    // and installs its index template first, so it exits, saying which server refused.
    const startupLogs: string[] = [];
    for (const [env, refusal] of [
      [{ SCHEMA_REGISTRY_PASSWORD: wrong.registry }, /service failed to start.*Schema_Registry.*status 401/],
      [{ ELASTICSEARCH_PASSWORD: wrong.es }, /service failed to start.*unable to authenticate user \[rag\]/],
    ] as const) {
      const early = await start('gateway', { ...env, GATEWAY_AUTH: 'none' }, false);
      await waitFor('the gateway with a wrong password to exit', async () => !early.running, 60_000);
      const log = readFileSync(early.logFile, 'utf8');
      expect(
        log
          .split('\n')
          .filter((line) => line.includes('"fatal"'))
          .pop(),
      ).toMatch(refusal);
      startupLogs.push(log);
    }

    // Kafka refusing: the gateway runs (it connects to Kafka per request), and /readyz says so.
    const gateway = await start('gateway', { KAFKA_SASL_PASSWORD: wrong.kafka, GATEWAY_AUTH: 'none' }, false);
    const answer = await waitFor(
      'the gateway to answer /readyz',
      async () => {
        if (!gateway.running) throw new Error(`the gateway exited; see ${gateway.logFile}`);
        const res = await fetch(`${gateway.url}/readyz`).catch(() => undefined);
        return res && { status: res.status, body: await res.text() };
      },
      90_000,
    );
    expect(answer.status).toBe(503);
    const details = (JSON.parse(answer.body) as { details: Record<string, { status: string; message?: string }> }).details;
    expect(details.kafka).toMatchObject({ status: 'down', message: 'authentication failed' });
    expect(details.registry).toMatchObject({ status: 'up' });
    expect(details.elasticsearch).toMatchObject({ status: 'up' });
    const everything = [answer.body, ...startupLogs, readFileSync(gateway.logFile, 'utf8')].join('\n');
    for (const secret of [...Object.values(wrong), ...secrets]) expect(everything.includes(secret)).toBe(false);
  });
});
