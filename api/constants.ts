/**
 * Lidar constants for retrievals the API runs (previews, reprocessing), chosen like the pipeline
 * does (ingest/pipeline.ts): per channel, the newest accepted vertical constant at or before the
 * measurement and at most 6 h older; read from the store's vertical profiles.
 */
import type { ResultStore } from '../store/result-store.js';

export const CALIBRATION_MAX_AGE_MS = 6 * 3_600_000;

/** Constants per channel by time; `at()` picks as the pipeline does. */
export class ConstantTrack {
  private readonly byChannel = new Map<string, Array<{ timeMs: number; value: number }>>();

  add(channel: string, timeMs: number, value: number): void {
    if (!(value > 0)) return;
    let list = this.byChannel.get(channel);
    if (!list) this.byChannel.set(channel, (list = []));
    const same = list.findIndex((c) => c.timeMs === timeMs);
    if (same >= 0) list[same].value = value;
    else {
      list.push({ timeMs, value });
      list.sort((a, b) => a.timeMs - b.timeMs);
      if (list.length > 256) list.shift();
    }
  }

  at(timeMs: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [ch, list] of this.byChannel) {
      for (let i = list.length - 1; i >= 0; i--) {
        if (list[i].timeMs <= timeMs && timeMs - list[i].timeMs <= CALIBRATION_MAX_AGE_MS) {
          out[ch] = list[i].value;
          break;
        }
      }
    }
    return out;
  }

  /** Adds the stored verticals' constants of [fromMs, toMs). */
  async load(store: ResultStore, station: string, fromMs: number, toMs: number): Promise<void> {
    const metas = await store.backend.profiles({ station, mode: 'vertical', fromMs, toMs, order: 'desc', limit: 2000 });
    for (const m of metas) if (m.lidarConstant > 0) this.add(m.channel, m.timeMs, m.lidarConstant);
  }
}

/** The constants that apply to a measurement at `timeMs`, from the store. */
export async function storedConstantsAt(store: ResultStore, station: string, timeMs: number): Promise<Record<string, number>> {
  const t = new ConstantTrack();
  await t.load(store, station, timeMs - CALIBRATION_MAX_AGE_MS, timeMs + 1);
  return t.at(timeMs);
}
