// Licel codec: hand-written edge cases (LICEL.md section 9), every error path with its
// file/offset/field, encoder representability checks and encode -> decode round trips.
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LidarError } from '../processing/errors.js';
import {
  decodeLicel,
  encodeLicel,
  inspectLicel,
  licelFileName,
  physicalUnit,
  physicalValues,
  squaredDatasetStd,
  type LicelDataset,
  type LicelFile,
} from '../processing/licel/index.js';

const LICEL_DATA_DIR = join(import.meta.dirname, '..', '..', 'shared', 'data', 'licel');
const REAL_FILES = ['RM1261600.003', 'RS2241315.544839', 'RS2241320.095388'];

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** A Licel file from header lines (without the blank line) and raw blocks; `at` = byte offset in a larger buffer. */
function build(lines: string[], blocks: number[][], opts: { eol?: string; at?: number } = {}): Uint8Array {
  const eol = opts.eol ?? '\r\n';
  const head = ascii(lines.map((l) => l + eol).join('') + eol);
  const size = head.length + blocks.reduce((n, b) => n + 4 * b.length + 2, 0);
  const at = opts.at ?? 0;
  const buffer = new Uint8Array(at + size);
  const out = buffer.subarray(at);
  out.set(head);
  const view = new DataView(out.buffer, out.byteOffset);
  let pos = head.length;
  for (const b of blocks) {
    b.forEach((v, i) => view.setUint32(pos + 4 * i, v, true));
    pos += 4 * b.length;
    out[pos++] = 0x0d;
    out[pos++] = 0x0a;
  }
  return out;
}

const CLASSIC = [
  ' a1321310.321100',
  ' Sao Paul 13/01/2013 10:00:00 13/01/2013 10:01:00 0760 -046.7 -023.6 00',
  ' 0001200 0020 0000000 0010 02',
  ' 1 0 1 00005 1 0800 7.50 00532.p 0 0 00 000 12 001200 0.500 BT0',
  ' 1 1 1 00003 1 0800 7.50 00532.s 0 0 00 000 00 001200 3.1746 BC0',
];
const CLASSIC_RAW = [
  [1, 2, 3, 4, 4294967295],
  [10, 20, 30],
];

/** Expects a LidarError with this code and location; returns it for message checks. */
function expectLidarError(fn: () => unknown, code: string, where: { file?: string; offset?: number; field?: string }): LidarError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LidarError);
    const err = e as LidarError;
    expect(err.code).toBe(code);
    expect({ file: err.file, offset: err.offset, field: err.field }).toMatchObject(where);
    return err;
  }
  throw new Error('expected a LidarError');
}

const formatError = (bytes: Uint8Array, where: { offset?: number; field: string }) =>
  expectLidarError(() => decodeLicel(bytes, 'f.dat'), 'LIDAR_ERR_LICEL_FORMAT', { file: 'f.dat', ...where });

function roundTrip(file: LicelFile): LicelFile {
  return decodeLicel(encodeLicel(file));
}

