/**
 * Air-quality index bands: the European Air Quality Index, 2024 revision (EEA; the default) and, as a
 * labelled option, the US AQI of the EPA's 2024 rule (PM2.5 24 h breakpoints 9.0 / 35.4 / 55.4 /
 * 125.4 / 225.4 ug/m3; PM10 24 h 54 / 154 / 254 / 354 / 424 ug/m3, unchanged). Six bands each, with
 * upper edges in ug/m3, official colours and the text colour that reads on each (WCAG contrast).
 * Pure: no DOM, no Node.
 */
export type PmProduct = 'pm10' | 'pm25';
export type EaqiBandKey = 'good' | 'fair' | 'moderate' | 'poor' | 'very_poor' | 'extremely_poor';
export type UsBandKey = 'us_good' | 'us_moderate' | 'us_usg' | 'us_unhealthy' | 'us_very_unhealthy' | 'us_hazardous';
export type BandKey = EaqiBandKey | UsBandKey;
/** Which index colours the map: EEA European AQI 2024 (default) or US EPA AQI 2024. */
export type AqiScale = 'eaqi' | 'usaqi';
export const AQI_SCALES: readonly AqiScale[] = ['eaqi', 'usaqi'];

export interface Band {
  /** 1 (good) .. 6 (extremely poor): shown with the name so colour is never the only signal. */
  index: number;
  key: BandKey;
  /** Lower edge (exclusive, except 0 for band 1), ug/m3. */
  lower: number;
  /** Upper edge (inclusive), ug/m3; Infinity for the last band. */
  upper: number;
  /** Fill colour (EEA). */
  colour: string;
  /** Black or white, whichever contrasts more with the fill. */
  textColour: string;
}

export const BAND_KEYS: readonly EaqiBandKey[] = ['good', 'fair', 'moderate', 'poor', 'very_poor', 'extremely_poor'];
export const BAND_COLOURS: readonly string[] = ['#50F0E6', '#50CCAA', '#F0E641', '#FF5050', '#960032', '#7D2181'];

/** Upper edges of bands 1..5 (ug/m3); band 6 is everything above. EEA EAQI 2024. */
export const EAQI_2024_EDGES: Readonly<Record<PmProduct, readonly number[]>> = {
  pm25: [5, 15, 50, 90, 140],
  pm10: [15, 45, 120, 195, 270],
};

