/**
 * EU limit values for particulate matter (protection of human health), used by
 * ResultStore.districtStats() to count exceedances. Values in ug/m^3.
 *
 * Sources:
 * - Directive 2008/50/EC of the European Parliament and of the Council of 21 May 2008 on ambient air
 *   quality and cleaner air for Europe, OJ L 152, 11.6.2008, p. 1. Annex XI B (PM10: one day 50 ug/m3,
 *   not to be exceeded more than 35 times a calendar year; calendar year 40 ug/m3, both since
 *   1 January 2005) and Annex XIV E (PM2.5: calendar year 25 ug/m3, limit value from 1 January 2015).
 *   http://data.europa.eu/eli/dir/2008/50/oj
 * - Directive (EU) 2024/2881 of the European Parliament and of the Council of 23 October 2024 on
 *   ambient air quality and cleaner air for Europe (recast), OJ L, 2024/2881, 20.11.2024, Annex I
 *   (limit values to be attained by 1 January 2030): PM10 one day 45 ug/m3 not to be exceeded more than
 *   18 times per calendar year, calendar year 20 ug/m3; PM2.5 one day 25 ug/m3 not to be exceeded more
 *   than 18 times per calendar year, calendar year 10 ug/m3. http://data.europa.eu/eli/dir/2024/2881/oj
 *
 * A daily mean counts only when at least 18 hourly values of that calendar day are valid (the 75 %
 * data-capture rule of 2008/50/EC Annex XI A; DASHBOARD.md). An exceedance is a daily mean strictly
 * above the limit. Annual limits apply to a calendar-year mean: a mean over a shorter period is
 * indicative only.
 */

export type LimitPollutant = 'pm10' | 'pm25';

export interface PmLimit {
  /** Stable id, e.g. "2008/50/EC:pm10:day". */
  id: string;
  pollutant: LimitPollutant;
  /** Averaging period of the value compared with the limit. */
  averaging: 'day' | 'year';
  valueUgM3: number;
  /** Days per calendar year the daily limit may be exceeded (null for annual limits). */
  maxExceedancesPerYear: number | null;
  directive: '2008/50/EC' | '(EU) 2024/2881';
  /** First day (YYYY-MM-DD) the limit applies. */
  appliesFrom: string;
  citation: string;
}

export const PM_LIMITS: readonly PmLimit[] = [
  { id: '2008/50/EC:pm10:day', pollutant: 'pm10', averaging: 'day', valueUgM3: 50, maxExceedancesPerYear: 35, directive: '2008/50/EC', appliesFrom: '2005-01-01', citation: 'Directive 2008/50/EC, Annex XI B' },
  { id: '2008/50/EC:pm10:year', pollutant: 'pm10', averaging: 'year', valueUgM3: 40, maxExceedancesPerYear: null, directive: '2008/50/EC', appliesFrom: '2005-01-01', citation: 'Directive 2008/50/EC, Annex XI B' },
  { id: '2008/50/EC:pm25:year', pollutant: 'pm25', averaging: 'year', valueUgM3: 25, maxExceedancesPerYear: null, directive: '2008/50/EC', appliesFrom: '2015-01-01', citation: 'Directive 2008/50/EC, Annex XIV E' },
  { id: '2024/2881:pm10:day', pollutant: 'pm10', averaging: 'day', valueUgM3: 45, maxExceedancesPerYear: 18, directive: '(EU) 2024/2881', appliesFrom: '2030-01-01', citation: 'Directive (EU) 2024/2881, Annex I' },
  { id: '2024/2881:pm10:year', pollutant: 'pm10', averaging: 'year', valueUgM3: 20, maxExceedancesPerYear: null, directive: '(EU) 2024/2881', appliesFrom: '2030-01-01', citation: 'Directive (EU) 2024/2881, Annex I' },
  { id: '2024/2881:pm25:day', pollutant: 'pm25', averaging: 'day', valueUgM3: 25, maxExceedancesPerYear: 18, directive: '(EU) 2024/2881', appliesFrom: '2030-01-01', citation: 'Directive (EU) 2024/2881, Annex I' },
  { id: '2024/2881:pm25:year', pollutant: 'pm25', averaging: 'year', valueUgM3: 10, maxExceedancesPerYear: null, directive: '(EU) 2024/2881', appliesFrom: '2030-01-01', citation: 'Directive (EU) 2024/2881, Annex I' },
];

/** Hourly values a calendar day needs for a valid daily mean. */
export const MIN_HOURS_PER_DAY = 18;

export function limitsFor(pollutant: LimitPollutant): PmLimit[] {
  return PM_LIMITS.filter((l) => l.pollutant === pollutant);
}
