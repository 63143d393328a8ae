/**
 * Moves a Licel file in time: start/stop (local wall clock of `timeZone`) shifted by `deltaMs` of real
 * time, and the first header line's file name renamed to match the new stop time (LICEL.md section 2).
 * Used by replay to play recorded fixtures "as if live". The data are untouched.
 */
import { localToUtcMs, zoneOffsetMs } from '../time.js';
import { licelFileName } from './encode.js';
import type { LicelFile } from './types.js';

/** 'YYYY-MM-DDTHH:MM:SS' (with '.fff' when there are milliseconds) of `utcMs` on the wall clock of `timeZone`. */
export function utcToLocal(utcMs: number, timeZone: string): string {
  const local = new Date(utcMs + (timeZone === 'UTC' ? 0 : zoneOffsetMs(timeZone, utcMs))).toISOString();
  return local.endsWith('.000Z') ? local.slice(0, 19) : local.slice(0, 23);
}

/** `deltaMs` is rounded to whole seconds: Licel headers carry whole seconds. */
export function shiftLicelTimes(file: LicelFile, deltaMs: number, timeZone: string): LicelFile {
  const h = file.header;
  deltaMs = Math.round(deltaMs / 1000) * 1000;
  const startLocal = utcToLocal(localToUtcMs(h.startLocal, timeZone) + deltaMs, timeZone);
  const stopLocal = utcToLocal(localToUtcMs(h.stopLocal, timeZone) + deltaMs, timeZone);
  const prefix = /^[A-Za-z]{1,2}/.exec(h.fileName)?.[0] ?? 'a';
  const fileName = /^[A-Za-z]{1,2}\d{2}[0-9A-C]\d{4}\.\d{6,7}$/.test(h.fileName) ? licelFileName(prefix, stopLocal) : h.fileName;
  return { ...file, header: { ...h, startLocal, stopLocal, fileName } };
}
