/**
 * Licel raw-data encoder: LicelFile -> bytes, in the header's own layout (classic, licel2022,
 * raymetrics), CRLF line ends, header lines padded with spaces to 80 bytes as real files are.
 * Field widths follow LICEL.md sections 3-6 (and Licel's own writer, Licel_TCPIP_Python
 * `licel_data.py`). `decodeLicel(encodeLicel(x))` equals `x` for every representable `x`;
 * what cannot be written exactly is rejected with LIDAR_ERR_BAD_VALUE naming the field
 * (rules: ./README.md "Representability").
 */
import { LidarError } from '../errors.js';
import { LICEL_GRAMMAR, LICEL_LIMITS, LITTLE_ENDIAN, licelDateTime, tokenizeLicelLine } from './decode.js';
import type { LicelDataset, LicelFile, LicelHeader, RaymetricsScanLine } from './types.js';

/** Header lines are padded to this many characters before CR LF (80 bytes per line, as written by Licel). */
const PADDED_LINE_CHARS = 78;
/** Most decimals the encoder writes to reproduce a value exactly. */
const MAX_DECIMALS = 12;

function bad(field: string, detail: string): never {
  throw new LidarError('LIDAR_ERR_BAD_VALUE', detail, { field });
}

/** printf `%0<width>.<d>f` with the fewest decimals d >= minDecimals that reproduce `value` exactly. */
function formatNumber(value: number, width: number, minDecimals: number, field: string): string {
  if (!Number.isFinite(value)) bad(field, `not a finite number: ${value}`);
  if (Math.abs(value) >= 1e15) bad(field, `too large to write: ${value}`);
  for (let d = minDecimals; d <= MAX_DECIMALS; d++) {
    const s = value.toFixed(d);
    if (Number(s) === value) return zeroPad(s, width);
  }
  return bad(field, `${value} needs more than ${MAX_DECIMALS} decimals`);
}

/** Exactly `decimals` decimals (the layout depends on it: lon/lat); rejects values that need more. */
function formatFixed(value: number, width: number, decimals: number, field: string, why: string): string {
  if (!Number.isFinite(value)) bad(field, `not a finite number: ${value}`);
  const s = value.toFixed(decimals);
  if (Number(s) !== value) bad(field, `${value} is not representable: ${why}`);
  return zeroPad(s, width);
}

function formatUint(value: number, width: number, field: string): string {
  if (!Number.isSafeInteger(value) || value < 0) bad(field, `not a non-negative integer: ${value}`);
  return String(value).padStart(width, '0');
}

function formatInt(value: number, width: number, field: string): string {
  if (!Number.isSafeInteger(value)) bad(field, `not an integer: ${value}`);
  return zeroPad(String(value), width);
}

function zeroPad(s: string, width: number): string {
  return s.startsWith('-') ? '-' + s.slice(1).padStart(width - 1, '0') : s.padStart(width, '0');
}

/** Free text (file name, site, custom text): printable ASCII or tab, no surrounding blanks unless `allowBlanks`. */
function checkText(value: string, field: string, allowBlanks = false): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c !== 0x09 && (c < 0x20 || c > 0x7e)) bad(field, `character code ${c} is not printable ASCII`);
  }
  if (!allowBlanks && value.trim() !== value) bad(field, `leading or trailing blanks in '${value}'`);
  if (value.length > LICEL_LIMITS.maxHeaderLineBytes / 2) bad(field, `longer than ${LICEL_LIMITS.maxHeaderLineBytes / 2} characters`);
  return value;
}

/** One header token: printable ASCII without blanks. */
function checkToken(value: string, field: string): string {
  if (value.length === 0) bad(field, 'empty token');
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x20 || c > 0x7e) bad(field, `'${value}' is not one printable ASCII token`);
  }
  return value;
}

const ISO_LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/;

/** 'YYYY-MM-DDTHH:MM:SS' -> ['dd/mm/yyyy', 'HH:MM:SS'], validated like the decoder does. */
function licelDate(iso: string, field: string): [string, string] {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}:\d{2}:\d{2})$/.exec(iso);
  const date = m === null ? '' : `${m[3]}/${m[2]}/${m[1]}`;
  if (m === null || licelDateTime(date, m[4]) === null) bad(field, `'${iso}' is not a valid 'YYYY-MM-DDTHH:MM:SS'`);
  return [date, m[4]];
}

