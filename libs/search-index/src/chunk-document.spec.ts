import { roundVector } from './chunk-document';

describe('roundVector', () => {
  it('keeps every component within 5e-7 and prints it in at most 9 characters', () => {
    const vector = Array.from(new Float32Array(Array.from({ length: 384 }, (_, i) => Math.sin(i * 1.7) / 19.6)));
    const rounded = roundVector(vector);
    expect(rounded).toHaveLength(384);
    for (let i = 0; i < vector.length; i++) expect(Math.abs(rounded[i] - vector[i])).toBeLessThanOrEqual(5e-7 + 1e-12);
    expect(Math.max(...rounded.map((v) => JSON.stringify(v).length))).toBeLessThanOrEqual(9);
    expect(JSON.stringify(rounded).length).toBeLessThan(0.65 * JSON.stringify(vector).length);
  });

  it('leaves cosine similarity unchanged to 1e-5', () => {
    const a = Array.from({ length: 1536 }, (_, i) => Math.cos(i * 0.37) / 27.7);
    const b = Array.from({ length: 1536 }, (_, i) => Math.cos(i * 0.41 + 1) / 27.7);
    const cosine = (x: number[], y: number[]) => {
      let dot = 0;
      let nx = 0;
      let ny = 0;
      for (let i = 0; i < x.length; i++) {
        dot += x[i] * y[i];
        nx += x[i] * x[i];
        ny += y[i] * y[i];
      }
      return dot / Math.sqrt(nx * ny);
    };
    expect(Math.abs(cosine(roundVector(a), roundVector(b)) - cosine(a, b))).toBeLessThan(1e-5);
  });
});
