/**
 * Licel raw-data decoder: bytes of one file -> LicelFile.
 * Format: ../shared/design/LICEL.md (sections 1-6, checklist in section 9); choices: ./README.md.
 *
 * The header is read line by line with hard caps (line length, dataset count, bin count), every
 * token is checked against a strict grammar, and every failure is a LidarError
 * `LIDAR_ERR_LICEL_FORMAT` naming the file, the byte offset and the field. Work is linear in the
 * input: header bytes are visited once and raw blocks are either viewed (zero copy) or copied once.
 * Pure: no Node or DOM APIs (ASCII is decoded with String.fromCharCode over bounded slices).
 */
import { LidarError } from '../errors.js';
import type {
  LicelDataset,
  LicelDataType,
  LicelFile,
  LicelHeader,
  LicelHeaderFormat,
  RaymetricsScanLine,
} from './types.js';

/** Hard limits that keep garbage input from hanging or allocating wildly. */
export const LICEL_LIMITS = {
  /** Longest accepted header line, in bytes, including its line end. */
  maxHeaderLineBytes: 4096,
  /** Most datasets (descriptor lines) in one file. */
  maxDatasets: 1000,
  /** Most bins in one dataset: 2^20, so a dataset's raw sum stays below 2^52 (exact in a Number). */
  maxBins: 1 << 20,
} as const;

/** Token grammar shared by the decoder and the encoder's representability checks. */
export const LICEL_GRAMMAR = {
  /** Unsigned decimal integer (counts, shots, rates). */
  uint: /^\d{1,15}$/,
  /** Signed decimal integer (bin shift). */
  int: /^[+-]?\d{1,15}$/,
  /** Signed decimal number without exponent (angles, positions, bin width, input range). */
  decimal: /^[+-]?(?:\d{1,15}(?:\.\d{0,15})?|\.\d{1,15})$/,
  /** The date token that ends the site name in line 2. */
  date: /^(\d{2})\/(\d{2})\/(\d{4})$/,
  time: /^(\d{2}):(\d{2}):(\d{2})$/,
  /** Descriptor field 8: wavelength in nm, a period and the polarisation letter. */
  wavelength: /^(\d{1,15})(?:\.([A-Za-z]?))?$/,
} as const;

/** True when this platform stores typed-array elements little-endian, as Licel files do. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const LINE2_FIELDS = ['start date', 'start time', 'stop date', 'stop time', 'altitude', 'longitude', 'latitude', 'zenith'];
const LASER_FIELDS = ['laser 1 shots', 'laser 1 rate', 'laser 2 shots', 'laser 2 rate', 'dataset count'];

interface Token {
  text: string;
  /** Index in the line string (equals the byte offset from the line start: the header is ASCII). */
  start: number;
}

interface Line {
  text: string;
  /** Byte offset of the line's first byte in the file. */
  offset: number;
  tokens: Token[];
}

/** Splits on spaces and tabs, keeping each token's position. */
export function tokenizeLicelLine(text: string, base = 0): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
    const start = i;
    while (i < text.length && text[i] !== ' ' && text[i] !== '\t') i++;
    if (i > start) tokens.push({ text: text.slice(start, i), start: start + base });
  }
  return tokens;
}

/** Validated `dd/mm/yyyy` + `HH:MM:SS` -> 'YYYY-MM-DDTHH:MM:SS', or null if out of range. */
export function licelDateTime(date: string, time: string): string | null {
  const d = LICEL_GRAMMAR.date.exec(date);
  const t = LICEL_GRAMMAR.time.exec(time);
  if (d === null || t === null) return null;
  const [day, month, hour, minute, second] = [d[1], d[2], t[1], t[2], t[3]].map(Number);
  if (day < 1 || day > 31 || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) return null;
  return `${d[3]}-${d[2]}-${d[1]}T${t[1]}:${t[2]}:${t[3]}`;
}

function quote(s: string): string {
  return `'${s.length > 40 ? s.slice(0, 40) + '...' : s}'`;
}