const isNumberToken = (t: string | undefined) => t !== undefined && LICEL_GRAMMAR.decimal.test(t);
const isUintToken = (t: string | undefined) => t !== undefined && LICEL_GRAMMAR.uint.test(t);

function line2(h: LicelHeader): string {
  const site = checkText(h.site, 'header.site');
  if (tokenizeLicelLine(site).some((t) => LICEL_GRAMMAR.date.test(t.text))) {
    bad('header.site', `'${site}' contains a dd/mm/yyyy token (the site ends at the first date)`);
  }
  const [startDate, startTime] = licelDate(h.startLocal, 'header.startLocal');
  const [stopDate, stopTime] = licelDate(h.stopLocal, 'header.stopLocal');
  const extras = h.extraLine2Tokens.map((t, i) => checkToken(t, `header.extraLine2Tokens[${i}]`));
  const wide = h.format === 'licel2022';
  const coord = (v: number, field: string) =>
    wide
      ? formatFixed(v, 11, 6, field, 'licel2022 positions have 6 decimals')
      : formatFixed(v, 6, 1, field, `${h.format} positions have 1 decimal`);
  const parts = [
    site, startDate, startTime, stopDate, stopTime,
    formatNumber(h.altitudeM, 4, 0, 'header.altitudeM'),
    coord(h.longitudeDeg, 'header.longitudeDeg'),
    coord(h.latitudeDeg, 'header.latitudeDeg'),
    wide ? formatNumber(h.zenithRaw, 4, 1, 'header.zenithRaw') : formatNumber(h.zenithRaw, 2, 0, 'header.zenithRaw'),
  ];
  if (h.format === 'licel2022') {
    for (const field of ['temperatureC', 'pressureHpa'] as const) {
      if (!Number.isNaN(h[field])) bad(`header.${field}`, 'licel2022 headers have no temperature or pressure (use NaN)');
    }
    if (!Number.isNaN(h.azimuthDeg)) parts.push(formatNumber(h.azimuthDeg, 4, 1, 'header.azimuthDeg'));
    else if (h.customText === '' && isNumberToken(extras[0])) {
      bad('header.extraLine2Tokens[0]', `'${extras[0]}' would be read as the azimuth`);
    }
    if (h.customText !== '') {
      if (checkText(h.customText, 'header.customText', true).includes('"')) bad('header.customText', 'contains a double quote');
      parts.push(`"${h.customText}"`);
    } else if (extras[0]?.startsWith('"')) {
      bad('header.extraLine2Tokens[0]', `'${extras[0]}' would be read as the quoted custom text`);
    }
  } else {
    if (h.customText !== '') bad('header.customText', `${h.format} headers have no custom text`);
    const triple = [h.azimuthDeg, h.temperatureC, h.pressureHpa];
    const present = triple.filter((v) => !Number.isNaN(v)).length;
    if (h.format === 'classic' && present > 0) {
      bad('header.azimuthDeg', 'classic headers have no azimuth, temperature or pressure (use format raymetrics)');
    }
    if (present === 3) {
      parts.push(
        formatNumber(h.azimuthDeg, 2, 0, 'header.azimuthDeg'),
        formatNumber(h.temperatureC, 4, 1, 'header.temperatureC'),
        formatNumber(h.pressureHpa, 6, 1, 'header.pressureHpa'),
      );
    } else {
      if (present !== 0) bad('header.azimuthDeg', 'raymetrics azimuth, temperature and pressure are written together: all or none');
      if (h.format === 'raymetrics' && h.scan === null) {
        bad('header.format', 'raymetrics without azimuth/temperature/pressure needs the scan line (else it reads as classic)');
      }
      if (isNumberToken(extras[0]) && isNumberToken(extras[1]) && isNumberToken(extras[2])) {
        bad('header.extraLine2Tokens', 'three leading numbers would be read as raymetrics azimuth, temperature, pressure');
      }
    }
  }
  if (h.format === 'classic' && h.scan !== null) bad('header.scan', 'a scan line makes the header raymetrics');
  return ' ' + [...parts, ...extras].join(' ');
}

