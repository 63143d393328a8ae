// Analog/photon-counting gluing: exact on noise-free lines, scale within 1% on synthetic Poisson
// data, and within 2% of the simulator's 1/gain after the real preprocessing chain.
import { describe, expect, it } from 'vitest';
import { blockBounds, glue, mayBeSelected, type GlueResult } from '../processing/retrieval/glue.js';
import { backgroundStats, backgroundWindow, deadTimeCorrect, MIN_BACKGROUND_BINS, shiftBins } from '../processing/retrieval/preprocess.js';
import { createRng } from '../processing/random.js';
import { getScenario } from '../processing/simulate/scenarios.js';
import { planProfiles, simulatePlanned } from '../processing/simulate/scenario.js';
import { LidarError } from '../processing/errors.js';

function lastIndex(a: Float64Array, pred: (v: number) => boolean): number {
  for (let i = a.length - 1; i >= 0; i--) if (pred(a[i])) return i;
  return -1;
}

/** A lidar-like decay from ~200 MHz to ~0.05 MHz over n bins. */
function trueRate(n: number): Float64Array {
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) r[i] = 200 * Math.exp(-i / (n / 8));
  return r;
}

describe('glue: known answers', () => {
  it('recovers an exact line through the origin and switches after the last PC >= 15 MHz', () => {
    const n = 400;
    const pc = trueRate(n);
    const an = pc.map((v) => v / 40); // PC = 40 AN (background-subtracted traces: no offset)
    const out = new Float64Array(n);
    const g = glue(an, pc, 0, n, out);
    expect(g.ok).toBe(true);
    expect(g.scale).toBeCloseTo(40, 10);
    expect(g.offset).toBe(0);
    expect(g.r2).toBeCloseTo(1, 12);
    const lastHigh = lastIndex(pc, (v) => v >= 15);
    expect(g.switchBin).toBe(lastHigh + 1);
    // first-pass fit bins: the analog in PC units in [0.5, 15]
    expect(g.fromBin).toBe(lastIndex(pc, (v) => v > 15) + 1);
    expect(g.toBin).toBe(lastIndex(pc, (v) => v >= 0.5) + 1);
    for (let i = 0; i < n; i++) expect(out[i]).toBeCloseTo(pc[i], 9);
  });

  it('is not diluted by analog noise (ratio of sums, selection on the smoothed analog)', () => {
    const rng = createRng(9);
    const scales: number[] = [];
    for (let rep = 0; rep < 40; rep++) {
      const n = 1200;
      const pc = trueRate(n);
      const an = pc.map((v) => v / 40 + 0.004 * rng.normal()); // 0.16 MHz analog noise in PC units
      const noisyPc = pc.map((v) => v + Math.sqrt(v / 30) * rng.normal()); // Poisson-like, 30 counts per MHz
      const g = glue(an, noisyPc, 0, n, new Float64Array(n), { sigmaPc: pc.map((v) => Math.sqrt(Math.max(v, 0.01) / 30)) });
      scales.push(g.scale / 40 - 1);
    }
    const mean = scales.reduce((a, b) => a + b, 0) / scales.length;
    const sd = Math.sqrt(scales.reduce((a, b) => a + (b - mean) ** 2, 0) / (scales.length - 1));
    expect(Math.abs(mean)).toBeLessThan(3 * (sd / Math.sqrt(scales.length)) + 1e-4);
  });

  it('on synthetic Poisson PC and Gaussian analog recovers the scale within 1%', () => {
    const rng = createRng(42);
    const n = 2000;
    const shots = 1200;
    const countsPerMHz = (7.5 / 150) * shots;
    const truth = trueRate(n);
    const scaleTrue = 50; // MHz per mV
    const pc = new Float64Array(n);
    const an = new Float64Array(n);
    const sigmaPc = new Float64Array(n);
    const sigmaAn = new Float64Array(n).fill(0.002);
    for (let i = 0; i < n; i++) {
      pc[i] = rng.poisson(truth[i] * countsPerMHz) / countsPerMHz;
      sigmaPc[i] = Math.sqrt(truth[i] * countsPerMHz) / countsPerMHz;
      an[i] = truth[i] / scaleTrue + 0.002 * rng.normal();
    }
    const out = new Float64Array(n);
    const outSigma = new Float64Array(n);
    const g = glue(an, pc, 0, n, out, { sigmaAnalog: sigmaAn, sigmaPc, outSigma });
    expect(g.ok).toBe(true);
    expect(Math.abs(g.scale / scaleTrue - 1)).toBeLessThan(0.01);
    expect(Math.abs(g.offset)).toBeLessThan(0.05);
    expect(g.n).toBeGreaterThan(300);
    // one switch: analog before, photon counting after; sigma follows
    const sw = g.switchBin;
    expect(pc[sw - 1]).toBeGreaterThanOrEqual(15);
    for (let i = sw; i < n; i++) expect(pc[i]).toBeLessThan(15);
    expect(out[sw - 1]).toBe(g.scale * an[sw - 1] + g.offset);
    expect(out[sw]).toBe(pc[sw]);
    expect(outSigma[sw - 1]).toBeCloseTo(g.scale * 0.002, 12);
    expect(outSigma[sw]).toBe(sigmaPc[sw]);
  });

  it('drops gross outliers (3 sigma, once)', () => {
    const n = 400;
    const pc = trueRate(n);
    const an = pc.map((v) => v / 40);
    for (let i = 0; i < n; i++) if (i % 2) pc[i] += 0.01; else pc[i] -= 0.01; // small scatter
    const spiky = Float64Array.from(pc);
    const fitRegion: number[] = [];
    for (let i = 0; i < n; i++) if (pc[i] >= 0.5 && pc[i] <= 15) fitRegion.push(i);
    for (const k of [3, 17, 40]) spiky[fitRegion[k]] += 5; // spikes that stay inside the rate window
    const clean = glue(an, pc, 0, n, new Float64Array(n));
    const g = glue(an, spiky, 0, n, new Float64Array(n));
    expect(g.n).toBe(clean.n - 3);
    expect(Math.abs(g.scale / clean.scale - 1)).toBeLessThan(2e-4);
    expect(Math.abs(g.scale / 40 - 1)).toBeLessThan(2e-4);
  });

  it('a scale with a large standard error is not ok (maxScaleRelSigma)', () => {
    const rng = createRng(3);
    const n = 60;
    const an = Float64Array.from({ length: n }, (_, i) => (12 + (3 * i) / n) / 50); // 12-15 MHz only
    const pc = an.map((v) => 50 * v + 0.2 * rng.normal());
    const g = glue(an, pc, 0, n, new Float64Array(n));
    expect(g.ok).toBe(false);
    expect(g.scaleSigma / g.scale).toBeGreaterThan(0.02);
    expect(g.reason).toMatch(/relative error > 0.02/);
    expect(glue(an, pc, 0, n, new Float64Array(n), { maxScaleRelSigma: 1, minR2: 0 }).ok).toBe(true);
  });

  it('respects [from, to) and the options', () => {
    const n = 400;
    const pc = trueRate(n);
    const an = pc.map((v) => v / 40);
    const g = glue(an, pc, 200, 260, new Float64Array(n), { lowMHz: 1, highMHz: 10 });
    expect(g.fromBin).toBeGreaterThanOrEqual(200);
    expect(g.toBin).toBeLessThanOrEqual(260);
    expect(g.switchBin).toBe(lastIndex(pc, (v) => v >= 10) + 1);
    expect(g.scale).toBeCloseTo(40, 9);
  });

  it('not ok but usable: glues and says why', () => {
    const n = 400;
    const pc = trueRate(n);
    const an = pc.map((v) => v / 40);
    const out = new Float64Array(n);
    const g = glue(an, pc, 0, n, out, { minPoints: 1000 });
    expect(g.ok).toBe(false);
    expect(g.reason).toMatch(/points in the glue fit \(at least 1000/);
    expect(g.switchBin).toBeGreaterThan(0);
    expect(out[0]).toBeCloseTo(pc[0], 9);
    const noisy = Float64Array.from(pc, (v, i) => (v >= 0.5 && v <= 15 ? v + (i % 2 ? 3 : -3) : v));
    const g2 = glue(an, noisy, 0, n, new Float64Array(n));
    expect(g2.ok).toBe(false);
    expect(g2.reason).toMatch(/r2 0\.\d+ < 0\.9/);
  });

  it('unusable: photon counting alone, NaN scale, reason', () => {
    const n = 50;
    const pc = new Float64Array(n).fill(100); // never inside the rate window
    const an = new Float64Array(n).fill(2);
    const out = new Float64Array(n);
    const outSigma = new Float64Array(n);
    const g = glue(an, pc, 0, n, out, { outSigma });
    expect(g).toMatchObject({ ok: false, n: 0, switchBin: 0, fromBin: -1, toBin: -1 });
    expect(g.scale).toBeNaN();
    expect(g.reason).toContain('only 0 bins');
    expect(Array.from(out)).toEqual(Array.from(pc));
    expect(outSigma.every(Number.isNaN)).toBe(true);
    // a negative slope is not usable either
    const p2 = trueRate(400);
    const g2 = glue(p2.map((v) => -v), p2, 0, 400, new Float64Array(400));
    expect(g2.ok).toBe(false);
    expect(g2.reason).toContain('no positive');
  });

  it('NaN bins are skipped by the fit and stay NaN in the output', () => {
    const n = 400;
    const pc = trueRate(n);
    const an = pc.map((v) => v / 40);
    an[0] = NaN; // near range analog missing
    const sw = lastIndex(pc, (v) => v >= 15) + 1;
    pc[sw + 5] = NaN;
    const out = new Float64Array(n);
    const g = glue(an, pc, 0, n, out);
    expect(g.ok).toBe(true);
    expect(out[0]).toBeNaN();
    expect(out[sw + 5]).toBeNaN();
    expect(out[1]).toBeCloseTo(pc[1], 9);
  });

  it('a block is skipped only when none of its bins can be selected (bounds against every bin)', () => {
    const rng = createRng(17);
    const low = 0.5;
    const high = 15;
    const picks = [NaN, Infinity, -Infinity, 0, -0, low, high, low * (1 + 2e-16), high * (1 + 2e-16), low * (1 - 2e-16), -3];
    let skipped = 0;
    for (let rep = 0; rep < 20000; rep++) {
      const scale = [40, 1, 1e-3, 3.7e5, 0.1 + rng.uniform()][rep % 5];
      const value = () => {
        const u = rng.uniform();
        if (u < 0.3) return picks[Math.floor(rng.uniform() * picks.length)] / (u < 0.15 ? scale : 1);
        return (rng.uniform() * 40 - 5) / (u < 0.65 ? scale : 1);
      };
      const len = 1 + Math.floor(rng.uniform() * 8);
      const an = new Float64Array(len).map(value);
      const blocks = blockBounds(an, 0, len);
      let selected = false;
      for (let i = 0; i < len; i++) if (Number.isFinite(an[i]) && scale * an[i] >= low && scale * an[i] <= high) selected = true;
      const may = mayBeSelected(blocks, 0, scale, low, high);
      if (selected) expect(may).toBe(true);
      skipped += +!may;
    }
    expect(skipped).toBeGreaterThan(2000); // it does skip
  });

  it('equals a plain re-implementation of the method (no block skipping, running means summed afresh)', () => {
    // The header's method written out bin by bin without any of glue.ts's shortcuts: it must give
    // the same fits (to rounding) on noisy traces whose far-range noise strays into the window.
    const low = 0.5;
    const high = 15;
    const ols = (sel: (i: number) => boolean, an: Float64Array, pc: Float64Array, from: number, to: number) => {
      const idx: number[] = [];
      for (let i = from; i < to; i++) if (Number.isFinite(an[i]) && Number.isFinite(pc[i]) && sel(i)) idx.push(i);
      const n = idx.length;
      const mx = idx.reduce((a, i) => a + an[i], 0) / n;
      const my = idx.reduce((a, i) => a + pc[i], 0) / n;
      let vxx = 0;
      let vxy = 0;
      let vyy = 0;
      for (const i of idx) {
        vxx += (an[i] - mx) ** 2;
        vxy += (an[i] - mx) * (pc[i] - my);
        vyy += (pc[i] - my) ** 2;
      }
      const scale = vxy / vxx;
      return { n, scale, offset: my - scale * mx, r2: (vxy * vxy) / (vxx * vyy), sigma: Math.sqrt(Math.max(0, vyy - scale * vxy) / (n - 2)), first: idx[0], last: idx[n - 1] };
    };
    for (const seed of [1, 2, 3, 4]) {
      const rng = createRng(seed);
      const n = 2500 + 300 * seed;
      const from = 3 * seed;
      const to = n - 5 * seed;
      // Seeds 3 and 4: a layer whose sharp near edge (at a block start, blocks of 8 from `from`) jumps
      // above the window: running means there reach into the weaker block before it.
      const edge = from + 8 * 187;
      const rate = trueRate(n).map((v, i) => v + (seed > 2 && i >= edge ? 14 * Math.exp(-(i - edge) / 60) : 0));
      const pc = rate.map((v) => v + Math.sqrt(v / 30 + 0.04) * rng.normal());
      const an = rate.map((v) => v / 40 + 0.006 * rng.normal());
      for (let i = seed; i < n; i += 89) pc[i] = NaN;
      const sigmaPc = rate.map((v) => Math.sqrt(v / 30 + 0.04));
      const sigmaAnalog = new Float64Array(n).fill(0.006);
      const g = glue(an, pc, from, to, new Float64Array(n), { sigmaPc, sigmaAnalog });

      const f1 = ols((i) => pc[i] >= low && pc[i] <= high, an, pc, from, to);
      const f2 = ols((i) => f1.scale * an[i] >= low && f1.scale * an[i] <= high && Math.abs(pc[i] - f1.scale * an[i] - f1.offset) <= 3 * f1.sigma, an, pc, from, to);
      const ratios: number[] = [];
      for (let i = from; i < to; i++) {
        const scaled = f2.scale * an[i];
        if (scaled >= low && scaled <= high && pc[i] > 0) ratios.push(sigmaPc[i] ** 2 / pc[i]);
      }
      const k = ratios.sort((a, b) => a - b)[ratios.length >> 1];
      const smooth = (i: number) => {
        let sum = 0;
        let m = 0;
        for (let j = Math.max(from, i - 7); j <= Math.min(to - 1, i + 7); j++) if (Number.isFinite(an[j])) (sum += an[j]), m++;
        return sum / m;
      };
      let a = f2.scale;
      let used = 0;
      for (let pass = 0; pass < 2; pass++) {
        let sy = 0;
        let sx = 0;
        used = 0;
        for (let i = from; i < to; i++) {
          if (!Number.isFinite(an[i]) || !Number.isFinite(pc[i])) continue;
          const selector = a * smooth(i);
          if (!(selector >= low && selector <= high)) continue;
          if (Math.abs(pc[i] - a * an[i]) > 3 * Math.sqrt(k * selector + a * a * 0.006 ** 2)) continue;
          sy += pc[i];
          sx += an[i];
          used++;
        }
        a = sy / sx;
      }
      expect(used).toBeGreaterThan(100);
      expect(g.n).toBe(f2.n);
      expect([g.fromBin, g.toBin]).toEqual([f2.first, f2.last + 1]);
      expect(g.r2).toBeCloseTo(f2.r2, 12);
      expect(Math.abs(g.scale / a - 1)).toBeLessThan(1e-12);
    }
  });

  it('skipping blocks that cannot hold a selected bin changes nothing: the same fit at every block alignment', () => {
    // The fits skip blocks of 8 bins (counted from `from`) whose value bounds miss the selection
    // window; moving the data by k bins regroups them. Far-range noise makes excursions into the
    // window, NaN bins and values exactly at its edges (0.5 and 15 MHz) are sprinkled in.
    const rng = createRng(5);
    const n = 3000;
    const rate = trueRate(n);
    const pc = rate.map((v) => v + Math.sqrt(v / 30 + 0.01) * rng.normal());
    const an = rate.map((v) => v / 40 + 0.004 * rng.normal());
    for (let i = 0; i < n; i += 97) pc[i] = NaN;
    for (let i = 13; i < n; i += 131) an[i] = NaN;
    for (let i = 500; i < n; i += 211) pc[i] = i % 2 ? 0.5 : 15;
    const sigmaPc = rate.map((v) => Math.sqrt(Math.max(v, 0.01) / 30));
    const sigmaAnalog = new Float64Array(n).fill(0.004);
    const results: GlueResult[] = [];
    for (let k = 0; k <= 8; k++) {
      const pad = (a: Float64Array, fill: number) => {
        const b = new Float64Array(n + k).fill(fill);
        b.set(a, k);
        return b;
      };
      // The padding is selectable by every window (PC 5 MHz, analog 5/40 mV) but lies before `from`.
      const g = glue(pad(an, 5 / 40), pad(pc, 5), k, n + k, new Float64Array(n + k), { sigmaPc: pad(sigmaPc, 0.4), sigmaAnalog: pad(sigmaAnalog, 0.004) });
      results.push({ ...g, fromBin: g.fromBin - k, toBin: g.toBin - k, switchBin: g.switchBin - k });
    }
    expect(results[0].ok).toBe(true);
    expect(results[0].n).toBeGreaterThan(100);
    for (const r of results) expect(r).toEqual(results[0]);
  });

  it('rejects bad arguments naming them', () => {
    const a = new Float64Array(10);
    const field = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(LidarError);
        return (e as LidarError).field;
      }
      return undefined;
    };
    expect(field(() => glue(a, new Float64Array(9), 0, 9, new Float64Array(9)))).toBe('analogMv');
    expect(field(() => glue(a, a.slice(), 0, 11, new Float64Array(10)))).toBe('glue.bins');
    expect(field(() => glue(a, a.slice(), 0, 10, a))).toBe('out');
    expect(field(() => glue(a, a.slice(), 0, 10, new Float64Array(10), { lowMHz: 20 }))).toBe('glue.rate_mhz');
    expect(field(() => glue(a, a.slice(), 0, 10, new Float64Array(10), { sigmaPc: new Float64Array(3) }))).toBe('sigmaPc');
  });
});

