import { classifyError } from '@rag/common';
import type { Message } from 'kafkajs';
import { errorClassOf } from './failure-headers';
import { singleRecordBatchBytes } from './produce-requests';
import { formatBytes, oversizeOutput, RecordTooLargeError } from './record-limits';

const MIB = 1024 * 1024;
const chunk = (valueBytes: number, headers: Record<string, string> = {}): Message => ({
  key: 'doc-1',
  value: Buffer.alloc(valueBytes),
  headers,
});
const limits: Record<string, number> = { 'ingest.chunks': MIB, 'ingest.events': MIB };
const limitOf = (topic: string) => limits[topic];

describe('oversizeOutput', () => {
  it('lets through outputs that fit their topics', () => {
    const outputs = [
      { topic: 'ingest.chunks', contract: 'Chunk', message: chunk(900 * 1024) },
      { topic: 'ingest.events', contract: 'DocumentEvent', message: chunk(200) },
    ];
    expect(oversizeOutput(outputs, limitOf)).toBeUndefined();
  });

  it('names the first output that does not fit, its size and its topic limit, as a permanent typed error', () => {
    const big = chunk(Math.round(2.1 * MIB));
    const error = oversizeOutput(
      [
        { topic: 'ingest.chunks', contract: 'Chunk', message: chunk(100) },
        { topic: 'ingest.chunks', contract: 'Chunk', message: big },
      ],
      limitOf,
    );
    expect(error).toBeInstanceOf(RecordTooLargeError);
    expect(classifyError(error)).toBe('permanent');
    expect(errorClassOf(error)).toBe('RecordTooLargeError');
    expect(error!.message).toBe(
      `Chunk record of 2.1 MiB (${singleRecordBatchBytes(big)} bytes) exceeds ingest.chunks max.message.bytes 1 MiB (${MIB} bytes)`,
    );
  });

  it('counts key, headers and batch overhead, not only the value', () => {
    const justFits = MIB - singleRecordBatchBytes(chunk(0));
    expect(oversizeOutput([{ topic: 'ingest.chunks', contract: 'Chunk', message: chunk(justFits) }], limitOf)).toBeUndefined();
    expect(oversizeOutput([{ topic: 'ingest.chunks', contract: 'Chunk', message: chunk(justFits + 1) }], limitOf)).toBeDefined();
    const withHeaders = chunk(justFits - 20, { traceparent: '00-0123456789abcdef-01' });
    expect(oversizeOutput([{ topic: 'ingest.chunks', contract: 'Chunk', message: withHeaders }], limitOf)).toBeDefined();
  });
});

describe('formatBytes', () => {
  it('reads like a person would write it', () => {
    expect(formatBytes(16 * MIB)).toBe('16 MiB');
    expect(formatBytes(1.25 * MIB)).toBe('1.3 MiB');
    expect(formatBytes(900 * 1024)).toBe('900 KiB');
    expect(formatBytes(512)).toBe('512 B');
  });
});
