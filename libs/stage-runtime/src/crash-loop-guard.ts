import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { settleWithin, within } from './deadline';

/**
 * Written as the metadata of the committed offset just before a slice is handed to the handler,
 * and cleared by the commit after it: finding it again on (re)start, at the offset consumption
 * resumes from, means the process died while handling that slice.
 */
export interface SliceMarker {
  /** First and last offset of the slice. */
  first: string;
  last: string;
  /** How many times a slice starting at `first` has been begun. */
  attempt: number;
  /**
   * Consumer group member that wrote it. A marker left by a member that is still alive (its
   * slices in flight were dropped by a rebalance, or its consumer was rebuilt) is no death.
   */
  owner?: string;
}

/** `suspect`: the slice is part of one that died; it must run alone (nothing else of its partition in flight). */
export type SlicePlan =
  { action: 'handle'; records: number; marker: SliceMarker; suspect: boolean } | { action: 'dead-letter'; deaths: number };

export interface SlicePlanInput {
  /** Offsets of the fetched records not handled yet, in order. */
  offsets: string[];
  /** The marker found at the committed offset, if any. */
  marker?: SliceMarker;
  /** Last offset of a slice that died: records up to it are handled one at a time. */
  suspectUntil?: bigint;
  maxRecords: number;
  maxDeaths: number;
}

/**
 * Decides what to do with the records at the head of a partition. Normally: a slice of up to
 * `maxRecords`. After a death inside a slice, its records are handled one at a time, so the
 * record that kills the process is found; once the same record, alone, has died `maxDeaths`
 * times, it is dead-lettered instead of handled again.
 */
export function planSlice({ offsets, marker, suspectUntil, maxRecords, maxDeaths }: SlicePlanInput): SlicePlan {
  const first = offsets[0];
  const died = marker !== undefined && marker.first === first ? marker : undefined;
  if (died && died.first === died.last && died.attempt >= maxDeaths) return { action: 'dead-letter', deaths: died.attempt };
  const suspect = died !== undefined || (suspectUntil !== undefined && BigInt(first) <= suspectUntil);
  const records = suspect ? 1 : Math.min(maxRecords, offsets.length);
  return { action: 'handle', records, suspect, marker: { first, last: offsets[records - 1], attempt: (died?.attempt ?? 0) + 1 } };
}

/** How the runtime names a topic partition in its maps. */
export const partitionKey = (topic: string, partition: number): string => `${topic}:${partition}`;

const MARKER_PREFIX = 'rag-slice-in-flight:';
/** Reading the markers blocks the partition's next slice: a hung admin call must not block it for good. */
const ADMIN_CALL_TIMEOUT_MS = 15_000;

export function encodeMarker(marker: SliceMarker): string {
  return MARKER_PREFIX + JSON.stringify(marker);
}

export function decodeMarker(metadata: string | null | undefined): SliceMarker | undefined {
  if (!metadata?.startsWith(MARKER_PREFIX)) return undefined;
  try {
    const m = JSON.parse(metadata.slice(MARKER_PREFIX.length)) as Partial<SliceMarker>;
    if (typeof m.first === 'string' && typeof m.last === 'string' && typeof m.attempt === 'number') {
      return { first: m.first, last: m.last, attempt: m.attempt, ...(typeof m.owner === 'string' && { owner: m.owner }) };
    }
  } catch {
    // Someone else's metadata: not ours to interpret.
  }
  return undefined;
}

interface PartitionState {
  marker?: SliceMarker;
  suspectUntil?: bigint;
}

/**
 * Guards a stage against a record that crashes the process whatever the handler does (an
 * abort in native code, a heap exhausted outside the parse workers): the state lives in Kafka
 * (commit metadata of the consumer group), so it survives the process and follows the
 * partition to whichever instance gets it next.
 */