/**
 * The project's simulator: raw integers -> physical units (Licel convention) -> dead time -> background
 * (pre-trigger bins when the recorder keeps enough, else the last 10%) -> analog shifted by its header
 * bin shift -> glue. Returns the glue result and the applied scale over 1/gain.
 */
function simulatedGlue(scenario: string, profileIndex: number, fallbackScale?: number): GlueResult & { ratio: number; glued: Float64Array; pc: Float64Array } {
  const spec = getScenario(scenario);
  const p = planProfiles(spec)[profileIndex];
  const res = simulatePlanned(spec, p, null, 1);
  const shots = Math.round(p.durationS * spec.instrument.repetitionRateHz);
  const [chA, chP] = spec.instrument.channels;
  const n = res.raw[0].length;
  const anRaw = new Float64Array(n);
  const pc = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    anRaw[i] = ((res.raw[0][i] / shots) * chA.inputRangeV * 1000) / 2 ** chA.adcBits;
    pc[i] = ((res.raw[1][i] / shots) * 150) / spec.instrument.binWidthM;
  }
  deadTimeCorrect(pc, chP.deadTimeNs, 'nonparalysable', pc, null);
  const an = new Float64Array(n);
  shiftBins(anRaw, chA.analogDelayBins, an);
  const zeroBin = spec.instrument.zeroBin;
  const [from, to] = backgroundWindow(zeroBin >= MIN_BACKGROUND_BINS ? 'pretrigger' : null, res.rangeM, zeroBin)!;
  const bgA = backgroundStats(an, from, to).mean;
  const bgP = backgroundStats(pc, from, to).mean;
  for (let i = 0; i < n; i++) {
    an[i] -= bgA;
    pc[i] -= bgP;
  }
  const glued = new Float64Array(n);
  const g = glue(an, pc, 0, n, glued, { fallbackScale });
  const gain = chA.lidarConstant / chP.lidarConstant; // mV per MHz
  return { ...g, ratio: g.scale * gain, glued, pc };
}

