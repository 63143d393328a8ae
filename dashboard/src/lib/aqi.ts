/**
 * European Air Quality Index, 2024 revision (EEA): the six bands for PM10 and PM2.5 with their upper
 * edges in ug/m3 and official colours, and the text colour that reads on each (WCAG contrast).
 * Pure: no DOM, no Node.
 */
export type PmProduct = 'pm10' | 'pm25';
export type BandKey = 'good' | 'fair' | 'moderate' | 'poor' | 'very_poor' | 'extremely_poor';

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

export const BAND_KEYS: readonly BandKey[] = ['good', 'fair', 'moderate', 'poor', 'very_poor', 'extremely_poor'];
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

/** The six bands of a product, in order. */
export function bands(product: PmProduct): Band[] {
  const edges = EAQI_2024_EDGES[product];
  return BAND_KEYS.map((key, i) => ({
    index: i + 1,
    key,
    lower: i === 0 ? 0 : edges[i - 1],
    upper: i < edges.length ? edges[i] : Infinity,
    colour: BAND_COLOURS[i],
    textColour: textFor(BAND_COLOURS[i]),
  }));
}

const BANDS: Record<PmProduct, Band[]> = { pm10: bands('pm10'), pm25: bands('pm25') };

/**
 * The band of a concentration (ug/m3): the first band whose upper edge is >= value (edges inclusive;
 * negative values, which a noisy retrieval can give, are band 1). null for null/NaN/infinite values.
 */
export function bandFor(product: PmProduct, value: number | null | undefined): Band | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  const list = BANDS[product];
  for (const b of list) if (value <= b.upper) return b;
  return list[list.length - 1];
}
