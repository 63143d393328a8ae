// The operator view's channel rules (dashboard/src/lib/ops.ts: reference SNR and the background level
// against its 24 h median, at their edges), the Channels panel rows built from /channels/health, and
// the scientist curtain's PBL quality (curtain v2 decoding, low-quality classification). Pure; no
// browser.
import { describe, expect, it } from 'vitest';
import { THRESHOLDS, channelRows, formatValue, levelChannelBackground, levelChannelSnr, levelOf, type ChannelHealthApi } from '../dashboard/src/lib/ops.js';
import { PBL_LOW_QUALITY, decodeCurtain, pblClass } from '../dashboard/src/lib/curtain.js';
import { MESSAGES } from '../dashboard/src/lib/i18n.js';

describe('channel SNR rule (below)', () => {
  const th = THRESHOLDS.channelSnr;
  it('is WARN below 10 and CRIT below 3, the edges themselves still the better level', () => {
    expect([th.warn, th.crit]).toEqual([10, 3]);
    expect(levelChannelSnr(10)).toBe('ok');
    expect(levelChannelSnr(9.999)).toBe('warn');
    expect(levelChannelSnr(3)).toBe('warn');
    expect(levelChannelSnr(2.999)).toBe('crit');
    expect(levelChannelSnr(0)).toBe('crit');
    expect(levelChannelSnr(-5)).toBe('crit');
    expect(levelChannelSnr(250)).toBe('ok');
  });
  it('an unknown SNR (no reference) is not an alarm', () => {
    expect(levelChannelSnr(null)).toBe('ok');
    expect(levelChannelSnr(NaN)).toBe('ok');
  });
});

describe('channel background rule (factor against the 24 h median, either way)', () => {
  it('is WARN above 3x or below 1/3, CRIT above 10x or below 1/10 of the median; the edges are the better level', () => {
    // Binary-exact pairs, so the edge ratios are exactly 3 and 10.
    expect(levelChannelBackground(0.25, 0.25)).toBe('ok');
    expect(levelChannelBackground(0.75, 0.25)).toBe('ok');
    expect(levelChannelBackground(0.7501, 0.25)).toBe('warn');
    expect(levelChannelBackground(2.5, 0.25)).toBe('warn');
    expect(levelChannelBackground(2.5001, 0.25)).toBe('crit');
    expect(levelChannelBackground(0.25, 0.75)).toBe('ok');
    expect(levelChannelBackground(0.2499, 0.75)).toBe('warn');
    expect(levelChannelBackground(0.25, 2.5)).toBe('warn');
    expect(levelChannelBackground(0.2499, 2.5)).toBe('crit');
  });
  it('a background at or below zero against a positive median is CRIT (the detector gives nothing)', () => {
    expect(levelChannelBackground(0, 0.05)).toBe('crit');
    expect(levelChannelBackground(-0.2, 1.2)).toBe('crit');
  });
  it('no reference (no median, or a median <= 0) or no value is OK', () => {
    expect(levelChannelBackground(5, null)).toBe('ok');
    expect(levelChannelBackground(5, 0)).toBe('ok');
    expect(levelChannelBackground(5, -1)).toBe('ok');
    expect(levelChannelBackground(null, 1)).toBe('ok');
    expect(levelChannelBackground(NaN, 1)).toBe('ok');
  });
  it('levelOf implements the factor kind for any threshold', () => {
    const th = { id: 't', what: 't', unit: '', kind: 'factor' as const, warn: 2, crit: 4 };
    expect(levelOf(th, 2, 1)).toBe('ok');
    expect(levelOf(th, 2.5, 1)).toBe('warn');
    expect(levelOf(th, 0.2, 1)).toBe('crit');
  });
});

const hour = (h: number) => new Date(Date.UTC(2018, 0, 19, h, 0, 0)).toISOString();

