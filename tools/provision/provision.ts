import type { Client } from '@elastic/elasticsearch';
import { registryRequest, type RegistryConnection } from '@rag/common';
import {
  CONSUMER_STAGES,
  ContractSerde,
  DATA_TOPICS,
  FAILURE_HEADROOM_BYTES,
  type DataTopic,
  type TopicNames,
  valueSubject,
} from '@rag/contracts';
import { ensureRegistryIndex } from '@rag/document-registry';
import { ensureChunkIndex, type ChunkIndexSettings } from '@rag/search-index';
import type { Admin, Kafka } from 'kafkajs';

/**
 * max.message.bytes of every topic, chosen (in the pipeline descriptor), not inherited from the
 * broker: a stage's output topic decides which derived records are dead-lettered as too large
 * (the stage runtime reads it), and a stage's retry tiers and DLQ always fit any record its input
 * topic accepted.
 */
export function maxMessageBytesOf(topics: TopicNames): Map<string, number> {
  const sizes = new Map<string, number>(
    Object.entries(DATA_TOPICS).map(([topic, { maxMessageBytes }]) => [topics[topic as DataTopic], maxMessageBytes]),
  );
  for (const stage of CONSUMER_STAGES) {
    const failures = sizes.get(topics.input(stage))! + FAILURE_HEADROOM_BYTES;
    for (const tier of topics.retryTiers(stage)) sizes.set(tier.topic, failures);
    sizes.set(topics.dlq(stage), failures);
  }
  return sizes;
}

export interface ProvisionOptions {
  partitions: number;
  replicationFactor: number;
  /** Retention of dead-letter topics: long, so nothing is lost before someone looks. */
  dlqRetentionMs: number;
  eventsRetentionMs: number;
}

export interface ProvisionReport {
  created: string[];
  existing: string[];
  grown: string[];
  schemas: Record<string, number>;
}

/**
 * Until every partition of `topics` has a leader. In a cluster, the metadata of a topic just
 * created reaches the brokers one by one; meanwhile a broker answers UNKNOWN_TOPIC_OR_PARTITION.
 */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics });
      if (found.length === topics.length && found.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (error) {
      const type = (error as { type?: string }).type;
      if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw error;
    }
    if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} have no leader after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Creates every topic the pipeline uses; leaves existing ones alone (adds partitions if asked for more). */
export async function provisionTopics(kafka: Kafka, topics: TopicNames, opts: ProvisionOptions): Promise<Omit<ProvisionReport, 'schemas'>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = topics.all();
    const missing = wanted.filter((t) => !existing.has(t));
    const sizes = maxMessageBytesOf(topics);
    const dlqs = new Set(CONSUMER_STAGES.map((stage) => topics.dlq(stage)));
    const configFor = (topic: string) => {
      const entries = [{ name: 'min.insync.replicas', value: String(Math.min(2, opts.replicationFactor)) }];
      if (dlqs.has(topic)) entries.push({ name: 'retention.ms', value: String(opts.dlqRetentionMs) });
      if (topic === topics.events) entries.push({ name: 'retention.ms', value: String(opts.eventsRetentionMs) });
      const size = sizes.get(topic);
      if (size !== undefined) entries.push({ name: 'max.message.bytes', value: String(size) });
      return entries;
    };
    if (missing.length > 0) {
      await admin.createTopics({
        // kafkajs' own wait gives up when a broker of a cluster does not know the new topic yet.
        waitForLeaders: false,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: opts.partitions,
          replicationFactor: opts.replicationFactor,
          configEntries: configFor(topic),
        })),
      });
      await waitForLeaders(admin, missing);
    }
    const grown: string[] = [];
    const present = wanted.filter((t) => existing.has(t));
    if (present.length > 0) {
      const metadata = await admin.fetchTopicMetadata({ topics: present });
      const toGrow = metadata.topics.filter((t) => t.partitions.length < opts.partitions);
      if (toGrow.length > 0) {
        await admin.createPartitions({ topicPartitions: toGrow.map((t) => ({ topic: t.name, count: opts.partitions })) });
        grown.push(...toGrow.map((t) => t.name));
      }
    }
    return { created: missing, existing: present, grown };
  } finally {
    await admin.disconnect();
  }
}

/** Sets BACKWARD compatibility on each value subject and registers the contracts' schemas. */
export async function provisionSchemas(registry: string | RegistryConnection, topics: TopicNames): Promise<Record<string, number>> {
  const target: RegistryConnection = typeof registry === 'string' ? { url: registry, autoRegister: true } : registry;
  // Provisioning always registers: the services may run in lookup-only mode.
  const serde = ContractSerde.connect({ ...target, autoRegister: true });
  const contracts = Object.entries(DATA_TOPICS).map(([topic, { contract }]) => [contract, topics[topic as DataTopic]] as const);
  const ids: Record<string, number> = {};
  for (const [contract, topic] of contracts) {
    const subject = valueSubject(topic);
    await setCompatibility(target, subject, 'BACKWARD');
    ids[subject] = await serde.registerWriter(contract, topic);
  }
  return ids;
}

export async function setCompatibility(registry: RegistryConnection, subject: string, level: string): Promise<void> {
  const res = await registryRequest(registry, 'PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: level });
  if (res.status < 200 || res.status >= 300) throw new Error(`setting ${level} on ${subject} failed: HTTP ${res.status} ${res.text}`);
}

/** The chunk index and the document registry index, each behind its alias. */
export async function provisionIndex(
  es: Client,
  alias: string,
  dimensions: number,
  registryAlias: string,
  settings: ChunkIndexSettings = { replicas: 0 },
): Promise<void> {
  await ensureChunkIndex(es, alias, dimensions, settings);
  await ensureRegistryIndex(es, registryAlias, settings.replicas);
}