/** Relative luminance of a #RRGGBB colour (WCAG 2). */
export function luminance(hex: string): number {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new Error(`not a #RRGGBB colour: ${JSON.stringify(hex)}`);
  const lin = (s: string): number => {
    const c = parseInt(s, 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(m[1]) + 0.7152 * lin(m[2]) + 0.0722 * lin(m[3]);
}

/** WCAG contrast ratio of two colours (1..21). */
export function contrastRatio(a: string, b: string): number {
  const [l1, l2] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (l1 + 0.05) / (l2 + 0.05);
}

function textFor(fill: string): string {
  return contrastRatio(fill, '#000000') >= contrastRatio(fill, '#FFFFFF') ? '#000000' : '#FFFFFF';
}

export const US_BAND_KEYS: readonly UsBandKey[] = ['us_good', 'us_moderate', 'us_usg', 'us_unhealthy', 'us_very_unhealthy', 'us_hazardous'];
/** EPA AQI colours: green, yellow, orange, red, purple, maroon. */
export const US_BAND_COLOURS: readonly string[] = ['#00E400', '#FFFF00', '#FF7E00', '#FF0000', '#8F3F97', '#7E0023'];

/**
 * US AQI breakpoints, upper edges of categories 1..5 (ug/m3, 24 h means), EPA 2024 rule (89 FR 16202):
 * PM2.5 Good <= 9.0, Moderate <= 35.4, Unhealthy for Sensitive Groups <= 55.4, Unhealthy <= 125.4,
 * Very Unhealthy <= 225.4, Hazardous above; PM10 54 / 154 / 254 / 354 / 424.
 */
export const US_AQI_2024_EDGES: Readonly<Record<PmProduct, readonly number[]>> = {
  pm25: [9.0, 35.4, 55.4, 125.4, 225.4],
  pm10: [54, 154, 254, 354, 424],
};
/** AQI index values at the category edges (Good 0-50 ... Hazardous 301-500). */
const US_INDEX_EDGES = [0, 50, 100, 150, 200, 300, 500];
/** Upper end of the Hazardous category's concentrations (2024 rule: PM2.5 325.4; PM10 604). */
const US_TOP: Record<PmProduct, number> = { pm25: 325.4, pm10: 604 };

/**
 * EPA concentration truncation before the breakpoint lookup: PM2.5 to 0.1 ug/m3, PM10 to 1 ug/m3
 * (so 9.04 is Good and 9.1 Moderate; 54.9 PM10 is Good).
 */
export function usTruncate(product: PmProduct, value: number): number {
  const step = product === 'pm25' ? 10 : 1;
  return Math.floor(value * step + 1e-9) / step;
}

/** The six bands of a product, in order, of the given index (default the European AQI 2024). */
export function bands(product: PmProduct, scale: AqiScale = 'eaqi'): Band[] {
  const us = scale === 'usaqi';
  const edges = us ? US_AQI_2024_EDGES[product] : EAQI_2024_EDGES[product];
  const colours = us ? US_BAND_COLOURS : BAND_COLOURS;
  const keys: readonly BandKey[] = us ? US_BAND_KEYS : BAND_KEYS;
  return keys.map((key, i) => ({
    index: i + 1,
    key,
    lower: i === 0 ? 0 : edges[i - 1],
    upper: i < edges.length ? edges[i] : Infinity,
    colour: colours[i],
    textColour: textFor(colours[i]),
  }));
}

/** Upper edges of bands 1..5 of a scale. */
export function bandEdges(product: PmProduct, scale: AqiScale = 'eaqi'): readonly number[] {
  return scale === 'usaqi' ? US_AQI_2024_EDGES[product] : EAQI_2024_EDGES[product];
}

const BANDS: Record<AqiScale, Record<PmProduct, Band[]>> = {
  eaqi: { pm10: bands('pm10'), pm25: bands('pm25') },
  usaqi: { pm10: bands('pm10', 'usaqi'), pm25: bands('pm25', 'usaqi') },
};

/**
 * The band of a concentration (ug/m3): the first band whose upper edge is >= value (edges inclusive;
 * negative values, which a noisy retrieval can give, are band 1). US AQI: the value is first
 * truncated as the EPA does (usTruncate). null for null/NaN/infinite values.
 */
export function bandFor(product: PmProduct, value: number | null | undefined, scale: AqiScale = 'eaqi'): Band | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  const list = BANDS[scale][product];
  const v = scale === 'usaqi' ? usTruncate(product, value) : value;
  for (const b of list) if (v <= b.upper) return b;
  return list[list.length - 1];
}

/**
 * The US AQI number (0-500) of a concentration: linear within its category after truncation, rounded
 * to an integer; 500 above the top of Hazardous; 0 for negative values; null when not finite.
 */
export function usAqiIndex(product: PmProduct, value: number | null | undefined): number | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  const c = Math.max(0, usTruncate(product, value));
  const edges = US_AQI_2024_EDGES[product];
  const step = product === 'pm25' ? 0.1 : 1;
  const lows = [0, ...edges.map((e) => Math.round((e + step) * 10) / 10)];
  const highs = [...edges, US_TOP[product]];
  for (let i = 0; i < highs.length; i++) {
    if (c <= highs[i]) {
      const [il, ih] = [i === 0 ? 0 : US_INDEX_EDGES[i] + 1, US_INDEX_EDGES[i + 1]];
      return Math.round(((ih - il) / (highs[i] - lows[i])) * (c - lows[i]) + il);
    }
  }
  return 500;
}
