// The lidar constant implied by a backward (Rayleigh-referenced) solution: known answer = the
// simulator's instrument constant of the photon-counting channel (glued signals are in its scale).
import { describe, expect, it } from 'vitest';
import { retrieveFile } from '../processing/retrieval/retrieve.js';
import { getScenario } from '../processing/simulate/scenarios.js';
import { contextFor, fixtureFile, noiseFreeVerticals, readTruth } from './retrieval-truth.js';

const truth = readTruth('sofia-winter-inversion');
const spec = getScenario('sofia-winter-inversion');
const photonConstant = (nm: number) => truth.instrument.channels.find((c) => c.kind === 'photon' && c.wavelength_nm === nm)!.lidar_constant;

describe('lidar constant from a vertical retrieval', () => {
  // Noise-free: 0.7% low at 532 nm and 0.3% at 1064 nm (measured), from the assumption that the aerosol
  // extinction below full overlap equals that at full overlap (the near-ground winter layer is denser).
  it('noise-free verticals give the instrument constant to 1.5%', () => {
    for (const { spec: s, file } of noiseFreeVerticals('sofia-winter-inversion')) {
      const ctx = contextFor(s, truth);
      for (const p of retrieveFile(file, 'nf', ctx)) {
        expect(p.reference.mode).toBe('rayleigh');
        expect(Math.abs(p.lidarConstant / photonConstant(p.channel.wavelengthNm) - 1)).toBeLessThan(0.015);
      }
    }
  });

  // Noisy 30 s profiles: 532 nm within 4% (measured -3.0%..-0.4%, mean -1.5%; references at 6-10 km). At 1064 nm
  // the automatic reference lands at 3.5-4.5 km where aerosol is not negligible against the weak
  // molecular backscatter, and the constant comes out 7-38% high: the pipeline only takes a
  // constant from a reference window starting >= 5 km above the station (docs/retrieval.md).
  it('noisy 30 s verticals of the winter scenario give it to 4% at 532 nm, and scans (calibration mode) report NaN', () => {
    const verticals = truth.profiles.filter((p) => p.elevation_deg === 90);
    expect(verticals.length).toBeGreaterThanOrEqual(8);
    const ctx = contextFor(spec, truth);
    for (const v of verticals) {
      for (const p of retrieveFile(fixtureFile('sofia-winter-inversion', v.file), v.file, ctx)) {
        if (p.channel.wavelengthNm !== 532) continue;
        expect(Math.abs(p.lidarConstant / photonConstant(p.channel.wavelengthNm) - 1)).toBeLessThan(0.04);
      }
    }
    const scan = truth.profiles.find((p) => p.elevation_deg < 10)!;
    const calCtx = contextFor(spec, truth, { reference: { mode: 'calibration', lidar_constant: photonConstant(532) } });
    for (const p of retrieveFile(fixtureFile('sofia-winter-inversion', scan.file), scan.file, calCtx)) expect(p.lidarConstant).toBeNaN();
  });
});
