import { Headers } from '@rag/contracts';
import type { Kafka } from 'kafkajs';
import { readTopic } from './dlq';
import { committedOffsets, withAdmin } from './offsets';
import type { ServiceProcess } from '@rag/testkit';

/** Output records per consumed record ("topic/partition/offset", from the x-source-* headers). */
export async function outputsBySource(kafka: Kafka, outputTopic: string, sourceTopics: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const record of await readTopic(kafka, outputTopic)) {
    const topic = record.headers[Headers.sourceTopic];
    if (!topic || !sourceTopics.includes(topic)) continue;
    const key = `${topic}/${record.headers[Headers.sourcePartition]}/${record.headers[Headers.sourceOffset]}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * Consumed records whose outputs are already in `outputTopic` but whose offsets the group has
 * not committed: a crash now makes the stage process them again and produce those outputs twice.
 */
export async function producedButNotCommitted(
  kafka: Kafka,
  groupId: string,
  sourceTopics: string[],
  outputTopic: string,
): Promise<Map<string, number>> {
  const committed = await withAdmin(kafka, async (admin) => {
    const byTopic = new Map<string, Map<number, bigint>>();
    for (const topic of sourceTopics) byTopic.set(topic, await committedOffsets(admin, groupId, topic));
    return byTopic;
  });
  const pending = new Map<string, number>();
  for (const [key, n] of await outputsBySource(kafka, outputTopic, sourceTopics)) {
    const [topic, partition, offset] = key.split('/');
    if (BigInt(offset) >= (committed.get(topic)?.get(Number(partition)) ?? -1n)) pending.set(key, n);
  }
  return pending;
}

/**
 * Freezes the stage (SIGSTOP) until `caught` finds it in the state a chaos test wants (for
 * example between producing a slice's outputs and committing its offsets), so a SIGKILL that
 * follows lands exactly there; between tries the process runs on for a moment. Requests the
 * process had already sent when it froze still arrive (a commit on the wire lands), so the state
 * is judged only after they have settled. Returns what `caught` found and the tries it took
 * (nothing found: the process runs again).
 */
export async function freezeWhen<T>(
  service: ServiceProcess,
  caught: () => Promise<T | undefined>,
  maxTries = 300,
  settleMs = 100,
): Promise<{ found?: T; tries: number }> {
  for (let tries = 1; tries <= maxTries; tries++) {
    service.freeze();
    await new Promise((r) => setTimeout(r, settleMs));
    const found = await caught();
    if (found !== undefined) return { found, tries };
    service.resume();
    await new Promise((r) => setTimeout(r, 10 + Math.floor(Math.random() * 100)));
  }
  return { tries: maxTries };
}
