/**
 * The raw Licel archive the pipeline keeps (`<rawArchiveDir>/<station>/<YYYY-MM-DD>/<file>`, the UTC
 * date of the measurement start, the file name made safe as ingest/pipeline.ts does): the file of a
 * stored profile, and the files of a time window in measurement order (for reprocessing).
 */
import { open, readdir, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { licelDateTime, tokenizeLicelLine } from '../processing/licel/decode.js';
import { localToUtcMs } from '../processing/time.js';

const DAY_MS = 86_400_000;

/** ingest/pipeline.ts writeDurable(): the name a file is archived under. */
export function archivedName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120) || 'file';
}

/** The archived file of a profile (its measurement start and source file name), or null. */
export async function archivedFile(archiveDir: string | null, station: string, timeMs: number, file: string): Promise<string | null> {
  if (!archiveDir || !Number.isFinite(timeMs)) return null;
  const name = archivedName(file);
  if (name === '.' || name === '..') return null;
  const root = resolve(archiveDir);
  const path = resolve(root, station, new Date(timeMs).toISOString().slice(0, 10), name);
  if (!path.startsWith(root + sep)) return null;
  try {
    const s = await stat(path);
    return s.isFile() ? path : null;
  } catch {
    return null;
  }
}

/**
 * The measurement start (ms UTC) from a Licel header's second line (the first "dd/mm/yyyy HH:MM:SS"
 * pair after the location), read from the first KiB only; NaN when not found.
 */
export async function headerStartMs(path: string, timeZone: string): Promise<number> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = buf.subarray(0, bytesRead).toString('latin1');
    const lines = text.split('\n');
    if (lines.length < 2) return NaN;
    const tokens = tokenizeLicelLine(lines[1].replace(/\r$/, ''));
    for (let i = 0; i + 1 < tokens.length; i++) {
      const local = licelDateTime(tokens[i].text, tokens[i + 1].text);
      if (local) return localToUtcMs(local, timeZone);
    }
    return NaN;
  } finally {
    await fh.close();
  }
}

export interface ArchivedFile {
  path: string;
  name: string;
  timeMs: number;
}

/** The UTC day folders a window touches. */
export function dayFolders(fromMs: number, toMs: number): string[] {
  const out: string[] = [];
  for (let d = Math.floor(fromMs / DAY_MS) * DAY_MS; d < toMs; d += DAY_MS) out.push(new Date(d).toISOString().slice(0, 10));
  return out;
}

/** Files of one day folder whose measurement starts in [fromMs, toMs), oldest first. */
export async function archivedFilesOfDay(archiveDir: string, station: string, day: string, fromMs: number, toMs: number, timeZone: string): Promise<ArchivedFile[]> {
  const dir = join(archiveDir, station, day);
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.endsWith('.tmp')).map((e) => e.name);
  } catch {
    return [];
  }
  const out: ArchivedFile[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const timeMs = await headerStartMs(path, timeZone).catch(() => NaN);
    if (timeMs >= fromMs && timeMs < toMs) out.push({ path, name, timeMs });
  }
  return out.sort((a, b) => a.timeMs - b.timeMs || (a.name < b.name ? -1 : 1));
}

/** How many files the day folders of a window hold (an upper bound of a job's work). */
export async function countArchived(archiveDir: string, station: string, fromMs: number, toMs: number): Promise<number> {
  let n = 0;
  for (const day of dayFolders(fromMs, toMs)) {
    try {
      n += (await readdir(join(archiveDir, station, day))).filter((x) => !x.endsWith('.tmp')).length;
    } catch {
      /* no folder that day */
    }
  }
  return n;
}
