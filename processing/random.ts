/**
 * Seeded pseudo-random numbers for noise, Monte Carlo and benchmarks, so runs repeat.
 *
 * - Generator: sfc32 (Chris Doty-Humphrey's "small fast counting" generator, PractRand suite),
 *   state seeded through splitmix32 (a 32-bit variant of Steele, Lea & Flood 2014, "Fast splittable
 *   pseudorandom number generators", OOPSLA) so nearby seeds give unrelated streams.
 * - uniform(): 53 random bits from two 32-bit outputs, in [0, 1).
 * - normal(): Marsaglia & Bray (1964) polar method, the second deviate of each pair is kept.
 * - poissons / normals: many deviates into an array (per-bin noise), the same stream as single calls.
 * - poisson(mean): exact for every mean. mean < 10: multiplication method (Knuth, TAOCP vol. 2,
 *   3.4.1 F); mean >= 10: PTRS transformed rejection with squeeze, Hörmann (1993) "The transformed
 *   rejection method for generating Poisson random variables", Insurance: Mathematics and Economics
 *   12, 39-45 -- O(1) expected time for any mean (tested to 1e9). The acceptance test uses
 *   log p(k) = k ln(mean) - mean - ln k! written as k log1p((mean-k)/k) + (k-mean) - Stirling terms,
 *   which stays accurate to ~1e-10 even at mean ~1e9 (no cancellation of 2e10-sized terms).
 */
import { LidarError } from './errors.js';

export interface Rng {
  /** Uniform deviate in [0, 1). */
  uniform(): number;
  /** Standard normal deviate N(0, 1). */
  normal(): number;
  /** Poisson deviate: an integer >= 0. mean 0 gives 0; NaN, negative or infinite mean throws. */
  poisson(mean: number): number;
  /**
   * out[i] = poisson(means[i]) for i in [0, n), the same draws as n calls in order. For per-bin noise:
   * the loop runs inside the generator, so no deviate crosses a call boundary (where a double is boxed).
   */
  poissons(means: ArrayLike<number>, out: Float64Array, n: number): void;
  /** out[i] = normal() for i in [0, n), the same draws as n calls in order (see `poissons`). */
  normals(out: Float64Array, n: number): void;
}

const TWO_POW_M53 = 1 / 9007199254740992; // 2^-53
/** Below this mean the multiplication method (mean + 1 uniforms expected) is used. */
const PTRS_MIN_MEAN = 10;

/** ln(k!) for k = 0..9, used where the Stirling series is not accurate enough. */
const LOG_FACTORIAL_SMALL = (() => {
  const t = new Float64Array(10);
  for (let k = 2; k < 10; k++) t[k] = t[k - 1] + Math.log(k);
  return t;
})();

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);


/**
 * The generator behind `createRng`, written so that no double crosses a call that the compiler might
 * not inline (a returned double is then boxed: an allocation per deviate). Closures were not inlined
 * into their callers under tsx (its keepNames `__name` wrapper hides which function a call reaches:
 * ~24 KiB per Monte Carlo realisation), and a method deep in a large caller can miss the inlining
 * budget. So: the state in typed arrays (32-bit integers and a double held in object fields are boxed
 * on every write); `nextBits` returns a small integer (never boxed); the uniform fraction is written
 * out where it is drawn (`UNIT` below); `normals` holds the polar method and `normal` is `normals` of
 * one. The stream is that of the closures this replaces, bit for bit.
 *
 * UNIT: (this.nextBits(5) * 67108864 + this.nextBits(6)) * TWO_POW_M53, 27 high bits of one output and
 * 26 of the next: a 53-bit fraction, every double in [0, 1) on the 2^-53 grid.
 */
class Sfc32 implements Rng {
  /** sfc32 state a, b, c and counter d (arithmetic modulo 2^32). */
  private readonly st = new Int32Array(4);
  /** The polar method's kept second deviate, and `normal`'s output slot. */
  private readonly spare = new Float64Array(1);
  private readonly single = new Float64Array(1);
  private haveSpare = false;

  constructor(seed: number) {
    // splitmix32 over the seed (low 32 bits plus the high part, so 2^32 + 1 and 1 differ).
    let sm = (seed >>> 0) ^ Math.floor(seed / 4294967296) ^ 0x9e3779b9;
    for (let k = 0; k < 3; k++) {
      sm = (sm + 0x9e3779b9) | 0;
      let z = sm;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.st[k] = (z ^ (z >>> 16)) >>> 0;
    }
    this.st[3] = 1;
    // Discard the first outputs: sfc32 mixes its state within ~12 rounds.
    for (let i = 0; i < 15; i++) this.nextBits(2);
  }

