import { topicNames } from '@rag/contracts';
import { Kafka, logLevel } from 'kafkajs';
import { connect } from 'node:net';
import { provisionSchemas, provisionTopics } from '../../../tools/provision/provision';
import { readTopic } from '../../support/dlq';
import { STACK, uniqueSuffix } from '@rag/testkit';
import { PrivateKafka } from '../../support/private-kafka';
import { freePort, ServiceProcess, waitFor } from '@rag/testkit';

/**
 * Issue 11.7: the gateway when Kafka is unavailable. The gateway runs against a broker of its own
 * (the shared stack's registry and Elasticsearch), which the test stops, starts, freezes (SIGSTOP)
 * and thaws. An upload must then answer 503 + Retry-After within KAFKA_PRODUCE_TIMEOUT_MS (default
 * 10 s), /readyz must say not ready, and once the broker is back uploads must get 202 again.
 * Every 202 must be in the documents topic; no 503 may count as accepted.
 */
const PRODUCE_TIMEOUT_MS = 10_000; // the default of KAFKA_PRODUCE_TIMEOUT_MS, deliberately not set
const MARGIN_MS = 1_500; // HTTP and event-loop slack on 2 busy cores
const READY_PROBE_MS = 3_000; // libs/common/src/health.ts
// kafkajs keeps retrying a send on its own, the gateway's producer for about 30 s
// (services/gateway/src/documents/fenced-producer.ts); a refused document must not arrive after that either.
const KAFKAJS_RETRY_WINDOW_MS = 45_000;

/** Whether something accepts TCP connections on host:port (a frozen process's port still does). */
function acceptsConnections(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port), timeout: 2_000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

interface Answer {
  status: number;
  retryAfter: string | null;
  body: { error?: string; message?: string };
  elapsedMs: number;
}

