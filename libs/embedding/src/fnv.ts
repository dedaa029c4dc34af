const FNV_OFFSET = 0x811c9dc5;

/** The FNV-1a state after `text`, without the final mix: lets a key be hashed in parts. */
export function fnv1aUpdate(text: string, state = FNV_OFFSET): number {
  let hash = state >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Final avalanche (murmur3's fmix32), so the low bits used for the bucket are well mixed. */
export function fmix32(state: number): number {
  let hash = state;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b) >>> 0;
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35) >>> 0;
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** 32-bit FNV-1a over the UTF-16 code units of a string: fast, well distributed for short keys. */
export function fnv1a32(text: string, seed = FNV_OFFSET): number {
  return fmix32(fnv1aUpdate(text, seed));
}