describe('decodeLicel: header variants', () => {
  it('reads a classic header: site with spaces, unequal bin counts, uint32 values', () => {
    const f = decodeLicel(build(CLASSIC, CLASSIC_RAW));
    expect(f.header).toMatchObject({
      format: 'classic', fileName: 'a1321310.321100', site: 'Sao Paul',
      startLocal: '2013-01-13T10:00:00', stopLocal: '2013-01-13T10:01:00',
      altitudeM: 760, longitudeDeg: -46.7, latitudeDeg: -23.6, zenithRaw: 0,
      customText: '', scan: null, laser1Shots: 1200, laser1RateHz: 20, laser2Shots: 0, laser2RateHz: 10,
      extraLine2Tokens: [], extraLine3Tokens: [],
    });
    for (const k of ['azimuthDeg', 'temperatureC', 'pressureHpa', 'laser3Shots', 'laser3RateHz', 'controllerTimestampMs'] as const) {
      expect(f.header[k]).toBeNaN();
    }
    expect(f.datasets.map((d) => d.bins)).toEqual([5, 3]);
    expect(Array.from(f.datasets[0].raw)).toEqual(CLASSIC_RAW[0]);
    expect(Array.from(f.datasets[1].raw)).toEqual(CLASSIC_RAW[1]);
    expect(f.datasets[1]).toMatchObject({
      active: true, dataType: 1, laser: 1, field5: '1', pmtVoltageV: 800, binWidthM: 7.5, wavelengthNm: 532,
      polarization: 's', binShiftWhole: 0, binShiftThousandths: 0, adcBits: 0, shots: 1200, inputRangeV: 3.1746, deviceId: 'BC0',
    });
  });

  it('accepts LF-only header lines (Licel Python writer) with the same result', () => {
    const crlf = decodeLicel(build(CLASSIC, CLASSIC_RAW));
    const lf = decodeLicel(build(CLASSIC, CLASSIC_RAW, { eol: '\n' }));
    expect(lf).toEqual(crlf);
  });

  it('keeps unknown trailing tokens of lines 2 and 3', () => {
    const lines = [...CLASSIC];
    lines[1] += ' X1';
    lines[2] += ' foo bar';
    const f = decodeLicel(build(lines, CLASSIC_RAW));
    expect(f.header.format).toBe('classic');
    expect(f.header.extraLine2Tokens).toEqual(['X1']);
    expect(f.header.extraLine3Tokens).toEqual(['foo', 'bar']);
    expect(roundTrip(f)).toEqual(f);
  });

  it('reads Raymetrics line-2 extras, the scan line, duplicate IDs and per-dataset shots', () => {
    const lines = [
      ' RM2030110.000000',
      ' Athens 01/03/2020 10:00:00 01/03/2020 10:01:00 0200 0023.7 0037.9 -90 00 20.0 1010.0',
      ' 10.0 160.0 25.0 00.0 -10.0 00.2 00.0',
      ' 0000015 0010 0000000 0010 02',
      ' 1 0 1 00004 1 0900 7.50 01064.o 0 0 09 000 12 000015 0.100 BT0',
      ' 1 0 1 00004 1 0900 7.50 01064.o 0 0 09 000 12 000014 0.100 BT0',
    ];
    const f = decodeLicel(build(lines, [[1, 2, 3, 4], [0, 0, 0, 0]]));
    expect(f.header).toMatchObject({ format: 'raymetrics', site: 'Athens', zenithRaw: -90, azimuthDeg: 0, temperatureC: 20, pressureHpa: 1010 });
    expect(f.header.scan).toEqual({
      azimuthStartDeg: 10, azimuthStopDeg: 160, azimuthStepDeg: 25,
      zenithStartDeg: 0, zenithStopDeg: -10, zenithStepDeg: 0.2, azimuthOffsetDeg: 0,
    });
    expect(f.datasets.map((d) => [d.deviceId, d.shots, d.binShiftWhole])).toEqual([['BT0', 15, 9], ['BT0', 14, 9]]);
    expect(inspectLicel(f, 'x').datasets.map((d) => d.index)).toEqual([0, 1]);
    expect(roundTrip(f)).toEqual(f);
  });

  it('reads the 2022 layout: 11-char lon/lat, azimuth, quoted custom text, laser 3, reserved pair, timestamp', () => {
    const lines = [
      ' RS2241315.544839',
      ' Medellin 13/04/2022 15:54:18 13/04/2022 15:54:48 1495 -075.565800 0006.247600 90.0 12.5 "north  wall" tail',
      ' 0000601 0020 0000000 0020 01 0000000 0010 0000000 0010 123456789 more',
      ' 1 2 1 00002 1 0520 3.75 00000.s 0 0 01 000 16 000601 0.500 S2A0',
    ];
    const f = decodeLicel(build(lines, [[7, 8]]));
    expect(f.header).toMatchObject({
      format: 'licel2022', longitudeDeg: -75.5658, latitudeDeg: 6.2476, zenithRaw: 90, azimuthDeg: 12.5,
      customText: 'north  wall', extraLine2Tokens: ['tail'], laser3Shots: 0, laser3RateHz: 10,
      controllerTimestampMs: 123456789, extraLine3Tokens: ['0000000', '0010', 'more'],
    });
    expect(roundTrip(f)).toEqual(f);
  });

  it('reads a bin width written as 0015, a zero laser-1 shot count and a wavelength without polarisation', () => {
    const lines = [
      ' a1081512.000000',
      ' Golmud   15/08/2010 12:00:00 15/08/2010 12:05:00 2808 0094.5 0036.2 00',
      ' 0000000 0020 0006000 0020 01',
      ' 1 0 2 00003 1 0700 0015 00532 0 0 00 000 12 006000 0.500 BT1',
    ];
    const f = decodeLicel(build(lines, [[5, 6, 7]]));
    expect(f.header.site).toBe('Golmud');
    expect(f.datasets[0]).toMatchObject({ binWidthM: 15, laser: 2, wavelengthNm: 532, polarization: '' });
    expect(roundTrip(f)).toEqual(f);
  });

  it('decodes a Node Buffer at any byte offset (slice on a Buffer is a view: the copy must not use it)', () => {
    const expected = decodeLicel(build(CLASSIC, CLASSIC_RAW));
    for (let at = 0; at < 4; at++) {
      const pool = Buffer.alloc(at + 1000, 0x55);
      const bytes = build(CLASSIC, CLASSIC_RAW);
      bytes.forEach((b, i) => (pool[at + i] = b));
      const f = decodeLicel(pool.subarray(at, at + bytes.length));
      expect(f.datasets.map((d) => Array.from(d.raw))).toEqual(CLASSIC_RAW);
      expect(f).toEqual(expected);
    }
  });

  it('returns zero-copy views for 4-byte aligned blocks and copies otherwise', () => {
    const headerLength = ascii(CLASSIC.map((l) => l + '\r\n').join('') + '\r\n').length;
    for (let at = 0; at < 4; at++) {
      const bytes = build(CLASSIC, CLASSIC_RAW, { at });
      const f = decodeLicel(bytes);
      let blockOffset = headerLength;
      f.datasets.forEach((ds, k) => {
        const aligned = (at + blockOffset) % 4 === 0;
        expect(ds.raw.buffer === bytes.buffer, `at ${at} dataset ${k}`).toBe(aligned);
        if (aligned) expect(ds.raw.byteOffset).toBe(bytes.byteOffset + blockOffset);
        expect(Array.from(ds.raw)).toEqual(CLASSIC_RAW[k]);
        blockOffset += 4 * ds.bins + 2;
      });
    }
  });
});

