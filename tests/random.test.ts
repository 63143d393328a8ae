// Seeded PRNG (processing/random.ts): determinism, moments and Poisson distribution checks.
// Tolerances are 5 standard errors of the estimate (seeds are fixed, so the outcome is deterministic;
// the 5-sigma bars make it a real statistical check rather than a tuned snapshot).
import { describe, expect, it } from 'vitest';
import { createRng } from '../processing/random.js';
import { LidarError } from '../processing/errors.js';

function moments(draw: () => number, n: number): { mean: number; variance: number; skewness: number } {
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < n; i++) {
    const x = draw();
    s1 += x;
    s2 += x * x;
    s3 += x * x * x;
  }
  const mean = s1 / n;
  const variance = s2 / n - mean * mean;
  const skewness = (s3 / n - 3 * mean * variance - mean ** 3) / variance ** 1.5;
  return { mean, variance, skewness };
}

function logPoissonPmf(k: number, mean: number): number {
  let lp = k * Math.log(mean) - mean;
  for (let j = 2; j <= k; j++) lp -= Math.log(j);
  return lp;
}

describe('createRng', () => {
  it('repeats exactly for the same seed and differs between seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const sa = Array.from({ length: 20 }, () => a.uniform());
    const sb = Array.from({ length: 20 }, () => b.uniform());
    const sc = Array.from({ length: 20 }, () => c.uniform());
    expect(sb).toEqual(sa);
    expect(sc).not.toEqual(sa);
    expect(sc.filter((x, i) => x === sa[i])).toEqual([]);
    const pa = createRng(7);
    const pb = createRng(7);
    for (let i = 0; i < 100; i++) expect(pb.poisson(1e6)).toBe(pa.poisson(1e6));
    expect(createRng(2 ** 32 + 1).uniform()).not.toBe(createRng(1).uniform());
  });

  it('gives the stream it always gave (the committed fixtures and Monte Carlo results depend on it)', () => {
    // Values of the generator as first written (state in closure variables), seed 20261122.
    const r = createRng(20261122);
    expect([r.uniform(), r.uniform(), r.uniform()]).toEqual([0.12408857763249093, 0.263063225645884, 0.9233702045718291]);
    expect([r.normal(), r.normal(), r.normal()]).toEqual([0.8356679653562828, -0.35802715089258963, 0.46373826562432263]);
    expect([r.poisson(3.5), r.poisson(250), r.poisson(1e6)]).toEqual([2, 231, 999746]);
  });

  it('poissons and normals draw what the same single calls draw, in order', () => {
    const means = Float64Array.from({ length: 500 }, (_, i) => (i % 7 === 0 ? 0 : i % 3 === 0 ? 2.5 : 40 + 1000 * i));
    const bulk = createRng(9);
    const single = createRng(9);
    const p = new Float64Array(500);
    const z = new Float64Array(301);
    bulk.poissons(means, p, 500);
    bulk.normals(z, 301);
    expect(Array.from(p)).toEqual(Array.from(means, (m) => single.poisson(m)));
    expect(Array.from(z)).toEqual(Array.from({ length: 301 }, () => single.normal()));
    expect(bulk.uniform()).toBe(single.uniform()); // the odd count left the same spare normal behind
    // A bulk call that starts with a kept spare: it comes first, then new pairs.
    const z3 = new Float64Array(4);
    bulk.normals(z3, 4);
    expect(Array.from(z3)).toEqual([single.normal(), single.normal(), single.normal(), single.normal()]);
    expect(bulk.normal()).toBe(single.normal());
    bulk.normals(z3, 0);
    expect(bulk.normal()).toBe(single.normal());
    // An even count from no spare ends on a pair's second deviate (nothing kept).
    const even = createRng(4);
    const evenSingle = createRng(4);
    const z2 = new Float64Array(2);
    even.normals(z2, 2);
    expect(Array.from(z2)).toEqual([evenSingle.normal(), evenSingle.normal()]);
    expect(even.normal()).toBe(evenSingle.normal());
  });

  it('rejects a non-finite seed', () => {
    expect(() => createRng(NaN)).toThrow(LidarError);
  });

  it('uniform: in [0, 1), mean 1/2 and variance 1/12', () => {
    const rng = createRng(1);
    const n = 200_000;
    let min = 1;
    let max = 0;
    const m = moments(() => {
      const u = rng.uniform();
      min = Math.min(min, u);
      max = Math.max(max, u);
      return u;
    }, n);
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(m.mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    // SE of the sample variance of U(0,1): sqrt((mu4 - sigma^4) / n), mu4 = 1/80.
    expect(Math.abs(m.variance - 1 / 12)).toBeLessThan(5 * Math.sqrt((1 / 80 - 1 / 144) / n));
  });

  it('normal: mean 0, variance 1, skewness 0', () => {
    const rng = createRng(2);
    const n = 200_000;
    const m = moments(() => rng.normal(), n);
    expect(Math.abs(m.mean)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(m.variance - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(m.skewness)).toBeLessThan(5 * Math.sqrt(6 / n));
  });

  it('poisson: 0 for mean 0, integers >= 0, errors for NaN / negative / infinite means', () => {
    const rng = createRng(3);
    expect(rng.poisson(0)).toBe(0);
    for (const mean of [0.1, 3, 12, 1e5, 1e9]) {
      const k = rng.poisson(mean);
      expect(Number.isInteger(k) && k >= 0).toBe(true);
    }
    expect(() => rng.poisson(NaN)).toThrow(/invalid Poisson mean: NaN/);
    expect(() => rng.poisson(-1)).toThrow(LidarError);
    expect(() => rng.poisson(Infinity)).toThrow(LidarError);
  });

  it.each([0.5, 5, 50, 5e4, 1e8])('poisson(%d): sample mean and variance within 5 standard errors', (mean) => {
    const rng = createRng(1000 + mean);
    const n = 100_000;
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const d = rng.poisson(mean) - mean; // centred: no precision loss at mean 1e8
      s1 += d;
      s2 += d * d;
    }
    const dm = s1 / n;
    const variance = s2 / n - dm * dm;
    expect(Math.abs(dm)).toBeLessThan(5 * Math.sqrt(mean / n));
    // Var of the sample variance of Poisson: (mu4 - sigma^4) / n with mu4 = lambda (1 + 3 lambda).
    expect(Math.abs(variance - mean)).toBeLessThan(5 * Math.sqrt((mean + 2 * mean * mean) / n));
  });

  it('poisson at mean 1e9 is O(1) per draw', () => {
    const rng = createRng(5);
    const t0 = performance.now();
    let s = 0;
    for (let i = 0; i < 100_000; i++) s += rng.poisson(1e9);
    expect(Math.abs(s / 1e5 - 1e9)).toBeLessThan(5 * Math.sqrt(1e9 / 1e5));
    expect(performance.now() - t0).toBeLessThan(2_000); // ~20 ms measured; generous for a shared machine
  });

  // Pearson chi-square goodness of fit; cells with expected count < 5 merged into the tails.
  // The bar is the chi-square 0.999 quantile (Wilson-Hilferty approximation) for the cell count.
  it.each([3, 40])('poisson(%d) passes a chi-square goodness-of-fit test', (mean) => {
    const rng = createRng(77 + mean);
    const n = 200_000;
    const kMax = Math.ceil(mean + 12 * Math.sqrt(mean) + 10);
    const counts = new Float64Array(kMax + 1);
    for (let i = 0; i < n; i++) counts[Math.min(rng.poisson(mean), kMax)]++;
    const expected = Array.from({ length: kMax + 1 }, (_, k) => n * Math.exp(logPoissonPmf(k, mean)));
    expected[kMax] = n - expected.slice(0, kMax).reduce((x, y) => x + y, 0); // the last cell is the tail k >= kMax
    // Greedy merge from the left until each cell expects >= 5; a short remainder joins the last cell.
    const cells: Array<[number, number]> = [];
    let accO = 0;
    let accE = 0;
    for (let k = 0; k <= kMax; k++) {
      accO += counts[k];
      accE += expected[k];
      if (accE >= 5) {
        cells.push([accO, accE]);
        accO = 0;
        accE = 0;
      }
    }
    cells[cells.length - 1][0] += accO;
    cells[cells.length - 1][1] += accE;
    const chi2 = cells.reduce((a, [o, e]) => a + (o - e) ** 2 / e, 0);
    const dof = cells.length - 1;
    const z = 3.0902; // 0.999 normal quantile
    const q999 = dof * (1 - 2 / (9 * dof) + z * Math.sqrt(2 / (9 * dof))) ** 3;
    expect(dof).toBeGreaterThan(mean === 3 ? 8 : 30);
    expect(chi2).toBeLessThan(q999);
  });
});
