import { Client } from '@elastic/elasticsearch';
import { KAFKA_CLIENT_RETRY } from '@rag/common';
import { ContractSerde, topicNames, type DocumentSubmitted, type TopicNames } from '@rag/contracts';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { provisionIndex, provisionSchemas, provisionTopics } from '../../tools/provision/provision';
import { STACK, uniqueSuffix } from '@rag/testkit';
import { freePort, ServiceProcess, waitFor, type ServiceName } from '@rag/testkit';

/** What GET /v1/documents/:id answers (the fields tests read). */
export interface StatusAnswer {
  documentId: string;
  version: number;
  status: string;
  chunkCount: number | null;
  indexedChunks: number;
  searchableVersion: number | null;
  failures: { stage: string; reason: string }[];
  history: { version: number; status: string }[];
  timings: { chunkingMs: number | null; indexingMs: number | null; totalMs: number | null };
  currentVersion?: number;
}

export interface SearchHitAnswer {
  chunkId: string;
  documentId: string;
  version: number;
  chunkIndex: number;
  text: string;
  heading: string | null;
  headings: string[];
  pageStart: number | null;
  pageEnd: number | null;
  slideStart: number | null;
  slideEnd: number | null;
  sheet: string | null;
  score: number;
  metadata: Record<string, string>;
}

export interface PipelineOptions {
  partitions?: number;
  /** Kafka to run against (default: the local stack's), e.g. a 3-broker cluster of its own. */
  brokers?: string[];
  /** Replication factor of the pipeline's topics (default 1, the single-broker stack). */
  replicationFactor?: number;
  dimensions?: number;
  /** Extra environment for every service, or per service. */
  env?: Record<string, string>;
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
}

/**
 * The whole pipeline on the local stack, isolated per test suite: its own topic prefix,
 * consumer groups and index alias, with the four services as separate processes.
 */
export class Pipeline {
  readonly id = uniqueSuffix();
  readonly prefix = `t${this.id}`;
  readonly alias = `rag-chunks-${this.id}`;
  readonly registryAlias = `rag-documents-${this.id}`;
  readonly topics: TopicNames;
  readonly es = new Client({ node: STACK.elasticsearchUrl });
  readonly brokers: string[];
  readonly kafka: Kafka;
  readonly services = new Map<string, ServiceProcess>();
  private producer?: Producer;
  private producerReady?: Promise<{ producer: Producer; serde: ContractSerde }>;

  constructor(readonly options: PipelineOptions = {}) {
    // Topic names derive from the retry tiers, so tiers are set for every service (options.env) or none.
    const tiers = options.env?.RETRY_TIERS_MS?.split(',').map(Number);
    this.topics = topicNames(this.prefix, tiers);
    this.brokers = options.brokers ?? STACK.brokers;
    // As patient as the services' clients: a broker restart or leader fail-over takes seconds.
    this.kafka = new Kafka({
      clientId: `test-${this.id}`,
      brokers: this.brokers,
      logLevel: logLevel.NOTHING,
      retry: KAFKA_CLIENT_RETRY,
    });
  }

  get dimensions(): number {
    return this.options.dimensions ?? 384;
  }

  baseEnv(): Record<string, string> {
    return {
      KAFKA_BROKERS: this.brokers.join(','),
      SCHEMA_REGISTRY_URL: STACK.registryUrl,
      ELASTICSEARCH_URL: STACK.elasticsearchUrl,
      TOPIC_PREFIX: this.prefix,
      ES_INDEX_ALIAS: this.alias,
      ES_REGISTRY_ALIAS: this.registryAlias,
      REGISTRY_GROUP_ID: `rag-registry-${this.id}`,
      EMBEDDING_DIMENSIONS: String(this.dimensions),
      LOG_LEVEL: 'info',
      ...this.options.env,
    };
  }

  async provision(): Promise<void> {
    await provisionTopics(this.kafka, this.topics, {
      partitions: this.options.partitions ?? 3,
      replicationFactor: this.options.replicationFactor ?? 1,
      dlqRetentionMs: 7 * 86_400_000,
      eventsRetentionMs: 86_400_000,
    });
    await provisionSchemas(STACK.registryUrl, this.topics);
    await provisionIndex(this.es, this.alias, this.dimensions, this.registryAlias);
  }

