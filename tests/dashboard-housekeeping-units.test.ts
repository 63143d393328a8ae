// The operator view's rules for the Licel header housekeeping (dashboard/src/lib/ops.ts: detector
// voltage and laser repetition rate against their 24 h median, 0 = CRIT; shots per file below the
// median), at their edges; which rule, group and unit a `licel.*` field gets; a real fixture's record
// (ingest/records.ts) through healthSeries gets the Licel rules and is OK. Pure; no browser.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { THRESHOLDS, formatHousekeeping, healthSeries, housekeepingGroup, housekeepingRule, housekeepingUnit, levelHousekeeping, levelOf } from '../dashboard/src/lib/ops.js';
import { MESSAGES, placeholders } from '../dashboard/src/lib/i18n.js';
import { licelHousekeepingRecord } from '../ingest/records.js';
import { decodeLicel } from '../processing/licel/decode.js';

const series = (name: string, values: number[]) => ({ name, values, last: values[values.length - 1] });

describe('detector voltage rule (licel.<channel>.pmt_voltage_v)', () => {
  const th = THRESHOLDS.licelPmtVoltage;
  it('is WARN beyond 0.5 % of the 24 h median either way, never CRIT by drift', () => {
    expect(th.warn).toBe(0.005);
    expect(levelOf(th, 800, 800)).toBe('ok');
    expect(levelOf(th, 803.9, 800)).toBe('ok');
    expect(levelOf(th, 804.1, 800)).toBe('warn');
    expect(levelOf(th, 796.1, 800)).toBe('ok');
    expect(levelOf(th, 795.9, 800)).toBe('warn');
    expect(levelOf(th, 400, 800)).toBe('warn');
    expect(levelOf(th, 1600, 800)).toBe('warn');
  });
  it('is CRIT at 0 V (detector off while its dataset is active), with or without a median', () => {
    expect(levelOf(th, 0, 800)).toBe('crit');
    expect(levelOf(th, 0, null)).toBe('crit');
    expect(levelOf(th, 0, 0)).toBe('crit');
    expect(levelOf(th, 0.5, 800)).toBe('warn');
    expect(levelOf(th, -1, 800)).toBe('crit');
  });
  it('levels the last value of a series against the series median', () => {
    const name = 'licel.532o-analog.pmt_voltage_v';
    expect(levelHousekeeping(series(name, [780, 780, 780, 780]))).toBe('ok');
    expect(levelHousekeeping(series(name, [780, 780, 780, 790]))).toBe('warn'); // +1.3 %: the gain changed by ~10 %
    expect(levelHousekeeping(series(name, [780, 780, 780, 0]))).toBe('crit');
    expect(levelHousekeeping(series(name, [790]))).toBe('ok'); // a single value is its own median
    expect(levelHousekeeping(series(name, [780, 780, 790, 790, 790]))).toBe('ok'); // the new voltage is the median now
  });
});

describe('laser repetition rate rule (licel.laser<n>.rate_hz)', () => {
  const th = THRESHOLDS.licelLaserRate;
  it('is WARN beyond 1 % of the 24 h median, CRIT at 0 Hz', () => {
    expect(th.warn).toBe(0.01);
    expect(levelOf(th, 20, 20)).toBe('ok');
    expect(levelOf(th, 20.19, 20)).toBe('ok');
    expect(levelOf(th, 20.21, 20)).toBe('warn');
    expect(levelOf(th, 19.79, 20)).toBe('warn');
    expect(levelOf(th, 10, 20)).toBe('warn');
    expect(levelOf(th, 0, 20)).toBe('crit');
    expect(levelHousekeeping(series('licel.laser1.rate_hz', [20, 20, 20, 10]))).toBe('warn');
    expect(levelHousekeeping(series('licel.laser1.rate_hz', [20, 20, 0]))).toBe('crit');
  });
});

describe('shots per file rule (licel.laser<n>.shots, licel.<channel>.shots)', () => {
  const th = THRESHOLDS.licelShots;
  it('is WARN below 90 % of the 24 h median (a short acquisition), CRIT at 0; more shots are fine', () => {
    expect(th.warn).toBe(0.9);
    expect(levelOf(th, 600, 600)).toBe('ok');
    expect(levelOf(th, 540, 600)).toBe('ok'); // exactly 90 %: the edge is still OK
    expect(levelOf(th, 539, 600)).toBe('warn');
    expect(levelOf(th, 1, 600)).toBe('warn');
    expect(levelOf(th, 0, 600)).toBe('crit');
    expect(levelOf(th, 1200, 600)).toBe('ok'); // a longer vertical among 30 s scans
    expect(levelOf(th, 300, null)).toBe('ok'); // no median: nothing to compare with
    expect(levelHousekeeping(series('licel.532o-photon.shots', [600, 600, 600, 1200, 300]))).toBe('warn');
    expect(levelHousekeeping(series('licel.laser1.shots', [600, 600, 0]))).toBe('crit');
  });
});

