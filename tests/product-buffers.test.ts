// Reused product arrays (processing/retrieval/product-buffers.ts): the same products as fresh
// arrays, whatever the buffers held before.
import { describe, expect, it } from 'vitest';
import { retrieveFile, type ProfileProducts } from '../processing/retrieval/retrieve.js';
import { FLOAT_PRODUCTS, ProductBuffers } from '../processing/retrieval/product-buffers.js';
import { caseContext, identityCases } from '../scripts/bench/cases.js';
import { contextFor, fixtureFile, readTruth } from './retrieval-truth.js';
import { getScenario } from '../processing/simulate/scenarios.js';

/** First difference between two profiles' arrays (bit for bit, NaN equal to NaN), or null. */
function firstDifference(a: ProfileProducts, b: ProfileProducts): string | null {
  for (const name of [...FLOAT_PRODUCTS, 'qc'] as const) {
    const x = a[name];
    const y = b[name];
    if (x.length !== y.length) return `${name}: length ${x.length} vs ${y.length}`;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return `${name}[${i}]: ${x[i]} vs ${y[i]}`;
  }
  return null;
}

const run = (f: () => ProfileProducts[]): ProfileProducts[] | string => {
  try {
    return f();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
};

describe('ProductBuffers', () => {
  it('gives every retrieval of a sequence (verticals, scans, clouds, Monte Carlo, refused ones) the products of fresh arrays', () => {
    const buffers = new ProductBuffers();
    const cases = identityCases(true);
    expect(cases.length).toBeGreaterThan(20);
    let profiles = 0;
    for (const c of cases) {
      const file = fixtureFile(c.scenario, c.file);
      const ctx = caseContext(c);
      const fresh = run(() => retrieveFile(file, c.file, ctx));
      const reused = run(() => retrieveFile(file, c.file, ctx, buffers));
      if (typeof fresh === 'string') {
        expect(reused, `${c.scenario}/${c.file}`).toBe(fresh);
        continue;
      }
      expect(typeof reused, `${c.scenario}/${c.file}: ${String(reused)}`).toBe('object');
      const r = reused as ProfileProducts[];
      expect(r.length).toBe(fresh.length);
      for (let k = 0; k < fresh.length; k++) {
        expect(firstDifference(r[k], fresh[k]), `${c.scenario}/${c.file} ${c.boundary} MC ${c.monteCarlo}, profile ${k}`).toBeNull();
        profiles++;
      }
    }
    expect(profiles).toBeGreaterThan(20);
  });

  it('a call that fails half-way leaves the buffers as if unknown: the next one fills its NaN whole', () => {
    // Summer verticals: the morning's record holds signal further (to its end) than the afternoon's.
    // The morning one fails after its products were set up (calibration mode without a lidar
    // constant); the afternoon one succeeds before and after it.
    const scenario = 'sofia-summer-convective';
    const truth = readTruth(scenario);
    const verticals = truth.profiles.filter((p) => p.elevation_deg === 90).map((p) => p.file);
    const [morning, afternoon] = [verticals[0], verticals[verticals.length - 1]];
    const ctx = contextFor(getScenario(scenario), truth, {}, 0);
    const failing = contextFor(getScenario(scenario), truth, { reference: { mode: 'calibration' } }, 0);
    const file = fixtureFile(scenario, afternoon);
    const lastPrepared = (p: ProfileProducts) => {
      let last = -1;
      for (let i = 0; i < p.rcs.length; i++) if (Number.isFinite(p.rcs[i])) last = i;
      return last;
    };
    const buffers = new ProductBuffers();
    const before = lastPrepared(retrieveFile(file, afternoon, ctx, buffers)[0]);
    expect(lastPrepared(retrieveFile(fixtureFile(scenario, morning), morning, ctx)[0])).toBeGreaterThan(before + 50); // what makes the test
    expect(() => retrieveFile(fixtureFile(scenario, morning), morning, failing, buffers)).toThrow(/lidar_constant/);
    const fresh = retrieveFile(file, afternoon, ctx);
    const reused = retrieveFile(file, afternoon, ctx, buffers);
    for (let k = 0; k < fresh.length; k++) expect(firstDifference(reused[k], fresh[k]), `profile ${k}`).toBeNull();
  });

  it('returns the same memory on the next call (valid until then), one slot per profile of a call, re-sized with the record', () => {
    const buffers = new ProductBuffers();
    const a = buffers.arrays(0, 100);
    a.pm10.fill(7);
    a.qc.fill(3);
    expect(a.reused).toBe(false);
    const b = buffers.arrays(0, 100);
    expect(b.pm10).toBe(a.pm10);
    expect(b.reused).toBe(true);
    expect(b.pm10[0]).toBe(7); // left as the caller wrote it: the retrieval writes every element
    expect(buffers.arrays(1, 100).pm10).not.toBe(a.pm10);
    const c = buffers.arrays(0, 120);
    expect(c.pm10.length).toBe(120);
    expect(c.qc.length).toBe(120);
    expect(c.reused).toBe(false);
  });
});
