import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { loadSchema, valueSubject, type DocumentSubmitted } from '@rag/contracts';
import avro from 'avsc';
import { seededRandom, textDocument } from '@rag/testkit';
import { topicSize } from '../../support/dlq';
import { STACK } from '@rag/testkit';
import { scrape, sumMetric } from '@rag/testkit';
import { Pipeline } from '../../support/pipeline';
import { waitFor } from '@rag/testkit';
import { stack } from '../../support/stack';

/**
 * Scenario 5: the schema registry, then the Kafka broker, restarted while documents stream
 * through. The services reconnect on their own; nothing is lost, duplicated or dead-lettered.
 *
 * The registry outage must really reach the services: records written with a schema version
 * registered just before the outage (an added optional field, as another producer's newer
 * serializer would write) carry a schema id no stage has cached, so the chunker has to ask the
 * registry, fails while it is down, and retries; the test waits until it has seen that happen.
 */
describe('schema registry and broker restarts', () => {
  const pipeline = new Pipeline({ partitions: 2 });
  const random = seededRandom(5);
  let produced: string[] = [];
  let sequence = 0;

  const submitBatch = async (label: string, n: number) => {
    for (let i = 0; i < n; i++) {
      const id = `${label}-${pipeline.id}-${sequence++}`;
      await pipeline.submitText(id, textDocument(random, 3_000, `marker ${id}`));
      produced.push(id);
    }
  };

  beforeAll(async () => {
    await pipeline.start(['indexer', 'embedder', 'chunker', 'gateway']);
  });

  afterAll(async () => {
    await pipeline.stop();
  });

  const verify = async (what: string, restartedAt: number) => {
    await pipeline.waitForStatus(produced, 'indexed', 240_000);
    const expected = await pipeline.expectIndexedExactlyOnce(produced);
    for (const s of ['chunker', 'embedder', 'indexer'] as const) expect(await topicSize(pipeline.kafka, pipeline.topics.dlq(s))).toBe(0);
    console.log(
      `${what}: ${produced.length} documents, ${expected} chunks indexed, 0 duplicates, 0 dead-lettered, all indexed ${((Date.now() - restartedAt) / 1000).toFixed(1)} s after the restart; ${await rebuilds()}`,
    );
  };

  /** Which consumers the services rebuilt so far (kafkajs gave up on them, or they stalled): the recovery path taken. */
  const rebuilds = async () => {
    const counts: string[] = [];
    for (const s of ['chunker', 'embedder', 'indexer'] as const) {
      const metrics = await scrape(pipeline.service(s).url);
      counts.push(`${s} ${sumMetric(metrics, 'rag_stage_consumer_rebuilds_total', { stage: s })}`);
      if (s === 'indexer') counts.push(`registry projector ${sumMetric(metrics, 'rag_registry_consumer_rebuilds_total')}`);
    }
    return `consumer rebuilds: ${counts.join(', ')}`;
  };

  it('survives a schema registry outage mid-stream, having tried the registry during it', async () => {
    await submitBatch('reg', 30);
    // A newer writer schema of the input contract, registered now and so unknown to every stage.
    const base = loadSchema('DocumentSubmitted') as unknown as { fields: object[] };
    const newer = { ...base, fields: [...base.fields, { name: 'outageNote', type: ['null', 'string'], default: null }] };
    const registry = new SchemaRegistry({ host: STACK.registryUrl });
    const { id: newerId } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(newer) },
      { subject: valueSubject(pipeline.topics.documents) },
    );
    const newerType = avro.Type.forSchema(newer as avro.Schema);
    const chunker = pipeline.service('chunker');
    const retriedBefore = sumMetric(await scrape(chunker.url), 'rag_stage_records_total', { stage: 'chunker', outcome: 'retried' });

    await stack('down', 'registry');
    for (let i = 0; i < 20; i++) {
      const documentId = `reg-outage-${pipeline.id}-${sequence++}`;
      const doc: DocumentSubmitted & { outageNote: string } = {
        documentId,
        version: 1,
        title: documentId,
        contentType: 'text/plain',
        content: Buffer.from(textDocument(random, 3_000, `marker ${documentId}`)),
        source: 'test',
        metadata: {},
        submittedAt: Date.now(),
        outageNote: 'written with a schema version registered just before the outage',
      };
      const header = Buffer.alloc(5);
      header.writeInt32BE(newerId, 1);
      await pipeline.produceRaw(pipeline.topics.documents, documentId, Buffer.concat([header, newerType.toBuffer(doc)]));
      produced.push(documentId);
    }
    // The fault reached the pipeline: the chunker asked the registry for the new id, failed, retried.
    const retried = await waitFor(
      'the chunker to fail on the unreachable registry and retry',
      async () => {
        const n = sumMetric(await scrape(chunker.url), 'rag_stage_records_total', { stage: 'chunker', outcome: 'retried' }) - retriedBefore;
        return n > 0 && n;
      },
      60_000,
      500,
    );
    const restartedAt = Date.now();
    await stack('up', 'registry');
    console.log(`registry outage: ${retried} records with schema id ${newerId} retried by the chunker while the registry was down`);
    await submitBatch('reg-after', 10);
    await verify('registry outage', restartedAt);
  }, 360_000);

  it('survives a Kafka broker restart mid-stream', async () => {
    produced = [];
    await submitBatch('broker', 30);
    const restartedAt = Date.now();
    await stack('restart', 'kafka');
    const backAt = Date.now();
    // The test's own producer reconnects too (kafkajs retries).
    await submitBatch('broker-after', 20);
    console.log(
      `broker restart: down and up in ${((backAt - restartedAt) / 1000).toFixed(1)} s; 20 more documents produced ${((Date.now() - backAt) / 1000).toFixed(1)} s after it was back`,
    );
    await verify('broker restart', restartedAt);
  }, 420_000);
});