describe('decodeLicel: errors name file, byte offset and field', () => {
  const good = () => build(CLASSIC, CLASSIC_RAW);
  const offsetOf = (bytes: Uint8Array, text: string) => Buffer.from(bytes).indexOf(text);
  const withLine = (i: number, line: string, raw = CLASSIC_RAW) => {
    const lines = [...CLASSIC];
    lines[i] = line;
    return build(lines, raw);
  };

  it('bad integer: names the value', () => {
    const bytes = withLine(3, ' 1 0 1 x6380 1 0800 7.50 00532.p 0 0 00 000 12 001200 0.500 BT0');
    const e = formatError(bytes, { offset: offsetOf(bytes, 'x6380'), field: 'dataset 0 bins' });
    expect(e.message).toBe(`f.dat, byte ${offsetOf(bytes, 'x6380')}, field dataset 0 bins: invalid integer 'x6380'`);
  });

  it('bad numbers in line 2 and descriptors', () => {
    let bytes = withLine(1, ' Sao Paul 13/01/2013 10:00:00 13/01/2013 10:01:00 07a0 -046.7 -023.6 00');
    formatError(bytes, { offset: offsetOf(bytes, '07a0'), field: 'line 2 altitude' });
    bytes = withLine(4, ' 1 1 1 00003 1 0800 7.5.0 00532.s 0 0 00 000 00 001200 3.1746 BC0');
    formatError(bytes, { offset: offsetOf(bytes, '7.5.0'), field: 'dataset 1 bin width' });
    bytes = withLine(4, ' 1 1 1 00003 1 0800 7.50 0x532.s 0 0 00 000 00 001200 3.1746 BC0');
    formatError(bytes, { offset: offsetOf(bytes, '0x532.s'), field: 'dataset 1 wavelength' });
    bytes = withLine(4, ' 1 7 1 00003 1 0800 7.50 00532.s 0 0 00 000 00 001200 3.1746 BC0');
    formatError(bytes, { field: 'dataset 1 data type' });
    bytes = withLine(4, ' 2 1 1 00003 1 0800 7.50 00532.s 0 0 00 000 00 001200 3.1746 BC0');
    formatError(bytes, { field: 'dataset 1 active' });
    bytes = withLine(4, ' 1 1 1 00003 1 0800 -7.50 00532.s 0 0 00 000 00 001200 3.1746 BC0');
    formatError(bytes, { field: 'dataset 1 bin width' });
    bytes = withLine(3, ' 1 0 1 00005 1 0800 7.50 00532.p 0 0 00 000 40 001200 0.500 BT0');
    formatError(bytes, { field: 'dataset 0 ADC bits' });
    bytes = withLine(2, ' 0001200 0020 0000000 001O 02');
    formatError(bytes, { offset: offsetOf(bytes, '001O'), field: 'laser 2 rate' });
  });

  it('bad dates and missing line-2 fields', () => {
    let bytes = withLine(1, ' Sao Paul 32/01/2013 10:00:00 13/01/2013 10:01:00 0760 -046.7 -023.6 00');
    formatError(bytes, { offset: offsetOf(bytes, '32/01'), field: 'line 2 start date' });
    bytes = withLine(1, ' Sao Paul 13/01/2013 10:00:00 13/01/2013 10:61:00 0760 -046.7 -023.6 00');
    formatError(bytes, { field: 'line 2 stop date' });
    bytes = withLine(1, ' Sao Paul 2013-01-13 10:00:00');
    formatError(bytes, { offset: offsetOf(bytes, ' Sao'), field: 'line 2 start date' });
    bytes = withLine(1, ' Sao Paul 13/01/2013 10:00:00 13/01/2013 10:01:00 0760 -046.7');
    formatError(bytes, { field: 'line 2 latitude' });
  });

  it('zero and absurd bin counts', () => {
    let bytes = withLine(3, ' 1 0 1 00000 1 0800 7.50 00532.p 0 0 00 000 12 001200 0.500 BT0', [[], CLASSIC_RAW[1]]);
    formatError(bytes, { offset: offsetOf(bytes, ' 00000 ') + 1, field: 'dataset 0 bins' });
    bytes = withLine(3, ' 1 0 1 99999999 1 0800 7.50 00532.p 0 0 00 000 12 001200 0.500 BT0');
    const e = formatError(bytes, { offset: offsetOf(bytes, '99999999'), field: 'dataset 0 bins' });
    expect(e.message).toContain('bin count 99999999 outside 1..1048576');
  });

  it('dataset count not matching the descriptor lines', () => {
    let bytes = withLine(2, ' 0001200 0020 0000000 0010 03');
    let e = formatError(bytes, { field: 'dataset count' });
    expect(e.message).toContain('declares 3 datasets but has 2 descriptor lines');
    bytes = withLine(2, ' 0001200 0020 0000000 0010 01');
    e = formatError(bytes, { offset: offsetOf(bytes, ' 1 1 1 00003'), field: 'dataset count' });
    expect(e.message).toContain('more descriptor lines follow');
    formatError(withLine(2, ' 0001200 0020 0000000 0010 00'), { field: 'dataset count' });
    formatError(withLine(2, ' 0001200 0020 0000000 0010 1001'), { field: 'dataset count' });
    formatError(withLine(2, ' 0001200 0020 0000000 0010'), { field: 'dataset count' });
    bytes = withLine(3, ' 1 0 1 00005 1 0800 7.50 00532.p 0 0 00 000 12 001200 0.500');
    formatError(bytes, { offset: offsetOf(bytes, ' 1 0 1 00005'), field: 'dataset 0 descriptor' });
  });

  it('truncated file: names expected and actual sizes', () => {
    const bytes = good();
    const cut = bytes.subarray(0, bytes.length - 7);
    const e = formatError(cut, { offset: cut.length, field: 'dataset 1 raw' });
    expect(e.message).toContain(`the descriptors need ${bytes.length} bytes, the file has ${cut.length}`);
    formatError(bytes.subarray(0, 50), { offset: 50, field: 'line 2' });
    formatError(new Uint8Array(0), { offset: 0, field: 'line 1 file name' });
  });

  it('missing CR LF after a block, and bytes after the last block', () => {
    const bytes = good().slice();
    const end = bytes.length - 2 - 4 * 3 - 2;
    bytes[end] = 0x00;
    const e = formatError(bytes, { offset: end, field: 'dataset 0 block end' });
    expect(e.message).toContain('expected CR LF (0d 0a) after the 5 bins, got 00 0a');
    const longer = new Uint8Array(good().length + 3);
    longer.set(good());
    formatError(longer, { offset: good().length, field: 'end of data' });
  });

  it('non-ASCII garbage, stray CR, overlong lines and a missing blank line', () => {
    let bytes: Uint8Array = good().slice();
    bytes[offsetOf(bytes, 'Paul')] = 0xc3;
    const e = formatError(bytes, { offset: offsetOf(good(), 'Paul'), field: 'line 2' });
    expect(e.message).toContain('byte 0xc3 in the ASCII header');
    bytes = good().slice();
    bytes[5] = 0x0d;
    formatError(bytes, { offset: 5, field: 'line 1 file name' });
    const long = new Uint8Array(100_000).fill(0x41);
    formatError(long, { offset: 0, field: 'line 1 file name' });
    bytes = build([...CLASSIC, ' junk'], CLASSIC_RAW);
    formatError(bytes, { offset: offsetOf(bytes, ' junk'), field: 'end of header' });
  });

  it('without a file name the error has no file', () => {
    const err = expectLidarError(() => decodeLicel(new Uint8Array(3)), 'LIDAR_ERR_LICEL_FORMAT', { offset: 0 });
    expect(err.file).toBeUndefined();
  });
});

