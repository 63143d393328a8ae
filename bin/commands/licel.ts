/**
 * `lidar-pm licel inspect FILE... [--json]`: header and per-dataset summary of Licel raw files
 * (contract: ../shared/design/ARCHITECTURE.md "Command line"; user docs: docs/licel.md).
 * Every file is inspected even when some fail; each failure prints one coded line to stderr.
 * Exit code: 0 all good, 1 a file could not be read (LIDAR_ERR_IO), else 2 a file is bad.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LidarError } from '../../processing/errors.js';
import { decodeLicel, inspectLicel, type LicelFileSummary } from '../../processing/licel/index.js';
import type { Command } from '../command.js';

const USAGE = 'usage: lidar-pm licel inspect FILE... [--json]';

type FileResult = LicelFileSummary | { file: string; error: ReturnType<LidarError['toJSON']> };

function inspectFile(path: string): FileResult {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new LidarError('LIDAR_ERR_IO', `cannot read file: ${(e as Error).message}`, { file: path });
  }
  return inspectLicel(decodeLicel(bytes, path), path);
}

const fmt = (v: number | null, digits = 0) => (v === null ? '-' : digits > 0 ? v.toFixed(digits) : String(v));

function textReport(s: LicelFileSummary): string {
  const lasers = s.lasers.map((l) => `L${l.laser} ${l.shots} shots @ ${l.rate_hz} Hz`).join(', ');
  const lines = [
    `${s.file}  [${s.format}]  header name ${s.file_name_in_header}`,
    `  site ${s.site}  ${s.start_local} .. ${s.stop_local} (station clock)`,
    `  altitude ${s.altitude_m} m  lat ${s.lat}  lon ${s.lon}  zenith(raw) ${s.zenith_raw}  azimuth ${fmt(s.azimuth_deg)}` +
      (s.temperature_c !== null ? `  T0 ${s.temperature_c} C  P0 ${s.pressure_hpa} hPa` : '') +
      (s.custom_text !== '' ? `  "${s.custom_text}"` : ''),
    `  lasers: ${lasers}`,
  ];
  if (s.scan !== null) {
    const c = s.scan;
    lines.push(
      `  scan: azimuth ${c.azimuth_start_deg}..${c.azimuth_stop_deg} step ${c.azimuth_step_deg} (offset ${c.azimuth_offset_deg}),` +
        ` zenith ${c.zenith_start_deg}..${c.zenith_stop_deg} step ${c.zenith_step_deg}`,
    );
  }
  const head = ['#', 'id', 'type', 'wl/pol', 'bins', 'bin_m', 'shots', 'adc', 'range_V', 'first', 'last', 'min', 'max', 'sum'];
  const rows = s.datasets.map((d) => [
    String(d.index), d.id, d.type, `${d.wavelength_nm}.${d.polarization}`, String(d.bins), String(d.bin_width_m),
    String(d.shots), String(d.adc_bits), String(d.input_range_v), String(d.raw_first), String(d.raw_last),
    String(d.raw_min), String(d.raw_max), String(d.raw_sum),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const numeric = (i: number) => i >= 4 || i === 0;
  for (const row of [head, ...rows]) {
    lines.push('  ' + row.map((c, i) => (numeric(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  '));
  }
  return lines.join('\n');
}

export const licelCommand: Command = async (args) => {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const [sub, ...files] = positionals;
  if (sub !== 'inspect' || files.length === 0) {
    throw new LidarError('LIDAR_ERR_USAGE', sub === 'inspect' ? `no FILE given; ${USAGE}` : `unknown subcommand '${sub ?? ''}'; ${USAGE}`);
  }
  const results: FileResult[] = [];
  let unreadable = false;
  let bad = false;
  for (const file of files) {
    try {
      results.push(inspectFile(file));
    } catch (e) {
      if (!(e instanceof LidarError)) throw e;
      process.stderr.write(`lidar-pm: ${e.code}: ${e.message}\n`);
      results.push({ file, error: e.toJSON() });
      if (e.code === 'LIDAR_ERR_IO') unreadable = true;
      else bad = true;
    }
  }
  if (values.json) process.stdout.write(JSON.stringify({ files: results }, null, 2) + '\n');
  else {
    const reports = results.filter((r): r is LicelFileSummary => !('error' in r)).map(textReport);
    if (reports.length > 0) process.stdout.write(reports.join('\n\n') + '\n');
  }
  return unreadable ? 1 : bad ? 2 : 0;
};
