// Replay: time shifting of Licel files, pacing, looping, folder target, and the CLI.
import { describe, expect, it, afterAll } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, cpSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { decodeLicel } from '../processing/licel/decode.js';
import { shiftLicelTimes, utcToLocal } from '../processing/licel/shift.js';
import { encodeLicel } from '../processing/licel/encode.js';
import { loadReplayFiles, openReplayTarget, replay } from '../ingest/replay.js';

const ROOT = join(import.meta.dirname, '..');
const WINTER = join(ROOT, 'fixtures', 'scenarios', 'sofia-winter-inversion');
const names = readdirSync(WINTER).filter((f) => f.startsWith('SF')).sort();
const tmp = mkdtempSync(join(tmpdir(), 'lidar-replay-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('shifting a Licel file in time', () => {
  it('moves start/stop by the delta (whole seconds) in the station zone and renames it; data unchanged', () => {
    const f = decodeLicel(new Uint8Array(readFileSync(join(WINTER, names[0]))), names[0]);
    expect(f.header.startLocal).toBe('2018-01-19T18:00:00');
    const g = shiftLicelTimes(f, 3 * 86_400_000 + 3_600_000 + 1234, 'Europe/Sofia');
    expect(g.header.startLocal).toBe('2018-01-22T19:00:01');
    expect(g.header.fileName).toBe('SF1812219.003100');
    const back = decodeLicel(encodeLicel(g));
    expect(back.header.stopLocal).toBe('2018-01-22T19:00:31');
    for (let k = 0; k < f.datasets.length; k++) expect(back.datasets[k].raw).toEqual(f.datasets[k].raw);
  });
  it('follows daylight saving time: a real-time delta across the March change moves the wall clock by one hour more', () => {
    const winter = Date.UTC(2018, 2, 24, 12); // 14:00 EET
    expect(utcToLocal(winter, 'Europe/Sofia')).toBe('2018-03-24T14:00:00');
    expect(utcToLocal(winter + 86_400_000, 'Europe/Sofia')).toBe('2018-03-25T15:00:00'); // EEST
  });
});

describe('replay into a folder', () => {
  it('plays the files in measurement order, as fast as possible with speed 0', async () => {
    const src = join(tmp, 'src');
    cpSync(WINTER, src, { recursive: true });
    writeFileSync(join(src, 'README.txt'), 'not a Licel file');
    const skipped: string[] = [];
    const files = await loadReplayFiles(src, 'Europe/Sofia', (n) => skipped.push(n));
    expect(skipped).toEqual(['README.txt']);
    expect(files.map((f) => f.name)).toEqual(names);
    const out = join(tmp, 'out');
    const target = await openReplayTarget(out);
    const sent: string[] = [];
    expect(await replay(files.slice(0, 10), target, { station: 'sofia', timeZone: 'Europe/Sofia', speed: 0, onSent: (f) => sent.push(f.name) })).toBe(10);
    expect(sent).toEqual(names.slice(0, 10));
    expect(readdirSync(out).sort()).toEqual(names.slice(0, 10));
    expect(readFileSync(join(out, names[3]))).toEqual(readFileSync(join(WINTER, names[3])));
  });

  it('paces by the measurement times scaled by speed, loops forward in time, and shifts to now', async () => {
    const files = (await loadReplayFiles(WINTER, 'Europe/Sofia')).slice(0, 3); // 30 s apart
    const target = await openReplayTarget(join(tmp, 'paced'));
    const t0 = Date.now();
    const seen: Array<{ name: string; timeMs: number; at: number; loop: number }> = [];
    await replay(files, target, { station: 'sofia', timeZone: 'Europe/Sofia', speed: 120, loop: true, shiftToNow: true, signal: AbortSignal.timeout(2400), onSent: (f) => seen.push({ ...f, at: Date.now() }) });
    // 30 s at 120x = 250 ms apart; a loop of 3 files lasts 90 s of data = 750 ms.
    expect(seen.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i].timeMs - seen[i - 1].timeMs).toBe(30_000); // continuous data time across loops
      expect(seen[i].at - t0).toBeGreaterThanOrEqual(((seen[i].timeMs - seen[0].timeMs) / 120) - 5); // never early
    }
    expect(Math.abs(seen[0].timeMs - t0)).toBeLessThan(1000); // first file shifted to now
    expect(new Set(seen.map((s) => s.name)).size).toBe(seen.length); // new names each loop: no overwrite
  });
});

describe('lidar-pm replay (CLI)', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'lidar-pm.mjs'), 'replay', ...args], { encoding: 'utf8' });
  it('replays into a folder and reports', () => {
    const out = join(tmp, 'cli-out');
    const r = cli(join(ROOT, 'fixtures', 'scenarios', 'cloud'), '--to', out, '--speed', '0', '--quiet');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readdirSync(out).length).toBe(6);
  });
  it('rejects bad usage with exit 2 and a message naming the option', () => {
    let r = cli(WINTER, '--to', join(tmp, 'x'), '--speed', '-1');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--speed/);
    r = cli(WINTER);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--to/);
    r = cli(WINTER, '--to', 'ftp://x');
    expect(r.status).toBe(2);
    r = cli(join(tmp, 'missing'), '--to', join(tmp, 'y'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/LIDAR_ERR_IO/);
  });
});