describe('gateway when Kafka is unavailable', () => {
  const broker = new PrivateKafka('gateway-kafka');
  const id = uniqueSuffix();
  const prefix = `t${id}`;
  const topics = topicNames(prefix);
  let kafka: Kafka;
  let gateway: ServiceProcess;
  let lateGateway: ServiceProcess | undefined;
  const gatewayEnv = () => ({
    KAFKA_BROKERS: broker.brokers.join(','),
    SCHEMA_REGISTRY_URL: STACK.registryUrl,
    ELASTICSEARCH_URL: STACK.elasticsearchUrl,
    TOPIC_PREFIX: prefix,
    ES_INDEX_ALIAS: `rag-chunks-${id}`,
    // Its own document registry (the gateway creates the index): statuses of this test only.
    ES_REGISTRY_ALIAS: `rag-documents-${id}`,
    LOG_LEVEL: 'info',
  });
  const accepted: string[] = [];
  const refusedWhileStopped: string[] = [];
  const refusedWhileFrozen: string[] = [];
  let sequence = 0;
  let lastRefusedWhileStoppedAt = 0;
  const refusedDeletes: string[] = [];

  const upload = async (kind: 'json' | 'multipart', url = gateway.url): Promise<Answer & { documentId: string }> => {
    const documentId = `gk-${id}-${sequence++}`;
    const text = `document ${documentId}: the gateway answers only what Kafka acknowledged.`;
    const started = Date.now();
    let init: RequestInit;
    if (kind === 'json') {
      init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ documentId, text }) };
    } else {
      const form = new FormData();
      form.append('documentId', documentId);
      form.append('file', new Blob([text], { type: 'text/plain' }), `${documentId}.txt`);
      init = { method: 'POST', body: form };
    }
    const res = await fetch(`${url}/v1/documents`, { ...init, signal: AbortSignal.timeout(60_000) });
    const body = (await res.json()) as Answer['body'];
    const answer = { documentId, status: res.status, retryAfter: res.headers.get('retry-after'), body, elapsedMs: Date.now() - started };
    if (res.status === 202) accepted.push(documentId);
    return answer;
  };

  const readiness = async (url = gateway.url) => {
    const started = Date.now();
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(30_000) });
    const body = (await res.json()) as { error?: Record<string, { status: string }>; details?: Record<string, { status: string }> };
    return { status: res.status, kafka: body.details?.kafka?.status, details: body.details, elapsedMs: Date.now() - started };
  };

  const statusOf = async (documentId: string, url = gateway.url) =>
    (await fetch(`${url}/v1/documents/${encodeURIComponent(documentId)}`)).status;

  /** Both kinds of upload at once, both refused: 503, Retry-After, the common error body, within the bound. */
  const expectRefused = async (into: string[]) => {
    const answers = await Promise.all([upload('json'), upload('multipart')]);
    for (const a of answers) {
      expect({ status: a.status, error: a.body.error }).toEqual({ status: 503, error: 'kafka_unavailable' });
      expect(a.body.message).toMatch(/not accepted because Kafka is unavailable/);
      expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(a.elapsedMs).toBeLessThanOrEqual(PRODUCE_TIMEOUT_MS + MARGIN_MS);
      // Refused means unknown to the gateway: not "accepted".
      expect(await statusOf(a.documentId)).toBe(404);
      into.push(a.documentId);
    }
    return answers.map((a) => a.elapsedMs);
  };

  /** A delete of an accepted document, refused like an upload: its tombstone never got to Kafka. */
  const expectDeleteRefused = async (documentId: string) => {
    const started = Date.now();
    const res = await fetch(`${gateway.url}/v1/documents/${encodeURIComponent(documentId)}`, {
      method: 'DELETE',
      signal: AbortSignal.timeout(60_000),
    });
    const elapsedMs = Date.now() - started;
    const body = (await res.json()) as Answer['body'];
    expect({ status: res.status, error: body.error }).toEqual({ status: 503, error: 'kafka_unavailable' });
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(elapsedMs).toBeLessThanOrEqual(PRODUCE_TIMEOUT_MS + MARGIN_MS);
    refusedDeletes.push(documentId);
    return elapsedMs;
  };

  /** After the broker is back: ready again, then the very next upload is accepted. */
  const expectRecovered = async (backAt: number) => {
    await waitFor('gateway /readyz after the broker is back', async () => (await readiness()).status === 200, 60_000, 500);
    const readyAfterMs = Date.now() - backAt;
    const first = await upload('json');
    expect(first.status).toBe(202);
    const second = await upload('multipart');
    expect(second.status).toBe(202);
    return { readyAfterMs, firstUploadMs: first.elapsedMs };
  };

  beforeAll(async () => {
    await broker.start();
    kafka = new Kafka({ clientId: `test-${id}`, brokers: broker.brokers, logLevel: logLevel.NOTHING });
    await provisionTopics(kafka, topics, {
      partitions: 3,
      replicationFactor: 1,
      dlqRetentionMs: 86_400_000,
      eventsRetentionMs: 86_400_000,
    });
    await provisionSchemas(STACK.registryUrl, topics);
    gateway = await new ServiceProcess('gateway', await freePort(), gatewayEnv()).start();
  });

  afterAll(async () => {
    await lateGateway?.stop();
    await gateway?.stop();
    await broker.stop();
  });

  it('accepts while the broker is up', async () => {
    const answers = [await upload('json'), await upload('multipart')];
    expect(answers.map((a) => a.status)).toEqual([202, 202]);
  });

  it('answers 503 + Retry-After within the bound while the broker is stopped, and 202 again once it is back', async () => {
    await broker.down();
    // The fault is real: nothing listens on the broker's port any more.
    expect(await acceptsConnections(broker.brokers[0])).toBe(false);

    const [refused, deleteMs] = await Promise.all([expectRefused(refusedWhileStopped), expectDeleteRefused(accepted[0])]);
    lastRefusedWhileStoppedAt = Date.now();
    const ready = await readiness();
    expect({ status: ready.status, kafka: ready.kafka }).toEqual({ status: 503, kafka: 'down' });
    expect(ready.details?.registry?.status).toBe('up');
    expect(ready.elapsedMs).toBeLessThanOrEqual(READY_PROBE_MS + MARGIN_MS);

    const backAt = Date.now();
    await broker.up();
    const recovered = await expectRecovered(backAt);
    console.log(
      `broker stopped: uploads refused with 503 after ${refused.join(' and ')} ms, a delete after ${deleteMs} ms, /readyz 503 in ${ready.elapsedMs} ms; ` +
        `after the restart (started in ${Date.now() - backAt} ms in all) ready ${recovered.readyAfterMs} ms after 'up' was called, first upload 202 in ${recovered.firstUploadMs} ms`,
    );
  });

  it('starts a gateway while the broker is stopped: alive, not ready, refusing with 503; ready and accepting once it is back', async () => {
    await broker.down();
    expect(await acceptsConnections(broker.brokers[0])).toBe(false);
    const startedAt = Date.now();
    lateGateway = await new ServiceProcess('gateway', await freePort(), gatewayEnv(), 1).start(false);
    const late = lateGateway;
    await waitFor('the gateway started without Kafka to serve /healthz', async () => (await fetch(`${late.url}/healthz`)).ok, 60_000, 250);
    const aliveAfterMs = Date.now() - startedAt;
    const ready = await readiness(late.url);
    expect({ status: ready.status, kafka: ready.kafka }).toEqual({ status: 503, kafka: 'down' });
    const refused = await upload('json', late.url);
    expect({ status: refused.status, error: refused.body.error }).toEqual({ status: 503, error: 'kafka_unavailable' });
    expect(refused.elapsedMs).toBeLessThanOrEqual(PRODUCE_TIMEOUT_MS + MARGIN_MS);
    expect(await statusOf(refused.documentId, late.url)).toBe(404);
    refusedWhileStopped.push(refused.documentId);
    lastRefusedWhileStoppedAt = Date.now();

    await broker.up();
    await waitFor('the late gateway /readyz', async () => (await readiness(late.url)).status === 200, 60_000, 500);
    const accepted = await upload('multipart', late.url);
    expect(accepted.status).toBe(202);
    console.log(
      `gateway started with the broker stopped: /healthz after ${aliveAfterMs} ms, upload refused in ${refused.elapsedMs} ms; ` +
        `after the broker is back, first upload 202 in ${accepted.elapsedMs} ms`,
    );
  });

  it('answers 503 + Retry-After within the bound while the broker is frozen (SIGSTOP), and 202 again after SIGCONT', async () => {
    await broker.freeze();
    try {
      // The fault is real: the broker process is stopped by the kernel, its port still accepts connections.
      expect(broker.processState()).toBe('T');
      expect(await acceptsConnections(broker.brokers[0])).toBe(true);

      const refused = await expectRefused(refusedWhileFrozen);
      const ready = await readiness();
      expect({ status: ready.status, kafka: ready.kafka }).toEqual({ status: 503, kafka: 'down' });
      expect(ready.elapsedMs).toBeLessThanOrEqual(READY_PROBE_MS + MARGIN_MS);
      expect(broker.processState()).toBe('T');

      const thawedAt = Date.now();
      broker.thaw();
      const recovered = await expectRecovered(thawedAt);
      console.log(
        `broker frozen: uploads refused with 503 after ${refused.join(' and ')} ms, /readyz 503 in ${ready.elapsedMs} ms; ` +
          `after SIGCONT ready in ${recovered.readyAfterMs} ms, first upload 202 in ${recovered.firstUploadMs} ms`,
      );
    } finally {
      broker.thaw();
    }
  });

  it('has every accepted document in the documents topic, and nothing refused while the broker was stopped', async () => {
    // Give a refused send every chance to be delivered late by kafkajs' own retries.
    const wait = lastRefusedWhileStoppedAt + KAFKAJS_RETRY_WINDOW_MS - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const documentRecords = await readTopic(kafka, topics.documents);
    const inTopic = new Set(documentRecords.filter((r) => r.value !== null).map((r) => r.key));
    const tombstones = new Set(documentRecords.filter((r) => r.value === null).map((r) => r.key));
    const inEvents = new Set((await readTopic(kafka, topics.events)).map((r) => r.key));
    expect(accepted.filter((d) => !inTopic.has(d))).toEqual([]);
    expect(accepted.filter((d) => !inEvents.has(d))).toEqual([]);
    expect(refusedWhileStopped.filter((d) => inTopic.has(d) || inEvents.has(d))).toEqual([]);
    expect(refusedDeletes.filter((d) => tombstones.has(d))).toEqual([]);
    for (const d of refusedWhileStopped) expect(await statusOf(d)).toBe(404);
    for (const d of accepted) expect(await statusOf(d)).toBe(200);
    // A request already on the wire to the frozen broker may still be written after SIGCONT
    // (README: "Kafka unavailable"); the client's retry with the same documentId/version is idempotent.
    const lateWrites = refusedWhileFrozen.filter((d) => inTopic.has(d));
    console.log(
      `${accepted.length} accepted, all in the topic; ${refusedWhileStopped.length} refused while stopped, none in the topic; ` +
        `${refusedWhileFrozen.length} refused while frozen, ${lateWrites.length} of them written after SIGCONT`,
    );
  });
});
