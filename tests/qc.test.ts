// The QC bitmask helpers (processing/retrieval/qc.ts).
import { describe, expect, it } from 'vitest';
import { flagRange, qcNames, QC } from '../processing/retrieval/qc.js';
import { createRng } from '../processing/random.js';

describe('flagRange', () => {
  it('sets the flag on exactly [from, to), bin by bin, at any alignment and length (views into a larger buffer too)', () => {
    const rng = createRng(5);
    for (let trial = 0; trial < 300; trial++) {
      const size = 1 + Math.floor(rng.uniform() * 600);
      const offset = Math.floor(rng.uniform() * 7);
      const whole = Uint8Array.from({ length: size + offset + 5 }, () => Math.floor(rng.uniform() * 256));
      const qc = whole.subarray(offset, offset + size);
      const before = Uint8Array.from(whole);
      const from = Math.floor(rng.uniform() * (size + 10)) - 5;
      const to = from + Math.floor(rng.uniform() * (size + 10));
      const flag = 1 << Math.floor(rng.uniform() * 8) | (rng.uniform() < 0.2 ? QC.CLOUD : 0);
      flagRange(qc, flag, from, to);
      for (let j = 0; j < whole.length; j++) {
        const i = j - offset;
        const inside = i >= 0 && i < size && i >= from && i < to;
        if (whole[j] !== (inside ? before[j] | flag : before[j])) throw new Error(`trial ${trial}: byte ${j} (bin ${i}) is ${whole[j]}, expected ${inside ? before[j] | flag : before[j]} (size ${size}, offset ${offset}, [${from}, ${to}), flag ${flag})`);
      }
    }
  });

  it('runs to the end without `to`', () => {
    const qc = new Uint8Array(200);
    flagRange(qc, QC.LOW_SNR, 3);
    expect(qc[2]).toBe(0);
    expect(qcNames(qc[3])).toEqual(['LOW_SNR']);
    expect(qc.subarray(3).every((v) => v === QC.LOW_SNR)).toBe(true);
  });
});