function scanLine(s: RaymetricsScanLine): string {
  const keys: Array<keyof RaymetricsScanLine> = [
    'azimuthStartDeg', 'azimuthStopDeg', 'azimuthStepDeg', 'zenithStartDeg', 'zenithStopDeg', 'zenithStepDeg', 'azimuthOffsetDeg',
  ];
  // One decimal at least: the decimal point is how the decoder tells the scan line from the laser line.
  return ' ' + keys.map((k) => formatNumber(s[k], 4, 1, `header.scan.${k}`)).join(' ');
}

function laserLine(h: LicelHeader, datasetCount: number): string {
  const parts = [
    formatUint(h.laser1Shots, 7, 'header.laser1Shots'),
    formatUint(h.laser1RateHz, 4, 'header.laser1RateHz'),
    formatUint(h.laser2Shots, 7, 'header.laser2Shots'),
    formatUint(h.laser2RateHz, 4, 'header.laser2RateHz'),
    formatUint(datasetCount, 2, 'datasets.length'),
  ];
  const extras = h.extraLine3Tokens.map((t, i) => checkToken(t, `header.extraLine3Tokens[${i}]`));
  const laser3 = !Number.isNaN(h.laser3Shots);
  if (laser3 !== !Number.isNaN(h.laser3RateHz)) bad('header.laser3RateHz', 'laser 3 shots and rate are written together: both or neither (NaN)');
  const hasTimestamp = !Number.isNaN(h.controllerTimestampMs);
  if (!laser3) {
    if (isUintToken(extras[0]) && isUintToken(extras[1])) {
      bad('header.extraLine3Tokens', `'${extras[0]} ${extras[1]}' would be read as laser 3 shots and rate`);
    }
    if (hasTimestamp) bad('header.controllerTimestampMs', 'the controller timestamp needs the laser 3 fields');
    return ' ' + [...parts, ...extras].join(' ');
  }
  parts.push(formatUint(h.laser3Shots, 7, 'header.laser3Shots'), formatUint(h.laser3RateHz, 4, 'header.laser3RateHz'));
  if (h.format !== 'licel2022') {
    if (hasTimestamp) bad('header.controllerTimestampMs', `${h.format} headers have no controller timestamp`);
    return ' ' + [...parts, ...extras].join(' ');
  }
  // licel2022: laser 3, the reserved pair (kept in extraLine3Tokens[0..1]), the timestamp, further extras.
  if (hasTimestamp) {
    if (extras.length < 2) bad('header.controllerTimestampMs', 'needs the two reserved line-3 tokens in extraLine3Tokens[0..1]');
    return ' ' + [...parts, extras[0], extras[1], formatUint(h.controllerTimestampMs, 1, 'header.controllerTimestampMs'), ...extras.slice(2)].join(' ');
  }
  if (isUintToken(extras[2])) bad('header.extraLine3Tokens[2]', `'${extras[2]}' would be read as the controller timestamp`);
  return ' ' + [...parts, ...extras].join(' ');
}

