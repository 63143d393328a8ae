// The dashboard's US AQI option (EPA 2024 rule) at every band edge, the AQI number, the contrast of
// its text colours, the public map's "click anywhere" nearest-cell helper and the municipal view's
// periods and year-calendar grid. Pure functions, no browser.
import { describe, expect, it } from 'vitest';
import { BAND_KEYS, US_AQI_2024_EDGES, US_BAND_KEYS, bandEdges, bandFor, bands, contrastRatio, usAqiIndex, usTruncate } from '../dashboard/src/lib/aqi.js';
import { MESSAGES, t, type MessageKey } from '../dashboard/src/lib/i18n.js';
import { NEAR_CELL_M, nearestCell } from '../dashboard/src/lib/place.js';
import { localMidnightMs, monthGrid, windowFor } from '../dashboard/src/lib/municipal.js';

describe('US AQI (EPA 2024)', () => {
  it('has the 2024 PM2.5 24 h breakpoints 9.0 / 35.4 / 55.4 / 125.4 / 225.4 and PM10 54 / 154 / 254 / 354 / 424', () => {
    expect(US_AQI_2024_EDGES).toEqual({ pm25: [9.0, 35.4, 55.4, 125.4, 225.4], pm10: [54, 154, 254, 354, 424] });
    expect(bandEdges('pm25', 'usaqi')).toEqual([9.0, 35.4, 55.4, 125.4, 225.4]);
    expect(bandEdges('pm25')).toEqual([5, 15, 50, 90, 140]); // the default stays the European AQI
  });

  it('puts each edge in the lower band and the next reportable value (0.1 PM2.5, 1 PM10) in the next band', () => {
    for (const [product, step] of [['pm25', 0.1], ['pm10', 1]] as const) {
      US_AQI_2024_EDGES[product].forEach((edge, i) => {
        expect(bandFor(product, edge, 'usaqi')?.index, `${product} ${edge}`).toBe(i + 1);
        expect(bandFor(product, edge + step, 'usaqi')?.index, `${product} ${edge + step}`).toBe(i + 2);
        // EPA truncation: 9.04 is 9.0 (Good), 54.9 PM10 is 54 (Good).
        expect(bandFor(product, edge + step * 0.9, 'usaqi')?.index, `${product} ${edge + step * 0.9}`).toBe(i + 1);
      });
      expect(bandFor(product, -2, 'usaqi')?.key).toBe('us_good');
      expect(bandFor(product, 1e5, 'usaqi')?.key).toBe('us_hazardous');
      expect(bandFor(product, NaN, 'usaqi')).toBeNull();
    }
    expect(usTruncate('pm25', 35.49)).toBe(35.4);
    expect(usTruncate('pm10', 154.99)).toBe(154);
    // Same value, different index: 12 ug/m3 PM2.5 is Fair (EAQI) but Moderate (US AQI).
    expect(bandFor('pm25', 12)?.key).toBe('fair');
    expect(bandFor('pm25', 12, 'usaqi')?.key).toBe('us_moderate');
  });

  it('gives the AQI number by linear interpolation within the category (0-500)', () => {
    const cases: Array<[number, number]> = [[0, 0], [9.0, 50], [9.1, 51], [35.4, 100], [35.5, 101], [55.4, 150], [55.5, 151], [125.4, 200], [125.5, 201], [225.4, 300], [225.5, 301], [325.4, 500], [900, 500]];
    for (const [c, aqi] of cases) expect(usAqiIndex('pm25', c), `PM2.5 ${c}`).toBe(aqi);
    expect(usAqiIndex('pm25', 22.2)).toBe(Math.round(((100 - 51) / (35.4 - 9.1)) * (22.2 - 9.1) + 51));
    for (const [c, aqi] of [[54, 50], [55, 51], [154, 100], [155, 101], [424, 300], [425, 301], [604, 500]] as const) expect(usAqiIndex('pm10', c), `PM10 ${c}`).toBe(aqi);
    expect(usAqiIndex('pm10', null)).toBeNull();
  });

  it('has six named bands in both languages, EPA colours and readable text (WCAG >= 4.5:1)', () => {
    for (const product of ['pm10', 'pm25'] as const) {
      const list = bands(product, 'usaqi');
      expect(list.map((b) => b.key)).toEqual(US_BAND_KEYS);
      expect(list.map((b) => b.colour)).toEqual(['#00E400', '#FFFF00', '#FF7E00', '#FF0000', '#8F3F97', '#7E0023']);
      for (const b of list) expect(contrastRatio(b.colour, b.textColour), b.key).toBeGreaterThanOrEqual(4.5);
      expect(bands(product).map((b) => b.key)).toEqual(BAND_KEYS);
    }
    for (const lang of ['en', 'bg'] as const) {
      for (const k of US_BAND_KEYS) expect(MESSAGES[lang][`band_${k}` as MessageKey], `${lang} ${k}`).toMatch(/\S/);
    }
    expect(t('en', 'aqi_usaqi', { product: t('en', 'pm25') })).toBe('US AQI (EPA 2024), PM2.5 24 h');
  });
});

