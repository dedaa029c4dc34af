import type { Message, TopicMessages } from 'kafkajs';

/** Below the broker's default message.max.bytes (1,048,588) with room for record overhead. */
export const PRODUCE_REQUEST_MAX_BYTES = 900_000;

/** Per record in a batch: length, attributes, timestamp and offset deltas, key/value lengths (varints). */
const RECORD_OVERHEAD_BYTES = 64;
/** Per header: its key and value length varints. */
const HEADER_OVERHEAD_BYTES = 10;
/** The record batch header (v2), paid once per batch. */
export const RECORD_BATCH_HEADER_BYTES = 61;

const sizeOf = (v: Buffer | string | null | undefined): number => (v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length);

/** What a message adds to a record batch: an upper bound of its uncompressed size. */
export function messageBytes(m: Message): number {
  let headers = 0;
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    headers += Buffer.byteLength(k) + sizeOf(v as Buffer | string | undefined) + HEADER_OVERHEAD_BYTES;
  }
  return sizeOf(m.key) + sizeOf(m.value) + headers + RECORD_OVERHEAD_BYTES;
}

/** Size of the batch a message makes when it travels alone: what the broker compares with max.message.bytes. */
export const singleRecordBatchBytes = (m: Message): number => messageBytes(m) + RECORD_BATCH_HEADER_BYTES;

/**
 * kafkajs puts all messages for one partition of a send into one record batch, and the broker
 * rejects a batch above message.max.bytes as a non-retriable error: a backlog slice (256
 * documents → ~1,700 chunks) would stop the stage. So outgoing messages are cut into requests
 * of bounded size, in order; sent one after another they keep each partition's order. A single
 * message larger than the bound travels alone (the topic's max.message.bytes decides).
 */
export function splitIntoRequests(out: Map<string, Message[]>, maxBytes = PRODUCE_REQUEST_MAX_BYTES): TopicMessages[][] {
  const requests: TopicMessages[][] = [];
  let current = new Map<string, Message[]>();
  let size = 0;
  const flush = () => {
    if (current.size > 0) requests.push([...current].map(([topic, messages]) => ({ topic, messages })));
    current = new Map();
    size = 0;
  };
  for (const [topic, messages] of out) {
    for (const message of messages) {
      const bytes = messageBytes(message);
      if (size > 0 && size + bytes > maxBytes) flush();
      const list = current.get(topic);
      if (list) list.push(message);
      else current.set(topic, [message]);
      size += bytes;
    }
  }
  flush();
  return requests;
}
