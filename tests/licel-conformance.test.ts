// Conformance of the Licel decoder against the three real files in ../shared/data/licel and the
// values an independent reader decoded from them (<file>.peer.json, see that folder's README).
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeLicel, inspectLicel, physicalUnit, physicalValues, type LicelFile } from '../processing/licel/index.js';

const LICEL_DATA_DIR = join(import.meta.dirname, '..', '..', 'shared', 'data', 'licel');
const REAL_FILES = ['RM1261600.003', 'RS2241315.544839', 'RS2241320.095388'];
const present = existsSync(LICEL_DATA_DIR);

interface PeerChannel {
  index_in_file: number;
  id: string;
  analog_photon_flag: string;
  laser_used: number;
  number_of_datapoints: number;
  HV_V: number;
  bin_width_m: number;
  wavelength_str: string;
  ADCbits: number;
  number_of_shots: number;
  raw_info: { discriminator: string; d3: string; d4: string };
  raw_first5: number[];
  raw_last5: number[];
  raw_sum: number;
  raw_min: number;
  raw_max: number;
  licel_convention: { unit: string; first5: number[]; last5: number[]; sum: number };
}

interface Peer {
  size_bytes: number;
  peer: {
    raw_header_fields: Record<string, string>;
    site: string;
    start_time_utc: string;
    stop_time_utc: string;
    altitude_m: number;
    longitude: number;
    latitude: number;
    zenith_angle_raw: number;
    number_of_datasets: number;
  };
  channels: PeerChannel[];
}

function expectClose(actual: number, expected: number, what: string): void {
  const scale = Math.max(Math.abs(expected), Number.MIN_VALUE);
  expect(Math.abs(actual - expected) / scale, `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(1e-12);
}

describe.skipIf(!present)(`Licel conformance with the real files (${present ? LICEL_DATA_DIR : `skipped: ${LICEL_DATA_DIR} is absent`})`, () => {
  for (const name of REAL_FILES) {
    describe(name, () => {
      const load = (): { file: LicelFile; peer: Peer; bytes: Uint8Array } => {
        const bytes = new Uint8Array(readFileSync(join(LICEL_DATA_DIR, name)));
        const peer = JSON.parse(readFileSync(join(LICEL_DATA_DIR, `${name}.peer.json`), 'utf8')) as Peer;
        return { file: decodeLicel(bytes, name), peer, bytes };
      };

      it('decodes the header like the peer', () => {
        const { file, peer, bytes } = load();
        const h = file.header;
        const p = peer.peer;
        expect(bytes.length).toBe(peer.size_bytes);
        expect(h.fileName).toBe(p.raw_header_fields.Filename);
        expect(h.site).toBe(p.site);
        // The peer reads the zone-less header times as UTC.
        expect(h.startLocal + '+00:00').toBe(p.start_time_utc);
        expect(h.stopLocal + '+00:00').toBe(p.stop_time_utc);
        expect(h.altitudeM).toBe(p.altitude_m);
        expect(h.longitudeDeg).toBe(p.longitude);
        expect(h.latitudeDeg).toBe(p.latitude);
        expect(h.zenithRaw).toBe(p.zenith_angle_raw);
        expect(h.laser1Shots).toBe(Number(p.raw_header_fields.LS1));
        expect(h.laser1RateHz).toBe(Number(p.raw_header_fields.rate_1));
        expect(h.laser2Shots).toBe(Number(p.raw_header_fields.LS2));
        expect(h.laser2RateHz).toBe(Number(p.raw_header_fields.rate_2));
        expect(file.datasets.length).toBe(p.number_of_datasets);
        expect(h.format).toBe(name.startsWith('RM') ? 'raymetrics' : 'licel2022');
      });

      it('decodes every descriptor like the peer', () => {
        const { file, peer } = load();
        for (const c of peer.channels) {
          const ds = file.datasets[c.index_in_file];
          const [wavelength, pol] = c.wavelength_str.split('.');
          expect(ds.deviceId).toBe(c.id);
          expect(ds.dataType).toBe(Number(c.analog_photon_flag));
          expect(ds.laser).toBe(c.laser_used);
          expect(ds.bins).toBe(c.number_of_datapoints);
          expect(ds.pmtVoltageV).toBe(c.HV_V);
          expect(ds.binWidthM).toBe(c.bin_width_m);
          expect(ds.wavelengthNm).toBe(Number(wavelength));
          expect(ds.polarization).toBe(pol);
          expect(ds.adcBits).toBe(c.ADCbits);
          expect(ds.shots).toBe(c.number_of_shots);
          expect(ds.inputRangeV).toBe(Number(c.raw_info.discriminator));
          expect(ds.binShiftWhole).toBe(Number(c.raw_info.d3));
          expect(ds.binShiftThousandths).toBe(Number(c.raw_info.d4));
          expect(ds.raw.length).toBe(c.number_of_datapoints);
        }
      });

      it('raw first5, last5, sum, min and max equal the peer exactly (also through inspect)', () => {
        const { file, peer } = load();
        const summary = inspectLicel(file, name);
        for (const c of peer.channels) {
          const raw = file.datasets[c.index_in_file].raw;
          expect(Array.from(raw.subarray(0, 5))).toEqual(c.raw_first5);
          expect(Array.from(raw.subarray(raw.length - 5))).toEqual(c.raw_last5);
          const s = summary.datasets[c.index_in_file];
          expect([s.raw_first, s.raw_last]).toEqual([c.raw_first5[0], c.raw_last5[4]]);
          expect([s.raw_sum, s.raw_min, s.raw_max]).toEqual([c.raw_sum, c.raw_min, c.raw_max]);
        }
      });

      it('physical values equal the licel_convention block to 1e-12 relative', () => {
        const { file, peer } = load();
        for (const c of peer.channels) {
          const ds = file.datasets[c.index_in_file];
          const v = physicalValues(ds);
          expect(physicalUnit(ds)).toBe(c.licel_convention.unit);
          c.licel_convention.first5.forEach((x, i) => expectClose(v[i], x, `${c.id} first5[${i}]`));
          c.licel_convention.last5.forEach((x, i) => expectClose(v[v.length - 5 + i], x, `${c.id} last5[${i}]`));
          let sum = 0;
          for (const x of v) sum += x;
          expectClose(sum, c.licel_convention.sum, `${c.id} sum`);
        }
      });
    });
  }
});