describe('physical values (Licel convention)', () => {
  const ds = (over: Partial<LicelDataset>): LicelDataset => ({
    active: true, dataType: 0, laser: 1, bins: 3, field5: '1', pmtVoltageV: 800, binWidthM: 7.5, wavelengthNm: 532,
    polarization: 'p', binShiftWhole: 0, binShiftThousandths: 0, adcBits: 12, shots: 100, inputRangeV: 0.5,
    deviceId: 'BT0', raw: Uint32Array.from([0, 4096, 409600]), ...over,
  });

  it('analog mV = raw/shots * range_mV / 2^bits; photon MHz = raw/shots * 150 / bin width', () => {
    expect(physicalUnit(ds({}))).toBe('mV');
    expect(Array.from(physicalValues(ds({})))).toEqual([0, 500 / 100, 500]);
    const pc = ds({ dataType: 1, adcBits: 0, raw: Uint32Array.from([0, 100, 250]) });
    expect(physicalUnit(pc)).toBe('MHz');
    expect(Array.from(physicalValues(pc))).toEqual([0, 20, 50]);
    const out = new Float64Array(5).fill(-1);
    expect(physicalValues(pc, out)).toBe(out);
    expect(Array.from(out)).toEqual([0, 20, 50, -1, -1]);
    expectLidarError(() => physicalValues(pc, new Float64Array(2)), 'LIDAR_ERR_BAD_VALUE', { field: 'out' });
  });

  it('shots = 0 or bin width 0 give NaN, never Infinity', () => {
    expect(Array.from(physicalValues(ds({ shots: 0 }))).every(Number.isNaN)).toBe(true);
    expect(Array.from(physicalValues(ds({ dataType: 1, shots: 0 }))).every(Number.isNaN)).toBe(true);
    expect(Array.from(physicalValues(ds({ dataType: 1, binWidthM: 0 }))).every(Number.isNaN)).toBe(true);
  });

  it('squared datasets: raw unchanged, and the per-shot sample standard deviation', () => {
    const s2a = ds({ dataType: 2, deviceId: 'S2A0', shots: 5, adcBits: 12, raw: Uint32Array.from([0, 4096 * Math.sqrt(20)]) });
    expect(physicalUnit(s2a)).toBe('raw');
    expect(Array.from(physicalValues(s2a))).toEqual(Array.from(s2a.raw));
    // Shots 5 of values {0, 0, 0, 0, 1} ADC: n*sum(x^2) - sum(x)^2 = 4 -> stored sqrt = 2; std = 2 / sqrt(20).
    const one = ds({ dataType: 2, shots: 5, raw: Uint32Array.from([2]) });
    expect(squaredDatasetStd(one)[0]).toBeCloseTo((2 / Math.sqrt(20)) * (500 / 4096), 15);
    const s2p = ds({ dataType: 3, shots: 5, binWidthM: 7.5, raw: Uint32Array.from([2]) });
    expect(squaredDatasetStd(s2p)[0]).toBeCloseTo((2 / Math.sqrt(20)) * 20, 12);
    expect(squaredDatasetStd(ds({ dataType: 2, shots: 1 }))[0]).toBeNaN();
    expectLidarError(() => squaredDatasetStd(ds({})), 'LIDAR_ERR_BAD_VALUE', { field: 'dataType' });
  });
});

