// An independent forward model through the whole user path: a vertical photon-counting profile is
// computed here from an analytic aerosol layer (closed-form aerosol optical depth; molecular optical
// depth by 0.25 m midpoint sums of the US Standard Atmosphere), written as a Licel file with the
// project's encoder and retrieved by `lidar-pm retrieve` with a parameter set and a station file, as
// another station would. None of the simulator or the inversion code computes the signal, so a
// convention the two share by mistake (range axis, bin centre, transmission, units) would show here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { us1976 } from '../processing/atmosphere/standard-atmosphere.js';
import { BOLTZMANN_J_PER_K, MOLECULAR_LIDAR_RATIO_SR, rayleighCrossSectionM2 } from '../processing/atmosphere/rayleigh.js';
import { encodeLicel } from '../processing/licel/encode.js';
import type { LicelFile } from '../processing/licel/types.js';

const BIN_M = 7.5;
const BINS = 8000; // 60 km: the far end is background only
const SHOTS = 6000;
const ALTITUDE_M = 600;
const S_AER = 50;
const A0 = 2e-4; // aerosol extinction in the layer, 1/m
const LAYER_TOP_M = 1500; // above the lidar
const DECAY_M = 300;
const SKY_MHZ = 0.4;
const C = 4e13; // MHz m^3 sr: ~50 MHz at 300 m in the layer

const alphaAer = (r: number) => (r <= LAYER_TOP_M ? A0 : A0 * Math.exp(-(r - LAYER_TOP_M) / DECAY_M));
const tauAer = (r: number) => (r <= LAYER_TOP_M ? A0 * r : A0 * LAYER_TOP_M + A0 * DECAY_M * (1 - Math.exp(-(r - LAYER_TOP_M) / DECAY_M)));
const sigma532 = rayleighCrossSectionM2(532);

function alphaMolAt(heightsM: Float64Array): Float64Array {
  const atm = us1976(heightsM);
  return Float64Array.from(heightsM, (_, i) => (sigma532 * atm.pressurePa[i]) / (BOLTZMANN_J_PER_K * atm.temperatureK[i]));
}

interface Truth {
  rangeM: Float64Array;
  betaAer: Float64Array;
  file: LicelFile;
}