export class CrashLoopGuard {
  private readonly partitions = new Map<string, PartitionState>();
  private admin?: Admin;
  private adminReady?: Promise<void>;
  /** Every member id this process has had (a rebuilt consumer joins as a new member). */
  private readonly ownMembers = new Set<string>();
  private member?: string;

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
    private readonly maxRecords: number,
    private readonly maxDeaths: number,
    private readonly logger: Logger,
  ) {}

  /**
   * After a rebalance a partition may come back from an instance that died on it: reread its
   * marker. `member` is this consumer's id in the group now; markers name their writer.
   */
  forget(member?: string): void {
    this.partitions.clear();
    if (member) {
      this.member = member;
      this.ownMembers.add(member);
    }
  }

  /** The marker to commit for slices in flight: names this member, so a rebalance is not taken for a death. */
  markerOf(range: Omit<SliceMarker, 'owner'>): SliceMarker {
    return { ...range, ...(this.member && { owner: this.member }) };
  }

  /**
   * Plans the next slice. The caller records it as in flight (commit metadata, see encodeMarker)
   * before its handler runs, and clears that with the slice's own commit.
   */
  async plan(topic: string, partition: number, offsets: string[]): Promise<SlicePlan> {
    const state = await this.state(topic, partition);
    const plan = planSlice({
      offsets,
      marker: state.marker,
      suspectUntil: state.suspectUntil,
      maxRecords: this.maxRecords,
      maxDeaths: this.maxDeaths,
    });
    if (plan.action === 'dead-letter') {
      this.logger.error(
        { topic, partition, offset: offsets[0], deaths: plan.deaths },
        'record keeps crashing the stage; dead-lettering it',
      );
      return plan;
    }
    if (state.marker?.first === plan.marker.first) {
      this.logger.warn(
        { topic, partition, died: state.marker },
        'the process died handling this slice; handling its records one at a time',
      );
      const last = BigInt(state.marker.last);
      state.suspectUntil = state.suspectUntil === undefined || last > state.suspectUntil ? last : state.suspectUntil;
    }
    state.marker = plan.marker;
    return plan;
  }

  /**
   * The slice's own commit (without metadata) cleared the marker, or the slice failed while the
   * process lives on (Kafka refused its outputs or commit): fetched again, it is no death.
   */
  finished(topic: string, partition: number): void {
    const state = this.partitions.get(partitionKey(topic, partition));
    if (state) state.marker = undefined;
  }

  async stop(): Promise<void> {
    await this.admin?.disconnect();
  }

  /** Members of the group now, and every member id this process has had. */
  private async liveMembers(admin: Admin): Promise<Set<string>> {
    const alive = new Set(this.ownMembers);
    try {
      const { groups } = await within(admin.describeGroups([this.groupId]), ADMIN_CALL_TIMEOUT_MS, 'listing the group members');
      for (const m of groups[0]?.members ?? []) alive.add(m.memberId);
    } catch (err) {
      // Unknown: markers of other members count as deaths, as without owners.
      this.logger.warn({ err }, 'could not list the group members; slice markers of other members count as deaths');
      this.dropAdmin(admin);
    }
    return alive;
  }

  /**
   * The admin client, connected. One that failed or hung is dropped (after a broker restart one
   * was seen answering nothing) and the next call makes a new one, so a rebuilt consumer does not
   * wait on the same broken client.
   */
  private async connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      this.admin = admin;
      this.adminReady = within(admin.connect(), ADMIN_CALL_TIMEOUT_MS, 'connecting the admin client').catch((err: unknown) => {
        this.dropAdmin(admin);
        throw err;
      });
    }
    const admin = this.admin;
    await this.adminReady;
    return admin;
  }

  private dropAdmin(admin: Admin): void {
    if (this.admin === admin) this.admin = undefined;
    void settleWithin(admin.disconnect(), 5_000);
  }

  /** Throws if the markers cannot be read: the slice is not started, and kafkajs fetches it again. */
  private async state(topic: string, partition: number): Promise<PartitionState> {
    const key = partitionKey(topic, partition);
    let state = this.partitions.get(key);
    if (!state) {
      const admin = await this.connectedAdmin();
      const [committed] = await within(
        admin.fetchOffsets({ groupId: this.groupId, topics: [topic] }),
        ADMIN_CALL_TIMEOUT_MS,
        'reading the slice markers',
      ).catch((err: unknown) => {
        this.dropAdmin(admin);
        throw err;
      });
      const markers = (committed?.partitions ?? []).map((p) => ({
        key: partitionKey(topic, p.partition),
        marker: decodeMarker(p.metadata),
      }));
      const alive = markers.some(({ marker }) => marker?.owner !== undefined) ? await this.liveMembers(admin) : new Set<string>();
      for (const { key: k, marker } of markers) {
        if (this.partitions.has(k)) continue;
        const ownerAlive = marker?.owner !== undefined && alive.has(marker.owner);
        if (ownerAlive) this.logger.info({ topic, marker }, 'slices in flight when the partition moved from a live member: not a death');
        this.partitions.set(k, { marker: ownerAlive ? undefined : marker });
      }
      state = this.partitions.get(key) ?? { marker: undefined };
      this.partitions.set(key, state);
    }
    return state;
  }
}