describe('glue: on the simulator', () => {
  for (const scenario of ['sofia-winter-inversion', 'vertical-clear']) {
    it(`${scenario}: every vertical profile's scale = 1/gain within 2%`, () => {
      const verticals = planProfiles(getScenario(scenario)).filter((p) => p.elevationDeg === 90);
      expect(verticals.length).toBeGreaterThanOrEqual(6);
      const ratios = verticals.map((p) => simulatedGlue(scenario, p.index));
      for (const r of ratios) {
        expect(r.ok).toBe(true);
        expect(Math.abs(r.ratio - 1)).toBeLessThan(0.02);
        expect(r.scaleSigma / r.scale).toBeLessThan(0.005);
      }
    });
  }

  it('cloud: too little dynamic range under the cloud is not ok; a fallback scale is applied instead', () => {
    const spec = getScenario('cloud');
    const gain = spec.instrument.channels[0].lidarConstant / spec.instrument.channels[1].lidarConstant;
    for (const p of planProfiles(spec)) {
      const r = simulatedGlue('cloud', p.index);
      expect(r.ok).toBe(false);
      expect(r.reason).toMatch(/relative error|r2/);
      const f = simulatedGlue('cloud', p.index, 1 / gain);
      expect(f.ok).toBe(false);
      expect(f.scale).toBe(1 / gain);
      expect(f.offset).toBe(0);
      expect(f.reason).toContain('fallback scale');
      expect(f.switchBin).toBe(r.switchBin);
      for (let i = f.switchBin; i < f.pc.length; i++) expect(Object.is(f.glued[i], f.pc[i])).toBe(true);
    }
  });
});