function forward(): Truth {
  const rangeM = Float64Array.from({ length: BINS }, (_, i) => (i + 0.5) * BIN_M); // bin centres (docs/licel.md)
  // Molecular optical depth to every bin centre, midpoint rule on 0.25 m steps.
  const step = 0.25;
  const steps = Math.ceil(rangeM[BINS - 1] / step);
  const mid = Float64Array.from({ length: steps }, (_, k) => ALTITUDE_M + (k + 0.5) * step);
  const aMid = alphaMolAt(mid);
  const tauMol = new Float64Array(BINS);
  let tau = 0;
  let k = 0;
  for (let i = 0; i < BINS; i++) {
    const target = rangeM[i];
    while ((k + 1) * step <= target) tau += aMid[k++] * step;
    tauMol[i] = tau + (target - k * step) * aMid[Math.min(k, steps - 1)];
  }
  const alphaMol = alphaMolAt(Float64Array.from(rangeM, (r) => ALTITUDE_M + r));
  const betaAer = Float64Array.from(rangeM, (r) => alphaAer(r) / S_AER);
  const countsPerMHz = (BIN_M / 150) * SHOTS;
  const raw = new Uint32Array(BINS);
  for (let i = 0; i < BINS; i++) {
    const r = rangeM[i];
    const beta = betaAer[i] + alphaMol[i] / MOLECULAR_LIDAR_RATIO_SR;
    const mhz = (C / (r * r)) * beta * Math.exp(-2 * (tauMol[i] + tauAer(r))) + SKY_MHZ;
    raw[i] = Math.round(mhz * countsPerMHz);
  }
  const file: LicelFile = {
    header: {
      format: 'licel2022',
      fileName: 'IF2611221.000000',
      site: 'Indep',
      startLocal: '2026-11-22T10:00:00',
      stopLocal: '2026-11-22T10:10:00',
      altitudeM: ALTITUDE_M,
      longitudeDeg: 23.38,
      latitudeDeg: 42.65,
      zenithRaw: 0,
      azimuthDeg: 0,
      customText: '',
      temperatureC: NaN,
      pressureHpa: NaN,
      scan: null,
      laser1Shots: SHOTS,
      laser1RateHz: 10,
      laser2Shots: 0,
      laser2RateHz: 0,
      laser3Shots: 0,
      laser3RateHz: 0,
      controllerTimestampMs: NaN,
      extraLine2Tokens: [],
      extraLine3Tokens: [],
    },
    datasets: [
      {
        active: true,
        dataType: 1,
        laser: 1,
        bins: BINS,
        field5: '1',
        pmtVoltageV: 800,
        binWidthM: BIN_M,
        wavelengthNm: 532,
        polarization: 'o',
        binShiftWhole: 0,
        binShiftThousandths: 0,
        adcBits: 0,
        shots: SHOTS,
        inputRangeV: 0.004,
        deviceId: 'BC0',
        raw,
      },
    ],
  };
  return { rangeM, betaAer, file };
}

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'lidar-pm.mjs');
let dir = '';
let truth: Truth;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lidar-pm-indep-'));
  truth = forward();
  writeFileSync(join(dir, truth.file.header.fileName), encodeLicel(truth.file));
  writeFileSync(
    join(dir, 'station.json'),
    JSON.stringify({ id: 'indep', name: 'Independent', lat: 42.65, lon: 23.38, altitude_m: ALTITUDE_M, zenith_convention: 'zenith', timezone: 'UTC', channels: { '0': { wavelength_nm: 532, kind: 'photon' } } }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function retrieve(params: object): { beta_aer: Array<number | null>; range_m: number[]; reference: { from_m: number } } {
  writeFileSync(join(dir, 'params.json'), JSON.stringify(params));
  const r = spawnSync(process.execPath, [BIN, 'retrieve', join(dir, truth.file.header.fileName), '--station', join(dir, 'station.json'), '--params', join(dir, 'params.json'), '--json', '--no-terrain'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out.profiles).toHaveLength(1);
  return out.profiles[0];
}

/** Largest |relative error| of beta_aer over [fromM, toM] of range. */
function worst(p: { beta_aer: Array<number | null>; range_m: number[] }, fromM: number, toM: number): number {
  let w = 0;
  let n = 0;
  for (let i = 0; i < p.range_m.length; i++) {
    if (p.range_m[i] < fromM || p.range_m[i] > toM) continue;
    const b = p.beta_aer[i];
    expect(b).not.toBeNull();
    w = Math.max(w, Math.abs((b as number) / truth.betaAer[i] - 1));
    n++;
  }
  expect(n).toBeGreaterThan(100);
  return w;
}

describe('independent forward model through lidar-pm retrieve', () => {
  const base = { lidar_ratio_sr: S_AER, dead_time_ns: 0, overlap: { full_overlap_m: 100 }, background: { window_m: [50000, 59900] }, monte_carlo: 0 };

  it('rayleigh reference (auto window): beta_aer in the layer within 0.1%', () => {
    const p = retrieve({ ...base, reference: { mode: 'rayleigh', window_m: 'auto' } });
    expect(p.reference.from_m).toBeGreaterThan(3000);
    const w = worst(p, 150, LAYER_TOP_M);
    console.log(`independent forward model, rayleigh/auto: max |relative error| of beta_aer ${(100 * w).toFixed(3)}% (0.15-1.5 km)`);
    expect(w).toBeLessThan(1e-3); // measured 0.008%
  });

  it('rayleigh reference on a given window, value and calibration boundaries: within 0.1-0.2%', () => {
    const fixed = retrieve({ ...base, reference: { mode: 'rayleigh', window_m: [7000, 9000] } });
    expect(worst(fixed, 150, LAYER_TOP_M)).toBeLessThan(1e-3); // measured 0.016%
    const value = retrieve({ ...base, reference: { mode: 'value', range_m: 8000, beta_aer: 0 } });
    expect(worst(value, 150, LAYER_TOP_M)).toBeLessThan(2e-3); // measured 0.086% (X(r_c) from a 5-bin mean)
    // Calibration with the true constant: the forward solution from the first bin past the overlap.
    const cal = retrieve({ ...base, reference: { mode: 'calibration', lidar_constant: C } });
    expect(worst(cal, 150, LAYER_TOP_M)).toBeLessThan(1e-3); // measured 0.003%
  });

  it('a wrong constant moves the calibrated solution the documented way (10% high -> backscatter low)', () => {
    const cal = retrieve({ ...base, reference: { mode: 'calibration', lidar_constant: 1.1 * C } });
    let i = 0;
    while (cal.range_m[i] < 300) i++;
    const rel = (cal.beta_aer[i] as number) / truth.betaAer[i] - 1;
    // X / C falls by 1/1.1 and beta_mol is a fraction of the total: beta_aer falls by a bit more than 9%.
    expect(rel).toBeLessThan(-0.09);
    expect(rel).toBeGreaterThan(-0.2);
  });
});
