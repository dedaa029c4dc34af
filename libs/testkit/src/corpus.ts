/** Seeded text generation, so tests and benchmarks are repeatable. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    // xorshift32
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
}

const WORDS = (
  'stream partition offset broker consumer producer vector index search chunk token embedding ' +
  'latency throughput replica leader follower commit retry backoff schema registry avro record ' +
  'document gateway cluster shard segment merge refresh query filter score neighbour graph ' +
  'river mountain harbour lantern orchard meadow glacier canyon prairie lagoon summit valley ' +
  'violin cello trumpet sonata rhythm melody chorus tempo anthem ballad opera harmony ' +
  'copper silver nickel cobalt quartz granite marble basalt obsidian amber coral ivory'
).split(' ');

export function sentence(random: () => number, words = 8 + Math.floor(random() * 10)): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(WORDS[Math.floor(random() * WORDS.length)]);
  const s = out.join(' ');
  return `${s[0].toUpperCase()}${s.slice(1)}.`;
}

export function paragraph(random: () => number, sentences = 3 + Math.floor(random() * 5)): string {
  return Array.from({ length: sentences }, () => sentence(random)).join(' ');
}

/** A made-up phrase that appears nowhere else, for "find this document" assertions. */
export function distinctivePhrase(random: () => number): string {
  const syllables = ['zor', 'blax', 'quin', 'tess', 'vorn', 'drel', 'mik', 'sar', 'poth', 'yul', 'fen', 'garr'];
  const word = () => Array.from({ length: 4 }, () => syllables[Math.floor(random() * syllables.length)]).join('');
  return `${word()} ${word()} ${word()}`;
}

/** A plain-text body of roughly `bytes` bytes with `phrase` in its middle. */
export function textDocument(random: () => number, bytes: number, phrase: string): string {
  const paragraphs: string[] = [];
  let size = 0;
  let placed = false;
  while (size < bytes) {
    let p = paragraph(random);
    if (!placed && size >= bytes / 2) {
      p = `${p} The key phrase is ${phrase}.`;
      placed = true;
    }
    paragraphs.push(p);
    size += p.length + 2;
  }
  if (!placed) paragraphs.push(`The key phrase is ${phrase}.`);
  return paragraphs.join('\n\n');
}