  async start(names: ServiceName[] = ['indexer', 'embedder', 'chunker', 'gateway']): Promise<this> {
    await this.provision();
    await Promise.all(names.map((name) => this.startService(name)));
    return this;
  }

  async startService(name: ServiceName, instance = 0, env: Record<string, string> = {}): Promise<ServiceProcess> {
    // Own consumer groups too: two pipelines on one broker must never share a group.
    const groupId = { KAFKA_GROUP_ID: `rag-${name}-${this.id}` };
    const service = new ServiceProcess(
      name,
      await freePort(),
      { ...this.baseEnv(), ...groupId, ...this.options.serviceEnv?.[name], ...env },
      instance,
    );
    this.services.set(`${name}#${instance}`, service);
    return service.start();
  }

  service(name: ServiceName, instance = 0): ServiceProcess {
    const s = this.services.get(`${name}#${instance}`);
    if (!s) throw new Error(`${name}#${instance} not started`);
    return s;
  }

  get gatewayUrl(): string {
    return this.service('gateway').url;
  }

  /** Produces a document straight to the input topic, as another system with a registry serializer would. */
  async produceDocument(doc: DocumentSubmitted): Promise<void> {
    const { producer, serde } = await this.connectProducer();
    await producer.send({
      topic: this.topics.documents,
      acks: -1,
      messages: [{ key: doc.documentId, value: serde.encode('DocumentSubmitted', doc) }],
    });
  }

  /** A plain-text document produced straight to the input topic. */
  async submitText(documentId: string, text: string): Promise<void> {
    await this.produceDocument({
      documentId,
      version: 1,
      title: documentId,
      contentType: 'text/plain',
      content: Buffer.from(text),
      source: 'test',
      metadata: {},
      submittedAt: Date.now(),
    });
  }

  /**
   * Every document is in the index with exactly the chunk count its CHUNKED event announced,
   * and no (document, chunk index) is stored twice. Returns the total number of chunks.
   */
  async expectIndexedExactlyOnce(documentIds: string[]): Promise<number> {
    const counts = await this.chunkCounts();
    let total = 0;
    for (const id of documentIds) {
      const status = await this.status(id);
      expect(status?.chunkCount).toBeGreaterThan(0);
      expect({ id, indexed: counts.get(id) }).toEqual({ id, indexed: status!.chunkCount });
      total += status!.chunkCount!;
    }
    expect(await this.duplicateChunks()).toEqual([]);
    return total;
  }

  async produceRaw(topic: string, key: string, value: Buffer): Promise<void> {
    const { producer } = await this.connectProducer();
    await producer.send({ topic, acks: -1, messages: [{ key, value }] });
  }

  /** One producer per pipeline, connected once even when called concurrently. */
  private connectProducer(): Promise<{ producer: Producer; serde: ContractSerde }> {
    this.producerReady ??= (async () => {
      const serde = ContractSerde.connect(STACK.registryUrl);
      await serde.registerWriter('DocumentSubmitted', this.topics.documents);
      this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await this.producer.connect();
      return { producer: this.producer, serde };
    })();
    return this.producerReady;
  }

  async refresh(): Promise<void> {
    await this.es.indices.refresh({ index: this.alias });
  }

  /** Chunks in the index per document id (after a refresh). */
  async chunkCounts(): Promise<Map<string, number>> {
    await this.refresh();
    const res = await this.es.search({
      index: this.alias,
      size: 0,
      aggs: { docs: { terms: { field: 'documentId', size: 10_000 } } },
    });
    const buckets = (res.aggregations?.docs as { buckets: { key: string; doc_count: number }[] }).buckets;
    return new Map(buckets.map((b) => [b.key, b.doc_count]));
  }

  async totalChunks(): Promise<number> {
    await this.refresh();
    return (await this.es.count({ index: this.alias })).count;
  }

  /** (documentId, chunkIndex) pairs stored more than once: must always be empty. */
  async duplicateChunks(): Promise<string[]> {
    await this.refresh();
    const res = await this.es.search({
      index: this.alias,
      size: 0,
      aggs: {
        docs: {
          terms: { field: 'documentId', size: 10_000 },
          aggs: { dup: { terms: { field: 'chunkIndex', size: 10_000, min_doc_count: 2 } } },
        },
      },
    });
    const docs = (res.aggregations?.docs as { buckets: { key: string; dup: { buckets: { key: number }[] } }[] }).buckets;
    return docs.flatMap((d) => d.dup.buckets.map((b) => `${d.key}#${b.key}`));
  }

