import { submitSchemas } from './submit-document.dto';

const { json, form } = submitSchemas({ maxEntries: 3, maxKeyBytes: 8, maxValueBytes: 16 });
const messages = (result: { success: boolean; error?: { issues: { path: (string | number)[]; message: string }[] } }) =>
  (result.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);

describe('submit schemas: metadata bounds', () => {
  it('accepts metadata inside the bounds, numbers and booleans as strings', () => {
    const result = json.safeParse({ text: 'x', metadata: { team: 'search', n: 3, ok: true } });
    expect(result.success && result.data.metadata).toEqual({ team: 'search', n: '3', ok: 'true' });
  });

  it('rejects too many entries, a long key and a long value, naming the limit and the variable', () => {
    expect(messages(json.safeParse({ text: 'x', metadata: { a: '1', b: '2', c: '3', d: '4' } }))).toEqual([
      'metadata: 4 entries, the limit is 3 (MAX_METADATA_ENTRIES)',
    ]);
    expect(messages(json.safeParse({ text: 'x', metadata: { 'key-of-12-b': 'v' } }))).toEqual([
      'metadata.key-of-12-b: key is 11 bytes, the limit is 8 (MAX_METADATA_KEY_BYTES)',
    ]);
    // Bytes, not characters: 6 × "é" is 12 bytes, 9 is 18.
    expect(json.safeParse({ text: 'x', metadata: { k: 'é'.repeat(8) } }).success).toBe(true);
    expect(messages(json.safeParse({ text: 'x', metadata: { k: 'é'.repeat(9) } }))).toEqual([
      'metadata.k: value is 18 bytes, the limit is 16 (MAX_METADATA_VALUE_BYTES)',
    ]);
  });

  it('applies the same bounds to the metadata field of a multipart upload', () => {
    expect(messages(form.safeParse({ metadata: JSON.stringify({ k: 'x'.repeat(2_000_000) }) }))).toEqual([
      'metadata.k: value is 2000000 bytes, the limit is 16 (MAX_METADATA_VALUE_BYTES)',
    ]);
    expect(messages(form.safeParse({ metadata: '{not json' }))).toEqual(['metadata: metadata must be a JSON object of strings']);
    expect(form.safeParse({ metadata: '{"k":"v"}' }).success).toBe(true);
  });
});
