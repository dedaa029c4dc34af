import { readFileSync } from 'node:fs';
import type { Admin, Kafka } from 'kafkajs';

/** Committed offset of a consumer group per partition of one topic (-1 when nothing is committed). */
export async function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<Map<number, bigint>> {
  const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map((result?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
}

/** High watermark per partition. */
export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
}

export async function withAdmin<T>(kafka: Kafka, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Polls the group's committed offsets until each of `partitions` has moved past `since`, and
 * returns, per partition, the ms from `t0` to the first poll that saw it move.
 */
export async function timeToProgress(
  admin: Admin,
  groupId: string,
  topic: string,
  partitions: number[],
  since: Map<number, bigint>,
  t0: number,
  timeoutMs: number,
  everyMs = 100,
): Promise<Map<number, number>> {
  const moved = new Map<number, number>();
  const deadline = Date.now() + timeoutMs;
  while (moved.size < partitions.length) {
    if (Date.now() > deadline) {
      const stuck = partitions.filter((p) => !moved.has(p));
      throw new Error(`partitions ${stuck.join(',')} of ${topic} made no progress in group ${groupId} within ${timeoutMs} ms`);
    }
    const committed = await committedOffsets(admin, groupId, topic);
    const now = Date.now();
    for (const p of partitions) {
      if (!moved.has(p) && (committed.get(p) ?? -1n) > (since.get(p) ?? -1n)) moved.set(p, now - t0);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return moved;
}

/** The partitions of `topic` a stage instance held, from the last "joined consumer group" line of its log. */
export function assignedPartitions(logFile: string, topic: string): number[] {
  let last: number[] = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('joined consumer group')) continue;
    try {
      const entry = JSON.parse(line) as { memberAssignment?: Record<string, number[]> };
      last = entry.memberAssignment?.[topic] ?? [];
    } catch {
      // a partial last line
    }
  }
  return last;
}