describe('click anywhere: the nearest measured cell', () => {
  // Two 0.005-degree "cells" (about 400 x 550 m) east of Sofia's centre; the second has no value.
  const cell = (id: string, lon: number, lat: number, value: number | null) => ({
    id,
    geometry: { coordinates: [[[lon, lat], [lon + 0.005, lat], [lon + 0.005, lat + 0.005], [lon, lat + 0.005], [lon, lat]]] },
    properties: { value },
  });
  const cells = [cell('a', 23.38, 42.65, 40), cell('b', 23.3, 42.7, null)];

  it('finds the nearest cell with a value and its distance; none without values', () => {
    const inside = nearestCell(cells, 42.6525, 23.3825);
    expect(inside?.cell.id).toBe('a');
    expect(inside!.distanceM).toBeLessThan(1);
    // 0.02 degrees of latitude north of the centre: ~2.2 km, beyond NEAR_CELL_M.
    const far = nearestCell(cells, 42.6725, 23.3825);
    expect(far?.cell.id).toBe('a');
    expect(far!.distanceM).toBeGreaterThan(2000);
    expect(far!.distanceM).toBeGreaterThan(NEAR_CELL_M);
    // The cell without a value never stands for a place, even one inside it.
    expect(nearestCell(cells, 42.7025, 23.3025)?.cell.id).toBe('a');
    expect(nearestCell([cells[1]], 42.7025, 23.3025)).toBeNull();
  });
});

describe('municipal periods', () => {
  const now = Date.UTC(2026, 10, 22, 5, 20, 30); // 2026-11-22 07:20:30 Sofia
  it('rolls the last N days up to now (rounded up to the minute) and cuts calendar years at local midnight', () => {
    expect(windowFor('30', 2026, now)).toEqual({ fromMs: Date.UTC(2026, 10, 22, 5, 21) - 30 * 86_400_000, toMs: Date.UTC(2026, 10, 22, 5, 21) });
    expect(windowFor('7', 2026, now).toMs - windowFor('7', 2026, now).fromMs).toBe(7 * 86_400_000);
    // 2025: Sofia is UTC+2 on 1 January.
    expect(windowFor('year', 2025, now)).toEqual({ fromMs: Date.UTC(2024, 11, 31, 22), toMs: Date.UTC(2025, 11, 31, 22) });
    // The current year ends now.
    expect(windowFor('year', 2026, now)).toEqual({ fromMs: Date.UTC(2025, 11, 31, 22), toMs: Date.UTC(2026, 10, 22, 5, 21) });
    // Summer time: local midnight of 1 July is 21:00 UTC the day before.
    expect(localMidnightMs(2026, 7, 1)).toBe(Date.UTC(2026, 5, 30, 21));
  });

  it('lays days out as months of 31 slots', () => {
    const days = ['2026-02-27', '2026-01-31', '2026-02-01', '2026-01-01'].map((date) => ({ date }));
    const grid = monthGrid(days);
    expect(grid.map((m) => m.month)).toEqual(['2026-01', '2026-02']);
    expect(grid[0].days[0]?.date).toBe('2026-01-01');
    expect(grid[0].days[30]?.date).toBe('2026-01-31');
    expect(grid[0].days.filter((d) => d !== null)).toHaveLength(2);
    expect(grid[1].days[26]?.date).toBe('2026-02-27');
    expect(grid[1].days[27]).toBeNull();
  });
});