/** One decoding pass over one file; holds the position and the error context. */
class Decoder {
  private pos = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly fileName: string | undefined,
  ) {}

  fail(detail: string, offset: number, field: string): never {
    throw new LidarError('LIDAR_ERR_LICEL_FORMAT', detail, { file: this.fileName, offset, field });
  }

  /** Reads one header line ending in LF or CRLF, at most maxHeaderLineBytes long, ASCII only. */
  readLine(field: string): Line {
    const { bytes } = this;
    const offset = this.pos;
    const limit = Math.min(bytes.length, offset + LICEL_LIMITS.maxHeaderLineBytes);
    let i = offset;
    for (; i < limit; i++) {
      const b = bytes[i];
      if (b === 0x0a) break;
      if (b === 0x0d && i + 1 < bytes.length && bytes[i + 1] === 0x0a) continue;
      if (b !== 0x09 && (b < 0x20 || b > 0x7e)) {
        this.fail(`byte 0x${b.toString(16).padStart(2, '0')} in the ASCII header`, i, field);
      }
    }
    if (i === limit) {
      if (limit === bytes.length) this.fail(`file ends inside the header (${bytes.length} bytes)`, bytes.length, field);
      this.fail(`header line longer than ${LICEL_LIMITS.maxHeaderLineBytes} bytes`, offset, field);
    }
    const end = i > offset && bytes[i - 1] === 0x0d ? i - 1 : i;
    this.pos = i + 1;
    // Bounded slice (< maxHeaderLineBytes): safe as spread arguments.
    const text = String.fromCharCode(...bytes.subarray(offset, end));
    return { text, offset, tokens: tokenizeLicelLine(text) };
  }

  uint(line: Line, token: Token, field: string): number {
    if (!LICEL_GRAMMAR.uint.test(token.text)) this.fail(`invalid integer ${quote(token.text)}`, line.offset + token.start, field);
    return Number(token.text);
  }

  int(line: Line, token: Token, field: string): number {
    if (!LICEL_GRAMMAR.int.test(token.text)) this.fail(`invalid integer ${quote(token.text)}`, line.offset + token.start, field);
    return Number(token.text);
  }

  decimal(line: Line, token: Token, field: string): number {
    if (!LICEL_GRAMMAR.decimal.test(token.text)) this.fail(`invalid number ${quote(token.text)}`, line.offset + token.start, field);
    return Number(token.text);
  }

  decode(): LicelFile {
    const line1 = this.readLine('line 1 file name');
    const line2 = this.readLine('line 2');
    const h = this.parseLine2(line2);
    let laserLine = this.readLine('line 3');
    let scan: RaymetricsScanLine | null = null;
    if (isScanLineShape(laserLine.tokens)) {
      scan = this.parseScanLine(laserLine);
      laserLine = this.readLine('line 4');
      if (h.format === 'classic') h.format = 'raymetrics';
    }
    const lasers = this.parseLaserLine(laserLine, h.format);
    const descriptors: LicelDataset[] = [];
    for (let k = 0; k < lasers.datasetCount; k++) {
      const line = this.readLine(`dataset ${k} descriptor`);
      if (line.tokens.length === 0) {
        this.fail(`the header declares ${lasers.datasetCount} datasets but has ${k} descriptor lines`, line.offset, 'dataset count');
      }
      descriptors.push(this.parseDescriptor(line, k));
    }
    const blank = this.readLine('end of header');
    if (blank.tokens.length > 0) {
      if (blank.tokens.length === 16) {
        this.fail(`the header declares ${lasers.datasetCount} datasets but more descriptor lines follow`, blank.offset, 'dataset count');
      }
      this.fail(`expected the empty line that ends the header, got ${quote(blank.text.trim())}`, blank.offset, 'end of header');
    }
    this.readBlocks(descriptors);
    const header: LicelHeader = {
      format: h.format,
      fileName: line1.text.trim(),
      site: h.site,
      startLocal: h.startLocal,
      stopLocal: h.stopLocal,
      altitudeM: h.altitudeM,
      longitudeDeg: h.longitudeDeg,
      latitudeDeg: h.latitudeDeg,
      zenithRaw: h.zenithRaw,
      azimuthDeg: h.azimuthDeg,
      customText: h.customText,
      temperatureC: h.temperatureC,
      pressureHpa: h.pressureHpa,
      scan,
      laser1Shots: lasers.laser1Shots,
      laser1RateHz: lasers.laser1RateHz,
      laser2Shots: lasers.laser2Shots,
      laser2RateHz: lasers.laser2RateHz,
      laser3Shots: lasers.laser3Shots,
      laser3RateHz: lasers.laser3RateHz,
      controllerTimestampMs: lasers.controllerTimestampMs,
      extraLine2Tokens: h.extraLine2Tokens,
      extraLine3Tokens: lasers.extraLine3Tokens,
    };
    return { header, datasets: descriptors };
  }

  /** Line 2: site (everything before the first dd/mm/yyyy token), times, position, angles, extras. */
  private parseLine2(line: Line) {
    const { tokens } = line;
    const d = tokens.findIndex((t) => LICEL_GRAMMAR.date.test(t.text));
    if (d < 0) this.fail('no start date dd/mm/yyyy in line 2', line.offset, 'line 2 start date');
    for (let i = 0; i < LINE2_FIELDS.length; i++) {
      if (d + i >= tokens.length) {
        this.fail(`line 2 ends before the ${LINE2_FIELDS[i]}`, line.offset + line.text.length, `line 2 ${LINE2_FIELDS[i]}`);
      }
    }
    const at = (i: number) => tokens[d + i];
    const dateTime = (i: number, what: string) => {
      const iso = licelDateTime(at(i).text, at(i + 1).text);
      if (iso === null) {
        this.fail(`invalid ${what} time ${quote(`${at(i).text} ${at(i + 1).text}`)}`, line.offset + at(i).start, `line 2 ${what} date`);
      }
      return iso;
    };
    const startLocal = dateTime(0, 'start');
    const stopLocal = dateTime(2, 'stop');
    const altitudeM = this.decimal(line, at(4), 'line 2 altitude');
    const longitudeDeg = this.decimal(line, at(5), 'line 2 longitude');
    const latitudeDeg = this.decimal(line, at(6), 'line 2 latitude');
    const zenithRaw = this.decimal(line, at(7), 'line 2 zenith');
    let rest = tokens.slice(d + 8);
    const isNumber = (t: Token | undefined) => t !== undefined && LICEL_GRAMMAR.decimal.test(t.text);

    let format: LicelHeaderFormat = 'classic';
    let azimuthDeg = NaN;
    let temperatureC = NaN;
    let pressureHpa = NaN;
    let customText = '';
    if (decimalsOf(at(5).text) > 1 || decimalsOf(at(6).text) > 1) {
      // Newest Licel layout: 11-character lon/lat, then azimuth and an optional "quoted" text.
      format = 'licel2022';
      if (isNumber(rest[0])) azimuthDeg = this.decimal(line, rest.shift() as Token, 'line 2 azimuth');
      const first = rest[0];
      if (first !== undefined && first.text.startsWith('"')) {
        const close = line.text.indexOf('"', first.start + 1);
        if (close < 0) this.fail('unterminated quoted custom text', line.offset + first.start, 'line 2 custom text');
        customText = line.text.slice(first.start + 1, close);
        rest = tokenizeLicelLine(line.text.slice(close + 1), close + 1);
      }
    } else if (isNumber(rest[0]) && isNumber(rest[1]) && isNumber(rest[2])) {
      // Raymetrics: azimuth, surface temperature and pressure after the zenith angle.
      format = 'raymetrics';
      azimuthDeg = this.decimal(line, rest[0], 'line 2 azimuth');
      temperatureC = this.decimal(line, rest[1], 'line 2 temperature');
      pressureHpa = this.decimal(line, rest[2], 'line 2 pressure');
      rest = rest.slice(3);
    }
    const site = line.text.slice(0, tokens[d].start).trim();
    return {
      format, site, startLocal, stopLocal, altitudeM, longitudeDeg, latitudeDeg, zenithRaw,
      azimuthDeg, temperatureC, pressureHpa, customText,
      extraLine2Tokens: rest.map((t) => t.text),
    };
  }

  private parseScanLine(line: Line): RaymetricsScanLine {
    const names = ['azimuth start', 'azimuth stop', 'azimuth step', 'zenith start', 'zenith stop', 'zenith step', 'azimuth offset'];
    const v = line.tokens.map((t, i) => this.decimal(line, t, `scan line ${names[i]}`));
    return {
      azimuthStartDeg: v[0], azimuthStopDeg: v[1], azimuthStepDeg: v[2],
      zenithStartDeg: v[3], zenithStopDeg: v[4], zenithStepDeg: v[5], azimuthOffsetDeg: v[6],
    };
  }

  /** Laser line: shots and rates of lasers 1-2, dataset count, [laser 3, [reserved pair, [timestamp]]]. */
  private parseLaserLine(line: Line, format: LicelHeaderFormat) {
    const { tokens } = line;
    if (tokens.length < 5) {
      this.fail(`laser line has ${tokens.length} fields, expected at least 5`, line.offset + line.text.length, LASER_FIELDS[tokens.length]);
    }
    const [laser1Shots, laser1RateHz, laser2Shots, laser2RateHz, datasetCount] = LASER_FIELDS.map((f, i) =>
      this.uint(line, tokens[i], f),
    );
    if (datasetCount === 0 || datasetCount > LICEL_LIMITS.maxDatasets) {
      this.fail(
        `dataset count ${datasetCount} outside 1..${LICEL_LIMITS.maxDatasets}`,
        line.offset + tokens[4].start,
        'dataset count',
      );
    }
    const rest = tokens.slice(5);
    const isUint = (t: Token | undefined) => t !== undefined && LICEL_GRAMMAR.uint.test(t.text);
    let laser3Shots = NaN;
    let laser3RateHz = NaN;
    let controllerTimestampMs = NaN;
    let extra = rest;
    if (isUint(rest[0]) && isUint(rest[1])) {
      laser3Shots = Number(rest[0].text);
      laser3RateHz = Number(rest[1].text);
      extra = rest.slice(2);
      if (format === 'licel2022' && isUint(extra[2])) {
        controllerTimestampMs = Number(extra[2].text);
        extra = [...extra.slice(0, 2), ...extra.slice(3)];
      }
    }
    return {
      laser1Shots, laser1RateHz, laser2Shots, laser2RateHz, datasetCount,
      laser3Shots, laser3RateHz, controllerTimestampMs,
      extraLine3Tokens: extra.map((t) => t.text),
    };
  }

  /** ` 1 0 1 16380 1 0780 3.75 00355.p 0 0 09 000 12 000015 0.500 BT0` (LICEL.md section 6). */
  private parseDescriptor(line: Line, k: number): LicelDataset {
    const t = line.tokens;
    const f = (name: string) => `dataset ${k} ${name}`;
    if (t.length !== 16) this.fail(`descriptor has ${t.length} fields, expected 16`, line.offset, f('descriptor'));
    const active = this.uint(line, t[0], f('active'));
    if (active > 1) this.fail(`invalid active flag ${quote(t[0].text)} (0 or 1)`, line.offset + t[0].start, f('active'));
    const dataType = this.uint(line, t[1], f('data type'));
    if (dataType > 3) {
      this.fail(`invalid data type ${quote(t[1].text)} (0 analog, 1 photon, 2/3 squared)`, line.offset + t[1].start, f('data type'));
    }
    const laser = this.uint(line, t[2], f('laser'));
    const bins = this.uint(line, t[3], f('bins'));
    if (bins === 0 || bins > LICEL_LIMITS.maxBins) {
      this.fail(`bin count ${bins} outside 1..${LICEL_LIMITS.maxBins}`, line.offset + t[3].start, f('bins'));
    }
    const pmtVoltageV = this.decimal(line, t[5], f('PMT voltage'));
    const binWidthM = this.decimal(line, t[6], f('bin width'));
    if (binWidthM < 0) this.fail(`negative bin width ${quote(t[6].text)}`, line.offset + t[6].start, f('bin width'));
    const wl = LICEL_GRAMMAR.wavelength.exec(t[7].text);
    if (wl === null) this.fail(`invalid wavelength.polarisation ${quote(t[7].text)}`, line.offset + t[7].start, f('wavelength'));
    const binShiftWhole = this.int(line, t[10], f('bin shift'));
    const binShiftThousandths = this.int(line, t[11], f('bin shift thousandths'));
    const adcBits = this.uint(line, t[12], f('ADC bits'));
    if (adcBits > 32) this.fail(`ADC bits ${adcBits} above 32`, line.offset + t[12].start, f('ADC bits'));
    const shots = this.uint(line, t[13], f('shots'));
    const inputRangeV = this.decimal(line, t[14], f('input range'));
    return {
      active: active === 1,
      dataType: dataType as LicelDataType,
      laser,
      bins,
      field5: t[4].text,
      pmtVoltageV,
      binWidthM,
      wavelengthNm: Number(wl[1]),
      polarization: wl[2] ?? '',
      binShiftWhole,
      binShiftThousandths,
      adcBits,
      shots,
      inputRangeV,
      deviceId: t[15].text,
      raw: new Uint32Array(0),
    };
  }

  /** Binary blocks: bins x uint32 LE, then CR LF; sizes checked before anything is read. */
  private readBlocks(datasets: LicelDataset[]): void {
    const { bytes } = this;
    let expected = this.pos;
    for (const ds of datasets) expected += 4 * ds.bins + 2;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    datasets.forEach((ds, k) => {
      const start = this.pos;
      const end = start + 4 * ds.bins;
      if (end + 2 > bytes.length) {
        this.fail(
          `truncated: the descriptors need ${expected} bytes, the file has ${bytes.length}`,
          bytes.length,
          `dataset ${k} raw`,
        );
      }
      if (bytes[end] !== 0x0d || bytes[end + 1] !== 0x0a) {
        const got = `${hex(bytes[end])} ${hex(bytes[end + 1])}`;
        this.fail(`expected CR LF (0d 0a) after the ${ds.bins} bins, got ${got}`, end, `dataset ${k} block end`);
      }
      if (LITTLE_ENDIAN && (bytes.byteOffset + start) % 4 === 0) {
        ds.raw = new Uint32Array(bytes.buffer, bytes.byteOffset + start, ds.bins);
      } else if (LITTLE_ENDIAN) {
        // One byte copy into a fresh aligned buffer (not `bytes.slice`: on a Node Buffer that is a view).
        ds.raw = new Uint32Array(ds.bins);
        new Uint8Array(ds.raw.buffer).set(bytes.subarray(start, end));
      } else {
        const raw = new Uint32Array(ds.bins);
        for (let i = 0; i < ds.bins; i++) raw[i] = view.getUint32(start + 4 * i, true);
        ds.raw = raw;
      }
      this.pos = end + 2;
    });
    if (this.pos !== bytes.length) {
      this.fail(
        `${bytes.length - this.pos} bytes after the last dataset: the descriptors need ${expected} bytes, the file has ${bytes.length}`,
        this.pos,
        'end of data',
      );
    }
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}

function decimalsOf(token: string): number {
  const dot = token.indexOf('.');
  return dot < 0 ? 0 : token.length - dot - 1;
}

/** The Raymetrics scan line: exactly 7 numbers, at least one with a decimal point (laser lines are integers). */
function isScanLineShape(tokens: Token[]): boolean {
  return (
    tokens.length === 7 &&
    tokens.every((t) => LICEL_GRAMMAR.decimal.test(t.text)) &&
    tokens.some((t) => t.text.includes('.'))
  );
}

/**
 * Decodes one Licel raw file. `fileName` only labels errors.
 * Each dataset's `raw` is a zero-copy view on `bytes.buffer` when its block is 4-byte aligned
 * (little-endian platforms), otherwise a copy: do not mutate `bytes` while the result is in use.
 * @throws LidarError LIDAR_ERR_LICEL_FORMAT with file, byte offset and field.
 */
export function decodeLicel(bytes: Uint8Array, fileName?: string): LicelFile {
  return new Decoder(bytes, fileName).decode();
}
