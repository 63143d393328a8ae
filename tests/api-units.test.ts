// Unit tests of the API's pure helpers: CSV quoting (RFC 4180), token checks, time and target
// parsing, error mapping, public messages, the response cache, channel preference, label escaping.
import { describe, expect, it } from 'vitest';
import { csvField, toCsv, attachment } from '../api/csv.js';
import { createAuthenticator, newToken, sha256Hex } from '../api/auth.js';
import { HttpError, errorResponse, publicMessage, HTTP_STATUS_OF_CODE } from '../api/errors.js';
import { parseTime, parseWindow } from '../api/query.js';
import { ResponseCache, makeCached } from '../api/cache.js';
import { preferredChannel } from '../api/channels.js';
import { escapeLabel } from '../api/metrics.js';
import { LidarError, ERROR_CODES } from '../processing/errors.js';

describe('CSV', () => {
  it('quotes fields with commas, quotes, line breaks and edge spaces; empty for missing numbers', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField(NaN)).toBe('');
    expect(csvField(null)).toBe('');
    expect(csvField(-0.5)).toBe('-0.5');
    expect(csvField(true)).toBe('true');
    expect(csvField('=cmd()')).toBe("'=cmd()"); // spreadsheet formula guard
    expect(csvField('-12')).toBe('-12');
    expect(toCsv(['a (m)', 'b'], [[1, 'x,y'], [NaN, null]])).toBe('a (m),b\r\n1,"x,y"\r\n,\r\n');
    expect(attachment('sofia pm10/../x.csv')).toBe('attachment; filename="sofia_pm10_.._x.csv"');
  });
});

