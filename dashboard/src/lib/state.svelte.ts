/**
 * Shared UI state (Svelte 5 runes): the language (remembered in localStorage; default from the
 * browser's language), and a clock that ticks every 15 s for "N min ago" texts.
 */
import type { Lang } from './time.js';
import { t as translate, type MessageKey } from './i18n.js';

const LANG_KEY = 'lidar-pm.lang';

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(LANG_KEY);
    if (saved === 'en' || saved === 'bg') return saved;
  } catch {
    /* storage disabled */
  }
  return typeof navigator !== 'undefined' && navigator.language.toLowerCase().startsWith('bg') ? 'bg' : 'en';
}

export const ui = $state({ lang: initialLang(), nowMs: Date.now() });

export function setLang(lang: Lang): void {
  ui.lang = lang;
  try {
    localStorage.setItem(LANG_KEY, lang);
  } catch {
    /* storage disabled */
  }
}

/** The message in the current language (reactive: reads ui.lang). */
export function tr(key: MessageKey, params?: Record<string, string | number>): string {
  return translate(ui.lang, key, params);
}

let clock: ReturnType<typeof setInterval> | null = null;
/** Starts the shared clock (idempotent). */
export function startClock(): void {
  if (clock === null) clock = setInterval(() => (ui.nowMs = Date.now()), 15_000);
}