describe('rule, group and unit of a field name', () => {
  it('routes licel.* fields to the Licel rules, the header weather and ADC settings to none', () => {
    expect(housekeepingRule('licel.532o-analog.pmt_voltage_v')?.id).toBe('licel_pmt_voltage');
    expect(housekeepingRule('licel.532o-photon-ds5.pmt_voltage_v')?.id).toBe('licel_pmt_voltage');
    expect(housekeepingRule('licel.laser2.rate_hz')?.id).toBe('licel_laser_rate');
    expect(housekeepingRule('licel.laser1.shots')?.id).toBe('licel_shots');
    expect(housekeepingRule('licel.1064o-analog.shots')?.id).toBe('licel_shots');
    expect(housekeepingRule('licel.532o-analog.adc_bits')).toBeNull();
    expect(housekeepingRule('licel.532o-analog.input_range_v')).toBeNull();
    // Outdoor weather from the header: no instrument-temperature alarm at 40 °C in summer.
    expect(housekeepingRule('licel.temperature_c')).toBeNull();
    expect(levelHousekeeping(series('licel.temperature_c', [20, 40]))).toBe('ok');
    expect(housekeepingRule('licel.pressure_hpa')).toBeNull();
    // Status-JSON fields keep their rules.
    expect(housekeepingRule('temperatures.box_c')?.id).toBe('temperature');
    expect(housekeepingRule('detector.pmt1.hv')?.id).toBe('detector_hv');
  });
  it('groups and units', () => {
    expect(housekeepingGroup('licel.laser1.rate_hz')).toBe('laser');
    expect(housekeepingGroup('licel.laser3.shots')).toBe('laser');
    expect(housekeepingGroup('licel.532o-analog.pmt_voltage_v')).toBe('detectors');
    expect(housekeepingGroup('licel.1064o-photon.shots')).toBe('detectors');
    expect(housekeepingGroup('licel.temperature_c')).toBe('met');
    expect(housekeepingGroup('licel.pressure_hpa')).toBe('met');
    expect(housekeepingGroup('pipeline.processed')).toBe('other');
    expect(housekeepingGroup('laser.energy_mj')).toBe('other');
    expect(housekeepingUnit('licel.532o-analog.pmt_voltage_v')).toBe('V');
    expect(housekeepingUnit('licel.532o-analog.input_range_v')).toBe('V');
    expect(housekeepingUnit('licel.laser1.rate_hz')).toBe('Hz');
    expect(housekeepingUnit('licel.laser1.shots')).toBe('shots');
    expect(housekeepingUnit('licel.532o-analog.adc_bits')).toBe('bits');
    expect(housekeepingUnit('licel.temperature_c')).toBe('°C');
    expect(housekeepingUnit('licel.pressure_hpa')).toBe('hPa');
    expect(housekeepingUnit('pipeline.processed')).toBe('');
    expect([780, 0.5, 945.25, 1200, NaN, null].map((v) => formatHousekeeping(v))).toEqual(['780', '0.5', '945.3', '1200', '–', '–']);
  });
  it('every group title and the rules line exist in both languages with the same placeholders', () => {
    for (const key of ['op_hk_laser', 'op_hk_detectors', 'op_hk_met', 'op_hk_other', 'op_hk_rules'] as const) {
      expect(MESSAGES.en[key].length).toBeGreaterThan(0);
      expect(MESSAGES.bg[key]).not.toBe(MESSAGES.en[key]);
      expect(placeholders(MESSAGES.bg[key])).toEqual(placeholders(MESSAGES.en[key]));
    }
    expect(placeholders(MESSAGES.en.op_hk_rules)).toEqual(['hvWarn', 'rateWarn', 'shotsWarn']);
  });
});

describe('a fixture file\'s record through the operator series', () => {
  it('every detector voltage, laser rate and shots field gets its Licel rule; a day of the same header is OK', () => {
    const dir = join(import.meta.dirname, '..', 'fixtures', 'scenarios', 'sofia-winter-inversion');
    const names = readdirSync(dir).filter((f) => f.startsWith('SF')).sort().slice(0, 30);
    const records = names.map((f, i) => {
      const rec = licelHousekeepingRecord(decodeLicel(readFileSync(join(dir, f)), f), 'sofia', 1_516_377_600_000 + i * 60_000)!;
      return { time: new Date(rec.timeMs).toISOString(), values: rec.values };
    });
    const s = healthSeries(records);
    const hv = s.filter((x) => x.name.endsWith('.pmt_voltage_v'));
    expect(hv.length).toBe(4);
    for (const x of hv) expect(housekeepingRule(x.name)?.id).toBe('licel_pmt_voltage');
    expect(s.filter((x) => housekeepingRule(x.name)?.id === 'licel_laser_rate').map((x) => x.name)).toEqual(['licel.laser1.rate_hz']);
    expect(s.filter((x) => housekeepingRule(x.name)?.id === 'licel_shots').length).toBe(5);
    for (const x of s) expect(levelHousekeeping(x), x.name).toBe('ok');
    // The same series with the last 532 nm voltage raised by 10 V: WARN.
    const raised = records.map((r, i) => (i === records.length - 1 ? { ...r, values: { ...r.values, 'licel.532o-analog.pmt_voltage_v': (r.values['licel.532o-analog.pmt_voltage_v'] as number) + 10 } } : r));
    const x = healthSeries(raised).find((y) => y.name === 'licel.532o-analog.pmt_voltage_v')!;
    expect(levelHousekeeping(x)).toBe('warn');
  });
});