describe('encodeLicel', () => {
  const sample = () => decodeLicel(build(CLASSIC, CLASSIC_RAW));

  it('writes 80-byte CRLF header lines and reproduces a classic file byte for byte', () => {
    const bytes = build(CLASSIC.map((l) => l.padEnd(78)), CLASSIC_RAW);
    const again = encodeLicel(decodeLicel(bytes));
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
  });

  it('rejects values it cannot write, naming the field', () => {
    const bad = (edit: (f: LicelFile) => void, field: string) => {
      const f = sample();
      edit(f);
      expectLidarError(() => encodeLicel(f), 'LIDAR_ERR_BAD_VALUE', { field });
    };
    bad((f) => (f.datasets[0].bins = -1), 'datasets[0].bins');
    bad((f) => (f.datasets[0].raw = new Uint32Array(4)), 'datasets[0].raw');
    bad((f) => (f.header.site = 'Lab 01/02/2020'), 'header.site');
    bad((f) => (f.header.site = ' padded'), 'header.site');
    bad((f) => (f.header.latitudeDeg = 42.65), 'header.latitudeDeg');
    bad((f) => (f.header.altitudeM = NaN), 'header.altitudeM');
    bad((f) => (f.header.startLocal = '2020-13-01T00:00:00'), 'header.startLocal');
    bad((f) => (f.datasets[1].deviceId = 'B C0'), 'datasets[1].deviceId');
    bad((f) => (f.datasets[1].polarization = 'pp'), 'datasets[1].polarization');
    bad((f) => (f.datasets[1].shots = 1.5), 'datasets[1].shots');
    bad((f) => (f.header.laser3Shots = 10), 'header.laser3RateHz');
    bad((f) => (f.header.temperatureC = 20), 'header.azimuthDeg');
    bad((f) => (f.header.customText = 'hi'), 'header.customText');
    bad((f) => (f.header.extraLine3Tokens = ['1', '2']), 'header.extraLine3Tokens');
    bad((f) => (f.header.extraLine2Tokens = ['1', '2', '3']), 'header.extraLine2Tokens');
    bad((f) => (f.header.extraLine2Tokens = ['a b']), 'header.extraLine2Tokens[0]');
    bad((f) => (f.header.controllerTimestampMs = 5), 'header.controllerTimestampMs');
    bad((f) => (f.header.format = 'raymetrics'), 'header.format');
    bad((f) => (f.datasets = []), 'datasets');
    bad((f) => {
      f.header.format = 'licel2022';
      f.header.azimuthDeg = 0;
      f.header.latitudeDeg = 1e-7;
    }, 'header.latitudeDeg');
  });

  it('licelFileName encodes the stop time with a one-digit hex month', () => {
    expect(licelFileName('RS', '2022-04-13T15:54:48.39')).toBe('RS2241315.544839');
    expect(licelFileName('L', '2013-10-14T20:59:11.30')).toBe('L13A1420.591130');
    expect(licelFileName('a', '2009-12-01T00:00:05')).toBe('a09C0100.000500');
    expect(licelFileName('b', '2024-01-02T03:04:05.123')).toBe('b2410203.0405123');
    expect(licelFileName('b', '2024-01-02T03:04:05.5')).toBe('b2410203.040550');
    expectLidarError(() => licelFileName('ABC', '2024-01-02T03:04:05'), 'LIDAR_ERR_BAD_VALUE', { field: 'prefix' });
    expectLidarError(() => licelFileName('A', '2024-01-02 03:04:05'), 'LIDAR_ERR_BAD_VALUE', { field: 'stopLocal' });
  });
});

describe.skipIf(!existsSync(LICEL_DATA_DIR))(`real files re-encoded (${LICEL_DATA_DIR})`, () => {
  for (const name of REAL_FILES) {
    it(`${name}: decode(encode(decode(file))) equals decode(file)`, () => {
      const bytes = new Uint8Array(readFileSync(join(LICEL_DATA_DIR, name)));
      const file = decodeLicel(bytes, name);
      const again = encodeLicel(file);
      expect(again.length).toBe(bytes.length);
      expect(decodeLicel(again)).toEqual(file);
    });
  }
});