describe('bearer tokens', () => {
  const a = newToken();
  const b = newToken();
  const check = createAuthenticator([
    { name: 'a', sha256: a.sha256 },
    { name: 'b', sha256: b.sha256.toUpperCase(), scopes: ['jobs'] },
  ]);

  it('new tokens are random, prefixed, and their hash is the SHA-256 of the token', () => {
    expect(a.token).toMatch(/^lpm_[A-Za-z0-9_-]{43}$/);
    expect(a.token).not.toBe(b.token);
    expect(a.sha256).toBe(sha256Hex(a.token));
    expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('accepts known tokens with the scope, 401 unknown/malformed/missing, 403 without the scope', () => {
    expect(check(`Bearer ${a.token}`, 'params')).toEqual({ name: 'a' });
    expect(check(`Bearer ${b.token}`, 'jobs')).toEqual({ name: 'b' });
    const status = (h: string | undefined, scope: 'params' | 'jobs') => {
      try {
        check(h, scope);
        return 200;
      } catch (e) {
        return (e as HttpError).statusCode;
      }
    };
    expect(status(`Bearer ${b.token}`, 'params')).toBe(403);
    expect(status(`Bearer ${a.token}x`, 'params')).toBe(401);
    expect(status(`bearer ${a.token}`, 'params')).toBe(401);
    expect(status(`Bearer  ${a.token}`, 'params')).toBe(401);
    expect(status(undefined, 'params')).toBe(401);
    expect(status('Bearer ', 'params')).toBe(401);
    expect(status(`Bearer ${'x'.repeat(600)}`, 'params')).toBe(401);
  });

  it('rejects bad configured hashes and scopes, naming the entry', () => {
    expect(() => createAuthenticator([{ name: 'x', sha256: 'abc' }])).toThrow(/tokens\[0\]\.sha256|64 hex/);
    expect(() => createAuthenticator([{ name: 'x', sha256: a.sha256, scopes: ['admin'] }])).toThrow(/unknown scope "admin"/);
  });
});

describe('times and windows', () => {
  it('accepts ISO 8601 with a zone, dates and ms; rejects naive, invalid and out-of-range times naming the field', () => {
    expect(parseTime('2018-01-19T16:00:00Z', 'from')).toBe(Date.UTC(2018, 0, 19, 16));
    expect(parseTime('2018-01-19T18:00+02:00', 'from')).toBe(Date.UTC(2018, 0, 19, 16));
    expect(parseTime('2018-01-19T16:00:00.250Z', 'from')).toBe(Date.UTC(2018, 0, 19, 16) + 250);
    expect(parseTime('2018-01-19', 'from')).toBe(Date.UTC(2018, 0, 19));
    expect(parseTime('1516377600000', 'from')).toBe(1516377600000);
    for (const bad of ['2018-01-19T16:00:00', '2018-13-01', '19/01/2018', 'now', '', '2018-01-19T25:00:00Z', '99999999999999999', '-5']) {
      let err: unknown = null;
      try {
        parseTime(bad, 'from');
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(HttpError);
      expect((err as HttpError).field).toBe('from');
      expect((err as HttpError).statusCode).toBe(400);
    }
  });

  it('default windows end at now rounded up to the minute; too long or reversed windows are 400 on "to"', () => {
    const now = Date.UTC(2018, 0, 19, 16, 0, 30);
    expect(parseWindow({}, now, 3_600_000, 86_400_000)).toEqual({ fromMs: Date.UTC(2018, 0, 19, 15, 1), toMs: Date.UTC(2018, 0, 19, 16, 1) });
    expect(() => parseWindow({ from: '2018-01-19', to: '2018-01-18' }, now, 1, 1e12)).toThrow(/must be after/);
    expect(() => parseWindow({ from: '2018-01-01', to: '2018-01-19' }, now, 1, 86_400_000)).toThrow(/longer than the allowed 1 d/);
  });
});

describe('errors', () => {
  const log: string[] = [];
  const r = (e: unknown) => errorResponse(e, (m) => log.push(m));

  it('maps every LidarError code in one table; 5xx bodies hide the detail, which goes to the log', () => {
    expect(Object.keys(HTTP_STATUS_OF_CODE).sort()).toEqual(Object.keys(ERROR_CODES).sort());
    expect(r(new LidarError('LIDAR_ERR_BAD_VALUE', 'bad', { field: 'toMs' }))).toMatchObject({ status: 400, body: { error: { code: 'LIDAR_ERR_BAD_VALUE', field: 'to' } } });
    expect(r(new LidarError('LIDAR_ERR_NOT_FOUND', 'no')).status).toBe(404);
    expect(r(new LidarError('LIDAR_ERR_LICEL_FORMAT', 'x')).status).toBe(400);
    const io = r(new LidarError('LIDAR_ERR_IO', 'cannot open /var/lib/lidar-pm/db.sqlite: SQLITE_BUSY'));
    expect(io.status).toBe(503);
    expect(JSON.stringify(io.body)).not.toMatch(/var\/lib|SQLITE/);
    expect(log.pop()).toMatch(/SQLITE_BUSY/);
    const crash = r(new TypeError("Cannot read properties of undefined (reading 'x')"));
    expect(crash.status).toBe(500);
    expect(JSON.stringify(crash.body)).not.toMatch(/Cannot read|TypeError/);
    expect(log.pop()).toMatch(/TypeError/);
    expect(r({ statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE', message: 'x' }).status).toBe(413);
    const v = r({ statusCode: 400, validation: [{ instancePath: '/pm/3/time', message: 'must be string', params: {} }], validationContext: 'body' });
    expect(v.body.error.field).toBe('pm[3].time');
  });

  it('public messages lose paths and URLs', () => {
    expect(publicMessage('write failed: /var/lib/lidar-pm/spool/000001.seg: ENOSPC')).toBe('write failed: <path>: ENOSPC');
    expect(publicMessage('InfluxDB at http://10.0.0.5:8086 unreachable')).toBe('InfluxDB at <url> unreachable');
    expect(publicMessage(null)).toBeNull();
    expect(publicMessage('x'.repeat(400))!.length).toBe(300);
  });
});

describe('response cache', () => {
  it('shares one computation between concurrent misses and drops a computation overtaken by new data', async () => {
    const c = new ResponseCache(60_000, 10);
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const compute = async () => {
      calls++;
      await gate;
      return makeCached(`{"n":${calls}}`, 'application/json');
    };
    const p1 = c.get('sofia', 'sofia\u0000map', compute);
    const p2 = c.get('sofia', 'sofia\u0000map', compute);
    c.invalidateStation('sofia'); // new data while computing
    release();
    const [a, b] = await Promise.all([p1, p2]);
    expect(calls).toBe(1);
    expect(a).toBe(b);
    expect(c.size).toBe(0); // not cached: it may predate the new data
    const fresh = await c.get('sofia', 'sofia\u0000map', async () => makeCached('{"n":2}', 'application/json'));
    expect(fresh.body.toString()).toBe('{"n":2}');
    expect((await c.get('sofia', 'sofia\u0000map', async () => makeCached('{"n":3}', 'application/json'))).body.toString()).toBe('{"n":2}');
    expect(fresh.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
  });
});

describe('channels and metrics labels', () => {
  it('prefers the channel nearest 532 nm, glued before photon before analog', () => {
    expect(preferredChannel(['1064o-glued', '532o-analog', '532o-glued'])).toBe('532o-glued');
    expect(preferredChannel(['1064o-glued', '532o-photon', '532o-analog'])).toBe('532o-photon');
    expect(preferredChannel(['1064o-analog', '355o-glued'])).toBe('355o-glued');
    expect(preferredChannel([])).toBeNull();
  });

  it('escapes Prometheus label values', () => {
    expect(escapeLabel('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });
});

describe('lidar-pm token', () => {
  async function run(args: string[]): Promise<string> {
    const { tokenCommand } = await import('../bin/commands/token.js');
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => out.push(s) > 0) as typeof process.stdout.write;
    try {
      expect(await tokenCommand(args)).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    return out.join('');
  }

  it('prints a new token and the config entry holding only its SHA-256, which the API accepts', async () => {
    const j = JSON.parse(await run(['ops', '--scopes', 'jobs,preview', '--json'])) as { token: string; config: { name: string; sha256: string; scopes: string[] } };
    expect(j.config).toEqual({ name: 'ops', sha256: sha256Hex(j.token), scopes: ['jobs', 'preview'] });
    const check = createAuthenticator([j.config]);
    expect(check(`Bearer ${j.token}`, 'jobs')).toEqual({ name: 'ops' });
    const text = await run(['laptop']);
    const token = /token: {2}(\S+)/.exec(text)![1];
    expect(text).toContain(`{"name":"laptop","sha256":"${sha256Hex(token)}"}`);
    expect(token).not.toBe(j.token);
  });

  it('usage errors name the argument', async () => {
    const { tokenCommand } = await import('../bin/commands/token.js');
    await expect(tokenCommand([])).rejects.toThrow(/NAME/);
    await expect(tokenCommand(['a b'])).rejects.toThrow(/invalid token name/);
    await expect(tokenCommand(['x', '--scopes', 'root'])).rejects.toThrow(/--scopes/);
  });
});