  /** The top 32 - shift bits of the next output (shift >= 2: a small integer, never boxed on return). */
  private nextBits(shift: number): number {
    const st = this.st;
    const a = st[0];
    const b = st[1];
    const c = st[2];
    const d = st[3];
    const t = (((a + b) | 0) + d) | 0;
    st[3] = (d + 1) | 0;
    st[0] = b ^ (b >>> 9);
    const c2 = (c << 21) | (c >>> 11);
    st[1] = (c + (c << 3)) | 0;
    st[2] = (c2 + t) | 0;
    return t >>> shift;
  }

  uniform(): number {
    return (this.nextBits(5) * 67108864 + this.nextBits(6)) * TWO_POW_M53; // UNIT
  }

  normal(): number {
    this.normals(this.single, 1);
    return this.single[0];
  }

  /** Marsaglia & Bray's polar method: a pair per accepted point, the second kept for the next draw. */
  normals(out: Float64Array, n: number): void {
    let i = 0;
    if (n > 0 && this.haveSpare) {
      this.haveSpare = false;
      out[i++] = this.spare[0];
    }
    while (i < n) {
      let u: number;
      let v: number;
      let s: number;
      do {
        u = 2 * ((this.nextBits(5) * 67108864 + this.nextBits(6)) * TWO_POW_M53) - 1; // UNIT
        v = 2 * ((this.nextBits(5) * 67108864 + this.nextBits(6)) * TWO_POW_M53) - 1; // UNIT
        s = u * u + v * v;
      } while (s >= 1 || s === 0);
      const f = Math.sqrt((-2 * Math.log(s)) / s);
      out[i++] = u * f;
      if (i < n) out[i++] = v * f;
      else {
        this.spare[0] = v * f;
        this.haveSpare = true;
      }
    }
  }

  /** An integer: returned as a small integer, never boxed. */
  poisson(mean: number): number {
    if (!(mean >= 0) || mean === Infinity) {
      throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid Poisson mean: ${mean}`, { field: 'mean' });
    }
    if (mean === 0) return 0;
    if (mean < PTRS_MIN_MEAN) {
      // Multiplication method: count uniforms until their product drops below exp(-mean).
      const limit = Math.exp(-mean);
      let k = 0;
      let p = (this.nextBits(5) * 67108864 + this.nextBits(6)) * TWO_POW_M53; // UNIT
      while (p > limit) {
        k++;
        p *= (this.nextBits(5) * 67108864 + this.nextBits(6)) * TWO_POW_M53; // UNIT
      }
      return k;
    }
    // PTRS (Hörmann 1993, algorithm PTRS with the constants of his table).
    const sqrtMean = Math.sqrt(mean);
    const b = 0.931 + 2.53 * sqrtMean;
    const aa = -0.059 + 0.02483 * b;
    const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    const logInvAlpha = Math.log(invAlpha);
    for (;;) {
      const u = (this.nextBits(5) * 67108864 + this.nextBits(6)) * TWO_POW_M53 - 0.5; // UNIT
      const v = (this.nextBits(5) * 67108864 + this.nextBits(6)) * TWO_POW_M53; // UNIT
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * aa) / us + b) * u + mean + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      // ln p(k; mean) = k ln(mean) - mean - ln k!, without large cancellations (see the header);
      // written out here, as a call could box its result.
      let logPmf: number;
      if (k < 10) logPmf = k * Math.log(mean) - mean - LOG_FACTORIAL_SMALL[k];
      else {
        // ln k! = k ln k - k + 0.5 ln(2 pi k) + 1/(12k) - 1/(360k^3) + 1/(1260k^5) (error < 1e-12 at k >= 10)
        const ik = 1 / k;
        const ik2 = ik * ik;
        const stirlingTail = ik * (1 / 12 - ik2 * (1 / 360 - ik2 / 1260));
        logPmf = k * Math.log1p((mean - k) * ik) + (k - mean) - HALF_LOG_2PI - 0.5 * Math.log(k) - stirlingTail;
      }
      if (Math.log(v) + logInvAlpha - Math.log(aa / (us * us) + b) <= logPmf) return k;
    }
  }

  poissons(means: ArrayLike<number>, out: Float64Array, n: number): void {
    for (let i = 0; i < n; i++) out[i] = this.poisson(means[i]);
  }
}

export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed)) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid random seed: ${seed}`, { field: 'seed' });
  }
  return new Sfc32(seed);
}