function descriptorLine(ds: LicelDataset, k: number): string {
  const f = (name: string) => `datasets[${k}].${name}`;
  if (!Number.isSafeInteger(ds.bins) || ds.bins < 1 || ds.bins > LICEL_LIMITS.maxBins) {
    bad(f('bins'), `bin count ${ds.bins} outside 1..${LICEL_LIMITS.maxBins}`);
  }
  if (ds.raw.length !== ds.bins) bad(f('raw'), `raw length ${ds.raw.length} != bins ${ds.bins}`);
  if (![0, 1, 2, 3].includes(ds.dataType)) bad(f('dataType'), `invalid data type ${ds.dataType}`);
  if (!(ds.binWidthM >= 0)) bad(f('binWidthM'), `invalid bin width: ${ds.binWidthM}`);
  if (!/^[A-Za-z]?$/.test(ds.polarization)) bad(f('polarization'), `'${ds.polarization}' is not one letter (or empty)`);
  if (!Number.isInteger(ds.adcBits) || ds.adcBits < 0 || ds.adcBits > 32) bad(f('adcBits'), `ADC bits ${ds.adcBits} outside 0..32`);
  return ' ' + [
    ds.active ? '1' : '0',
    String(ds.dataType),
    formatUint(ds.laser, 1, f('laser')),
    formatUint(ds.bins, 5, f('bins')),
    checkToken(ds.field5, f('field5')),
    formatNumber(ds.pmtVoltageV, 4, 0, f('pmtVoltageV')),
    formatNumber(ds.binWidthM, 1, 2, f('binWidthM')),
    `${formatUint(ds.wavelengthNm, 5, f('wavelengthNm'))}.${ds.polarization}`,
    '0', '0',
    formatInt(ds.binShiftWhole, 2, f('binShiftWhole')),
    formatInt(ds.binShiftThousandths, 3, f('binShiftThousandths')),
    formatUint(ds.adcBits, 2, f('adcBits')),
    formatUint(ds.shots, 6, f('shots')),
    formatNumber(ds.inputRangeV, 1, 3, f('inputRangeV')),
    checkToken(ds.deviceId, f('deviceId')),
  ].join(' ');
}

/**
 * Writes a Licel raw file in `file.header.format`.
 * @throws LidarError LIDAR_ERR_BAD_VALUE naming the field when a value cannot be written exactly.
 */
export function encodeLicel(file: LicelFile): Uint8Array {
  const h = file.header;
  const n = file.datasets.length;
  if (n < 1 || n > LICEL_LIMITS.maxDatasets) bad('datasets', `dataset count ${n} outside 1..${LICEL_LIMITS.maxDatasets}`);
  if (!['classic', 'licel2022', 'raymetrics'].includes(h.format)) bad('header.format', `unknown header format '${h.format}'`);
  const lines = [' ' + checkText(h.fileName, 'header.fileName'), line2(h)];
  if (h.scan !== null) lines.push(scanLine(h.scan));
  lines.push(laserLine(h, n), ...file.datasets.map(descriptorLine));
  for (const line of lines) {
    if (line.length + 2 > LICEL_LIMITS.maxHeaderLineBytes) bad('header', `header line longer than ${LICEL_LIMITS.maxHeaderLineBytes} bytes`);
  }
  const header = lines.map((l) => l.padEnd(PADDED_LINE_CHARS) + '\r\n').join('') + '\r\n';

  let size = header.length;
  for (const ds of file.datasets) size += 4 * ds.bins + 2;
  const out = new Uint8Array(size);
  for (let i = 0; i < header.length; i++) out[i] = header.charCodeAt(i);
  const view = new DataView(out.buffer);
  let pos = header.length;
  for (const ds of file.datasets) {
    if (LITTLE_ENDIAN) out.set(new Uint8Array(ds.raw.buffer, ds.raw.byteOffset, ds.raw.byteLength), pos);
    else for (let i = 0; i < ds.bins; i++) view.setUint32(pos + 4 * i, ds.raw[i], true);
    pos += 4 * ds.bins;
    out[pos++] = 0x0d;
    out[pos++] = 0x0a;
  }
  return out;
}

/**
 * Licel file name `<prefix><YY><M hex><DD><HH>.<MM><SS><ff>` (LICEL.md section 2) from
 * 'YYYY-MM-DDTHH:MM:SS(.fff)': 2 digits of fractional seconds (3 if given), '00' without.
 */
export function licelFileName(prefix: string, stopLocal: string): string {
  if (!/^[A-Za-z]{1,2}$/.test(prefix)) bad('prefix', `'${prefix}' is not 1-2 letters`);
  const m = ISO_LOCAL.exec(stopLocal);
  if (m === null) bad('stopLocal', `'${stopLocal}' is not 'YYYY-MM-DDTHH:MM:SS(.ff)'`);
  licelDate(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}`, 'stopLocal');
  const month = Number(m[2]).toString(16).toUpperCase();
  const fraction = (m[7] ?? '').slice(0, 3).padEnd(2, '0');
  return `${prefix}${m[1].slice(2)}${month}${m[3]}${m[4]}.${m[5]}${m[6]}${fraction}`;
}
