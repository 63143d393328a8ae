/**
 * The channel keys ("532o-glued", "1064o-glued", ...) each station has data for: read from the store's
 * recent profiles (last 7 days before now) the first time, then learned from the pipeline's 'stored'
 * events. The default channel of a query is the one nearest 532 nm, glued before photon before
 * analog (the map and quicklook channel of an elastic lidar).
 */
import { parseProfileId } from '../store/port.js';
import type { ApiContext } from './context.js';
import { badRequest } from './errors.js';
import { nowOf } from './query.js';

const LOOK_BACK_MS = 7 * 86_400_000;
const REFRESH_EMPTY_MS = 30_000;
export const CHANNEL_RE = /^[A-Za-z0-9._-]{1,32}$/;

const KIND_RANK: Record<string, number> = { glued: 0, photon: 1, analog: 2 };

export function preferredChannel(keys: Iterable<string>): string | null {
  let best: string | null = null;
  let bestScore = Infinity;
  for (const k of keys) {
    const m = /^(\d+)[a-z]*-(\w+)$/.exec(k);
    const score = m ? Math.abs(Number(m[1]) - 532) * 10 + (KIND_RANK[m[2]] ?? 5) : 1e9;
    if (score < bestScore || (score === bestScore && best !== null && k < best)) {
      best = k;
      bestScore = score;
    }
  }
  return best;
}

export class ChannelDirectory {
  private readonly known = new Map<string, Set<string>>();
  private readonly loadedAt = new Map<string, number>();
  private readonly loading = new Map<string, Promise<Set<string>>>();

  constructor(private readonly ctx: ApiContext) {}

  /** Learns from a 'stored' event's profile ids. */
  learn(ids: unknown): void {
    if (!Array.isArray(ids)) return;
    for (const id of ids) {
      const p = typeof id === 'string' ? parseProfileId(id) : null;
      if (!p) continue;
      let set = this.known.get(p.station);
      if (!set) this.known.set(p.station, (set = new Set()));
      set.add(p.channel);
    }
  }

  async channels(station: string): Promise<string[]> {
    let set = this.known.get(station);
    const loaded = this.loadedAt.get(station);
    if (loaded === undefined || ((!set || set.size === 0) && Date.now() - loaded > REFRESH_EMPTY_MS)) {
      let p = this.loading.get(station);
      if (!p) {
        p = this.load(station).finally(() => this.loading.delete(station));
        this.loading.set(station, p);
      }
      set = await p;
    }
    return [...(set ?? [])].sort();
  }

  private async load(station: string): Promise<Set<string>> {
    const now = nowOf(this.ctx);
    const metas = await this.ctx.store.backend.profiles({ station, fromMs: now - LOOK_BACK_MS, toMs: now + 1, order: 'desc', limit: 500 });
    let set = this.known.get(station);
    if (!set) this.known.set(station, (set = new Set()));
    for (const m of metas) set.add(m.channel);
    this.loadedAt.set(station, Date.now());
    return set;
  }

  /** The query's channel (checked), else the station's preferred one; null when the station has no data. */
  async resolve(station: string, channel: string | undefined): Promise<string | null> {
    if (channel !== undefined) {
      if (!CHANNEL_RE.test(channel)) throw badRequest('channel', `invalid channel ${JSON.stringify(channel.slice(0, 40))} (expected a key like "532o-glued")`);
      return channel;
    }
    return preferredChannel(await this.channels(station));
  }
}
