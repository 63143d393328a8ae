/**
 * CSV export (RFC 4180): CRLF line ends, fields with a comma, quote, CR, LF or surrounding space in
 * double quotes with quotes doubled; empty field for missing values (null, undefined, NaN).
 * Header rows carry the units, e.g. "pm10 (ug/m3)".
 */
export type CsvValue = string | number | boolean | null | undefined;

export function csvField(v: CsvValue): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  // Formula-injection guard for spreadsheets: a leading = + - @ (or tab/CR) is prefixed with '.
  const s = /^[=+\-@\t\r]/.test(v) && !/^-?\d/.test(v) ? `'${v}` : v;
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(values: readonly CsvValue[]): string {
  return values.map(csvField).join(',') + '\r\n';
}

export function toCsv(header: readonly string[], rows: Iterable<readonly CsvValue[]>): string {
  let out = csvLine(header);
  for (const r of rows) out += csvLine(r);
  return out;
}

/** `attachment; filename="..."` with a safe ASCII name. */
export function attachment(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120) || 'export.csv';
  return `attachment; filename="${safe}"`;
}
