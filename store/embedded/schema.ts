/**
 * SQLite schema of the embedded store (docs/storage.md). Times are INTEGER ms UTC; NaN numbers are
 * NULL; arrays are raw little-endian bytes (Float32, or Uint8 for qc), one row per (profile, array).
 * Cell contributions feed two roll-ups (per cell-hour and per district-hour) through triggers that
 * subtract the old values when a contribution is rewritten, so an overwrite is never counted twice.
 * Raw rows may be pruned (retention); the roll-ups are kept (no DELETE trigger). `meta` holds
 * 'pruned_before_ms', the retention horizon: contributions older than it are not written again (their
 * raw rows are gone, so a rewrite could not be told from a first write and would count twice).
 * `aq_hours` holds official AQ-station hourly PM (never pruned; added to layout 1 by CREATE IF NOT EXISTS).
 */

/** PRAGMA user_version of this layout (2: profiles.background added; a layout-1 file gets the column on open). */
export const SCHEMA_VERSION = 2;

/** Columns added after layout 1: [table, column, SQL type]; open() adds those a file lacks (ALTER TABLE ... ADD COLUMN). */
export const ADDED_COLUMNS: ReadonlyArray<readonly [string, string, string]> = [['profiles', 'background', 'REAL']];

const ROLLUP_COLS = 'n INTEGER NOT NULL, pm10_sum REAL, pm25_sum REAL, alpha_sum REAL, contributions INTEGER NOT NULL';

/** Hour start of a ms time (floor, also for negative times). */
const hourOf = (t: string) => `(${t} - ((${t} % 3600000) + 3600000) % 3600000)`;

function addTo(table: 'cell_hourly' | 'district_hourly', row: 'new'): string {
  const key = table === 'cell_hourly' ? `${row}.cell, ${row}.district` : `${row}.district`;
  const cols = table === 'cell_hourly' ? 'station, channel, hour_ms, cell, district' : 'station, channel, hour_ms, district';
  return `INSERT INTO ${table} (${cols}, n, pm10_sum, pm25_sum, alpha_sum, contributions)
      VALUES (${row}.station, ${row}.channel, ${hourOf(`${row}.time_ms`)}, ${key}, ${row}.n, ${row}.pm10_sum, ${row}.pm25_sum, ${row}.alpha_sum, 1)
      ON CONFLICT DO UPDATE SET n = n + excluded.n, pm10_sum = ${sumNullable('pm10_sum')}, pm25_sum = ${sumNullable('pm25_sum')},
        alpha_sum = ${sumNullable('alpha_sum')}, contributions = contributions + 1;`;
}

function subtractFrom(table: 'cell_hourly' | 'district_hourly'): string {
  const where = table === 'cell_hourly' ? 'cell = old.cell' : 'district = old.district';
  return `UPDATE ${table} SET n = n - old.n, pm10_sum = pm10_sum - coalesce(old.pm10_sum, 0), pm25_sum = pm25_sum - coalesce(old.pm25_sum, 0),
        alpha_sum = alpha_sum - coalesce(old.alpha_sum, 0), contributions = contributions - 1
      WHERE station = old.station AND channel = old.channel AND hour_ms = ${hourOf('old.time_ms')} AND ${where};`;
}

/** NULL (missing) values are skipped like SQL sum() does; the sum stays NULL while all are missing. */
function sumNullable(col: string): string {
  return `CASE WHEN excluded.${col} IS NULL THEN ${col} ELSE coalesce(${col}, 0) + excluded.${col} END`;
}

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS profiles (
  station TEXT NOT NULL, channel TEXT NOT NULL, time_ms INTEGER NOT NULL, mode TEXT NOT NULL,
  time_end_ms REAL, azimuth_deg REAL, elevation_deg REAL, range_start_m REAL, range_step_m REAL, bins INTEGER NOT NULL,
  file TEXT NOT NULL, params_id TEXT NOT NULL, pbl_height_m REAL, pbl_quality REAL, cloud_base_m REAL, aod REAL, snr REAL,
  lidar_constant REAL, valid_bins REAL, qc_counts TEXT NOT NULL, received_ms REAL, background REAL,
  PRIMARY KEY (station, channel, time_ms)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS profiles_by_time ON profiles (station, time_ms);
CREATE TABLE IF NOT EXISTS profile_arrays (
  station TEXT NOT NULL, channel TEXT NOT NULL, time_ms INTEGER NOT NULL, name TEXT NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY (station, channel, time_ms, name)
);
CREATE TABLE IF NOT EXISTS cells (
  station TEXT NOT NULL, channel TEXT NOT NULL, time_ms INTEGER NOT NULL, cell TEXT NOT NULL, district TEXT NOT NULL,
  n INTEGER NOT NULL, pm10_sum REAL, pm25_sum REAL, alpha_sum REAL,
  PRIMARY KEY (station, channel, time_ms, cell)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cell_hourly (
  station TEXT NOT NULL, channel TEXT NOT NULL, hour_ms INTEGER NOT NULL, cell TEXT NOT NULL, district TEXT NOT NULL, ${ROLLUP_COLS},
  PRIMARY KEY (station, channel, hour_ms, cell)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cell_hourly_by_cell ON cell_hourly (station, channel, cell, hour_ms);
CREATE TABLE IF NOT EXISTS district_hourly (
  station TEXT NOT NULL, channel TEXT NOT NULL, hour_ms INTEGER NOT NULL, district TEXT NOT NULL, ${ROLLUP_COLS},
  PRIMARY KEY (station, channel, hour_ms, district)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS health (
  station TEXT NOT NULL, time_ms INTEGER NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL CHECK (type IN ('n', 's', 'b')), num REAL, str TEXT,
  PRIMARY KEY (station, time_ms, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT NOT NULL PRIMARY KEY, value INTEGER);
CREATE TABLE IF NOT EXISTS param_sets (
  id TEXT NOT NULL PRIMARY KEY, json TEXT NOT NULL, name TEXT NOT NULL, created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS aq_hours (
  aq_station TEXT NOT NULL, hour_ms INTEGER NOT NULL, pm10 REAL, pm25 REAL, source TEXT NOT NULL,
  PRIMARY KEY (aq_station, hour_ms)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS cells_rollup_insert AFTER INSERT ON cells BEGIN
  ${addTo('cell_hourly', 'new')}
  ${addTo('district_hourly', 'new')}
END;
CREATE TRIGGER IF NOT EXISTS cells_rollup_update AFTER UPDATE ON cells BEGIN
  ${subtractFrom('cell_hourly')}
  ${subtractFrom('district_hourly')}
  ${addTo('cell_hourly', 'new')}
  ${addTo('district_hourly', 'new')}
END;
`;
