/**
 * Live updates: the API's server-sent events (/api/v1/events) with the browser's own reconnection;
 * when the stream is closed for good (e.g. 503: too many clients) it falls back to polling and tries
 * the stream again later.
 */
import { API } from './api.js';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'polling';

export interface StoredEvent {
  station: string;
  time: string;
  channels: Array<{ channel: string; mode: string; azimuthDeg?: number; elevationDeg?: number }>;
  cells?: number;
}

export interface LiveOptions {
  station: string;
  /** A stored scan step (new map data). */
  onStored: (e: StoredEvent) => void;
  /** Called every pollMs while the stream is down. */
  onPoll: () => void;
  onState: (s: LiveState) => void;
  pollMs?: number;
  retryStreamMs?: number;
}

/** Starts listening; returns the function that stops it. */
export function startLive(opts: LiveOptions): () => void {
  const pollMs = opts.pollMs ?? 60_000;
  const retryStreamMs = opts.retryStreamMs ?? 120_000;
  let es: EventSource | null = null;
  let pollTimer: ReturnType<typeof setInterval> | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;

  const startPolling = () => {
    if (pollTimer === null) pollTimer = setInterval(opts.onPoll, pollMs);
    opts.onState('polling');
  };
  const stopPolling = () => {
    if (pollTimer !== null) clearInterval(pollTimer);
    pollTimer = null;
  };

  const connect = () => {
    if (stopped || typeof EventSource === 'undefined') {
      if (!stopped) startPolling();
      return;
    }
    opts.onState('connecting');
    es = new EventSource(`${API}/events?station=${encodeURIComponent(opts.station)}`);
    es.onopen = () => {
      stopPolling();
      opts.onState('live');
    };
    es.onerror = () => {
      if (!es || es.readyState === EventSource.CLOSED) {
        es?.close();
        es = null;
        startPolling();
        retryTimer = setTimeout(connect, retryStreamMs);
      } else {
        opts.onState('reconnecting');
      }
    };
    es.addEventListener('stored', (ev) => {
      try {
        const data = JSON.parse((ev as MessageEvent<string>).data) as StoredEvent;
        if (data.station === opts.station) opts.onStored(data);
      } catch {
        /* a malformed frame is ignored */
      }
    });
  };
  connect();
  return () => {
    stopped = true;
    es?.close();
    stopPolling();
    if (retryTimer !== null) clearTimeout(retryTimer);
  };
}
