// The 532 nm analog range-corrected signal built from a simulated profile the way the chain does it
// (shared by the PBL and cloud kernel tests, which test those kernels without the full chain).
import type { ScenarioSpec, PlannedProfile } from '../processing/simulate/scenario.js';
import type { ProfileResult } from '../processing/simulate/forward.js';

/**
 * Range-corrected 532 nm analog signal as the chain builds it (background from the pre-trigger
 * bins, analog delay undone, times r^2; NaN before the trigger) and its noise sigma (background
 * standard deviation times r^2).
 */
export function analogRcs(spec: ScenarioSpec, p: PlannedProfile, res: ProfileResult, noisy: boolean): { x: Float64Array; sigma: Float64Array; channel: number } {
  const k = spec.instrument.channels.findIndex((c) => c.kind === 'analog' && c.wavelengthNm === 532);
  const ch = spec.instrument.channels[k];
  const shots = Math.round(p.durationS * spec.instrument.repetitionRateHz);
  const lsbMv = (ch.inputRangeV * 1000) / 2 ** ch.adcBits;
  const mv = noisy ? Float64Array.from(res.raw[k], (v) => (v / shots) * lsbMv) : res.expected[k];
  const n = mv.length;
  const zero = spec.instrument.zeroBin;
  const [b0, b1] = zero >= 20 ? [0, zero] : [Math.floor(0.9 * n), n];
  let bg = 0;
  for (let i = b0; i < b1; i++) bg += mv[i];
  bg /= b1 - b0;
  let v = 0;
  for (let i = b0; i < b1; i++) v += (mv[i] - bg) ** 2;
  const sd = Math.sqrt(v / (b1 - b0 - 1));
  const x = new Float64Array(n).fill(Number.NaN);
  const sigma = new Float64Array(n).fill(Number.NaN);
  for (let i = zero; i + ch.analogDelayBins < n; i++) {
    const r2 = res.rangeM[i] * res.rangeM[i];
    x[i] = (mv[i + ch.analogDelayBins] - bg) * r2;
    sigma[i] = sd * r2;
  }
  return { x, sigma, channel: k };
}