  async status(documentId: string, version?: number): Promise<StatusAnswer | undefined> {
    const query = version === undefined ? '' : `?version=${version}`;
    const res = await fetch(`${this.gatewayUrl}/v1/documents/${encodeURIComponent(documentId)}${query}`);
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`status of ${documentId}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as StatusAnswer;
  }

  /** POST /v1/search; the hits. */
  async search(body: { query: string; k?: number; hybrid?: boolean; filter?: object }): Promise<SearchHitAnswer[]> {
    const res = await fetch(`${this.gatewayUrl}/v1/search`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`search: HTTP ${res.status} ${await res.text()}`);
    return ((await res.json()) as { hits: SearchHitAnswer[] }).hits;
  }

  /** A Kafka tombstone (null value) for the document, as any producer would send to delete it. */
  async produceTombstone(documentId: string): Promise<void> {
    const { producer } = await this.connectProducer();
    await producer.send({ topic: this.topics.documents, acks: -1, messages: [{ key: documentId, value: null }] });
  }

  /**
   * Chunks per version of one document as a search sees them now: no refresh, so this is what a
   * user's search would find at this moment.
   */
  async searchableChunksByVersion(documentId: string): Promise<Map<number, number>> {
    const res = await this.es.search({
      index: this.alias,
      size: 0,
      query: { term: { documentId } },
      aggs: { versions: { terms: { field: 'version', size: 100 } } },
    });
    const buckets = (res.aggregations?.versions as { buckets: { key: number; doc_count: number }[] }).buckets;
    return new Map(buckets.map((b) => [b.key, b.doc_count]));
  }

  /** Every consumer group of the pipeline has committed up to the end of its topics. */
  async waitForIdle(timeoutMs = 120_000): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    const groups: [string, string[]][] = [
      [`rag-chunker-${this.id}`, [this.topics.documents]],
      [`rag-embedder-${this.id}`, [this.topics.chunks]],
      [`rag-indexer-${this.id}`, [this.topics.embeddings]],
      [`rag-registry-${this.id}`, [this.topics.events]],
    ];
    try {
      await waitFor(
        'the pipeline to be idle',
        async () => {
          for (const [groupId, topics] of groups) {
            for (const topic of topics) {
              const ends = await admin.fetchTopicOffsets(topic);
              const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
              for (const end of ends) {
                const at = committed.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
                const done = BigInt(end.high) === BigInt(end.low) || BigInt(at) >= BigInt(end.high);
                if (!done) return false;
              }
            }
          }
          return true;
        },
        timeoutMs,
        250,
      );
    } finally {
      await admin.disconnect();
    }
  }

  async waitForStatus(documentIds: string[], wanted: string, timeoutMs = 120_000): Promise<void> {
    const pending = new Set(documentIds);
    const last = new Map<string, string>();
    try {
      await waitFor(
        `${pending.size} documents to be ${wanted}`,
        async () => {
          for (const id of [...pending]) {
            const s = await this.status(id);
            last.set(id, s?.status ?? 'unknown');
            if (s?.status === wanted) pending.delete(id);
          }
          return pending.size === 0;
        },
        timeoutMs,
        500,
      );
    } catch (error) {
      // Say where the stragglers are and what the services last complained about: a CI log is
      // often all there is to go on.
      const byStatus = new Map<string, number>();
      for (const id of pending) byStatus.set(last.get(id) ?? 'unknown', (byStatus.get(last.get(id) ?? 'unknown') ?? 0) + 1);
      const stuck = [...byStatus].map(([status, n]) => `${n} ${status}`).join(', ');
      throw new Error(`${(error as Error).message}\nstill waiting: ${stuck} (e.g. ${[...pending].slice(0, 3).join(', ')})\n${this.recentComplaints()}`);
    }
  }

  /** The last warnings and errors each service logged (tests print them when a wait times out). */
  recentComplaints(perService = 6): string {
    const lines: string[] = [];
    for (const [key, service] of this.services) {
      const complaints = service.recentLogLines(perService, (entry) => entry.level === 'warn' || entry.level === 'error' || Number(entry.level) >= 40);
      lines.push(`${key} (${service.logFile}):`, ...complaints.map((l) => `  ${l}`));
    }
    return lines.join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all([...this.services.values()].map((s) => s.stop()));
    await this.producer?.disconnect();
    await this.es.close();
  }
}