describe('Channels panel rows', () => {
  const api: ChannelHealthApi[] = [
    // 532: a steady night background, then a jump to 8x (warn), good SNR.
    { channel: '532o-glued', background_unit: 'MHz', profiles: 5, times: [hour(10), hour(11), hour(12), hour(13), hour(14)], background: [0.05, 0.05, null, 0.05, 0.4], snr: [30, 31, 29, 32, 30] },
    // 1064 analog: SNR of the newest profile unknown -> the latest known one counts; it is below 3.
    { channel: '1064o-analog', background_unit: 'mV', profiles: 3, times: [hour(10), hour(11), hour(12)], background: [1.2, 1.21, 1.19], snr: [12, 2.5, null] },
  ];
  const rows = channelRows(api);
  it('sorted by channel, with the unit, the latest finite values and their times', () => {
    expect(rows.map((r) => r.channel)).toEqual(['1064o-analog', '532o-glued']);
    const [ir, vis] = rows;
    expect(ir.unit).toBe('mV');
    expect(ir.lastSnr).toBe(2.5);
    expect(ir.lastSnrMs).toBe(Date.parse(hour(11)));
    expect(ir.lastBackground).toBe(1.19);
    expect(vis.lastBackground).toBe(0.4);
    expect(vis.lastBackgroundMs).toBe(Date.parse(hour(14)));
  });
  it('sparkline series leave the unknown points out', () => {
    const vis = rows[1];
    expect(vis.background.values).toEqual([0.05, 0.05, 0.05, 0.4]);
    expect(vis.background.times).toEqual([10, 11, 13, 14].map((h) => Date.parse(hour(h))));
    expect(vis.snr.values).toHaveLength(5);
    expect(rows[0].snr.values).toEqual([12, 2.5]);
  });
  it('levels: the background jump warns (median of the window as the reference), the low SNR is critical, the row takes the worse', () => {
    const [ir, vis] = rows;
    expect(vis.medianBackground).toBe(0.05);
    expect(vis.levelBackground).toBe('warn');
    expect(vis.levelSnr).toBe('ok');
    expect(vis.level).toBe('warn');
    expect(ir.levelBackground).toBe('ok');
    expect(ir.levelSnr).toBe('crit');
    expect(ir.level).toBe('crit');
  });
  it('a channel without any known value is all OK with empty series', () => {
    const [r] = channelRows([{ channel: '355o-photon', background_unit: 'MHz', profiles: 2, times: [hour(1), hour(2)], background: [null, null], snr: [null, null] }]);
    expect([r.lastBackground, r.lastSnr, r.medianBackground, r.level]).toEqual([null, null, null, 'ok']);
    expect(r.background.values).toEqual([]);
  });
  it('formats values with 3 significant digits', () => {
    expect(formatValue(0.0512345)).toBe('0.0512');
    expect(formatValue(1.2049)).toBe('1.2');
    expect(formatValue(31.46)).toBe('31.5');
    expect(formatValue(0.004)).toBe('4.00e-3');
    expect(formatValue(null)).toBe('–');
  });
  it('the new strings exist in both languages with the same placeholders', () => {
    for (const k of ['op_channels_title', 'op_channels_empty', 'op_background', 'op_snr', 'op_channels_rules', 'sc_pbl_low'] as const) {
      expect(MESSAGES.en[k].length).toBeGreaterThan(3);
      expect(MESSAGES.bg[k]).toMatch(/[а-я]/i);
      expect([...MESSAGES.bg[k].matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()).toEqual([...MESSAGES.en[k].matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort());
    }
  });
});

/** A curtain buffer as the API writes it: v2 with the PBL quality block, or v1 without it. */
function curtainBuffer(version: 1 | 2, W: number, H: number, pbl: number[], quality: number[], cloud: number[]): ArrayBuffer {
  const buf = new ArrayBuffer(32 + (version === 2 ? 20 : 16) * W + 4 * H + 4 * W * H);
  const dv = new DataView(buf);
  'LPMC'.split('').forEach((ch, i) => dv.setUint8(i, ch.charCodeAt(0)));
  dv.setUint16(4, version, true);
  dv.setUint16(6, 32, true);
  dv.setUint32(8, W, true);
  dv.setUint32(12, H, true);
  dv.setUint32(16, W, true);
  dv.setFloat32(20, 600, true);
  dv.setFloat32(24, 2600, true);
  const o = 32 + 8 * W + 4 * H + 4 * W * H;
  new Float32Array(buf, o, W).set(pbl);
  new Float32Array(buf, o + 4 * W, W).set(cloud);
  if (version === 2) new Float32Array(buf, o + 8 * W, W).set(quality);
  return buf;
}

describe('curtain PBL quality (scientist)', () => {
  it('decodes v2 with the quality per column, and v1 with unknown quality', () => {
    const c = decodeCurtain(curtainBuffer(2, 3, 2, [900, NaN, 1100], [0.8, NaN, 0.1], [NaN, 1500, NaN]));
    expect(Array.from(c.pblQuality).map((q) => Number(q.toFixed(3)))).toEqual([0.8, NaN, 0.1]);
    expect(Array.from(c.cloud)).toEqual([NaN, 1500, NaN]);
    const v1 = decodeCurtain(curtainBuffer(1, 3, 2, [900, NaN, 1100], [], [NaN, 1500, NaN]));
    expect(Array.from(v1.pblQuality).every(Number.isNaN)).toBe(true);
    expect(Array.from(v1.pbl)).toEqual([900, NaN, 1100]);
    // A v2 header on a v1-sized buffer is refused.
    const short = curtainBuffer(1, 3, 2, [1, 2, 3], [], [1, 2, 3]);
    new DataView(short).setUint16(4, 2, true);
    expect(() => decodeCurtain(short)).toThrow(/expected/);
  });
  it('classifies PBL points: low below 0.5, good at and above, unknown without a quality, none without a height', () => {
    expect(PBL_LOW_QUALITY).toBe(0.5);
    expect(pblClass(900, 0.5)).toBe('good');
    expect(pblClass(900, 0.4999)).toBe('low');
    expect(pblClass(900, 0)).toBe('low');
    expect(pblClass(900, 1)).toBe('good');
    expect(pblClass(900, NaN)).toBe('unknown');
    expect(pblClass(NaN, 0.9)).toBeNull();
  });
});
