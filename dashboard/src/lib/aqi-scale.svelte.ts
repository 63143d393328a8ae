/**
 * The index that colours the public map (European AQI 2024 by default, US AQI as an option), shared
 * by the map, legend, detail and charts and remembered in localStorage.
 */
import type { AqiScale } from './aqi.js';

export const AQI_SCALE_KEY = 'lidar-pm.aqi';

function initialScale(): AqiScale {
  try {
    const saved = localStorage.getItem(AQI_SCALE_KEY);
    if (saved === 'eaqi' || saved === 'usaqi') return saved;
  } catch {
    /* storage disabled */
  }
  return 'eaqi';
}

export const aqiState = $state<{ scale: AqiScale }>({ scale: initialScale() });

export function setAqiScale(scale: AqiScale): void {
  aqiState.scale = scale;
  try {
    localStorage.setItem(AQI_SCALE_KEY, scale);
  } catch {
    /* storage disabled */
  }
}
