import type * as Cl100kModule from 'gpt-tokenizer/cjs/encoding/cl100k_base';

type Cl100k = typeof Cl100kModule;

/** Special-token markers in user text ("<|endoftext|>") are plain text, as the embeddings API treats them. */
const AS_PLAIN_TEXT = { disallowedSpecial: new Set<string>() };
/** BPE cost grows with the square of a run without whitespace (a DNA sequence, a base64 blob). */
const LONG_RUN = 256;
const SEGMENTS = /\S{1,128}|\s+/g;

let encoding: Cl100k | undefined;

/**
 * The cl100k_base vocabulary (~40 MB of tables) is loaded on first use, so services that never
 * count tokens (the gateway, the hashing embedder) do not carry it.
 */
function cl100k(): Cl100k {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deferred load, see above
  encoding ??= require('gpt-tokenizer/cjs/encoding/cl100k_base') as Cl100k;
  return encoding;
}

/**
 * Tokens as OpenAI's embedding models (text-embedding-3-*, ada-002) count them: cl100k_base,
 * through gpt-tokenizer (same ids as tiktoken, an order of magnitude faster than js-tiktoken).
 * Runs without whitespace are encoded in bounded slices, so a hostile input costs linear time.
 */
export const tokenizer = {
  /** Loads the vocabulary now: for a service that counts tokens on every slice, so its first slice does not pay for it. */
  load(): void {
    cl100k();
  },

  encode(text: string): number[] {
    const { encode } = cl100k();
    if (!hasLongRun(text)) return encode(text, AS_PLAIN_TEXT);
    const ids: number[] = [];
    for (const segment of text.match(SEGMENTS) ?? []) for (const id of encode(segment, AS_PLAIN_TEXT)) ids.push(id);
    return ids;
  },

  count(text: string): number {
    if (hasLongRun(text)) return tokenizer.encode(text).length;
    return cl100k().countTokens(text, AS_PLAIN_TEXT);
  },

  /** The token count if it is at most `limit`, else undefined; stops encoding past the limit. */
  countWithin(text: string, limit: number): number | undefined {
    const count = hasLongRun(text) ? tokenizer.encode(text).length : cl100k().isWithinTokenLimit(text, limit, AS_PLAIN_TEXT);
    return count !== false && count <= limit ? count : undefined;
  },

  decode(ids: number[]): string {
    return cl100k().decode(ids);
  },
};

/**
 * Whether `text` has LONG_RUN characters in a row without ASCII whitespace: one linear pass
 * (the regex /\S{256}/ rescans each run from every position). Other Unicode spaces count as
 * run characters, which only sends such text down the (correct) sliced path.
 */
function hasLongRun(text: string): boolean {
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    run = code === 32 || (code >= 9 && code <= 13) ? 0 : run + 1;
    if (run >= LONG_RUN) return true;
  }
  return false;
}
