/**
 * Following a reprocessing job: the API's SSE `job` events (/api/v1/events) first; polling
 * GET /jobs/{id} when the stream is not open within `openTimeoutMs` or is closed for good. One GET
 * right after the stream opens catches the updates sent before it was listening, and a GET every
 * `safetyMs` while the stream is open covers a lost event or a failed catch-up request (a job's last
 * event missed would otherwise leave the page waiting). Stops at a final state (done, failed,
 * cancelled).
 */
export interface JobView {
  id: string;
  state: 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
  files_total: number;
  files_done: number;
  files_failed: number;
  profiles_stored: number;
  progress: number;
  last_error: string | null;
}

export const isFinal = (s: JobView['state']): boolean => s === 'done' || s === 'failed' || s === 'cancelled';

/**
 * The view to show when `incoming` arrives while `current` is shown (stream, polls and the cancel
 * request's own answer can arrive out of order): a final state is never replaced by a non-final one,
 * nor a running job's progress by less progress.
 */
export function newerJob(current: JobView | null, incoming: JobView): JobView {
  if (current === null || current.id !== incoming.id) return incoming;
  if (isFinal(current.state) && !isFinal(incoming.state)) return current;
  if (!isFinal(incoming.state) && incoming.files_done < current.files_done) return current;
  return incoming;
}

/** The part of EventSource used here (a fake in the unit tests). */
export interface JobEventSource {
  readyState: number;
  onopen: ((e: unknown) => void) | null;
  onerror: ((e: unknown) => void) | null;
  addEventListener(type: 'job', listener: (e: { data: string }) => void): void;
  close(): void;
}

export interface FollowOptions {
  jobId: string;
  /** Opens the event stream (null when EventSource is unavailable). */
  open: () => JobEventSource | null;
  getJob: (id: string) => Promise<JobView>;
  onJob: (j: JobView) => void;
  /** 'sse' while the stream delivers, 'poll' after falling back. */
  onMode?: (m: 'sse' | 'poll') => void;
  onError?: (e: unknown) => void;
  pollMs?: number;
  openTimeoutMs?: number;
  /** Catch-up GET interval while the stream is open (default 10 s). */
  safetyMs?: number;
}

const CLOSED = 2;

/** Starts following; returns the function that stops it. */
export function followJob(o: FollowOptions): () => void {
  const pollMs = o.pollMs ?? 1000;
  let stopped = false;
  let es: JobEventSource | null = null;
  let poll: ReturnType<typeof setInterval> | null = null;
  let openTimer: ReturnType<typeof setTimeout> | null = null;
  let safety: ReturnType<typeof setInterval> | null = null;
  let last: JobView | null = null;

  const stop = () => {
    stopped = true;
    es?.close();
    es = null;
    if (poll !== null) clearInterval(poll);
    if (safety !== null) clearInterval(safety);
    if (openTimer !== null) clearTimeout(openTimer);
    poll = null;
    safety = null;
    openTimer = null;
  };
  const deliver = (j: JobView) => {
    if (stopped || j.id !== o.jobId) return;
    // ignore an older update arriving after a newer one (poll and stream may overlap)
    if (newerJob(last, j) !== j) return;
    last = j;
    o.onJob(j);
    if (isFinal(j.state)) stop();
  };
  const fetchOnce = () =>
    o.getJob(o.jobId).then(deliver, (e: unknown) => {
      if (!stopped) o.onError?.(e);
    });
  const startPolling = () => {
    if (stopped || poll !== null) return;
    es?.close();
    es = null;
    if (safety !== null) clearInterval(safety);
    safety = null;
    o.onMode?.('poll');
    poll = setInterval(fetchOnce, pollMs);
    void fetchOnce();
  };

  es = o.open();
  if (!es) {
    startPolling();
    return stop;
  }
  openTimer = setTimeout(startPolling, o.openTimeoutMs ?? 3000);
  es.onopen = () => {
    if (openTimer !== null) clearTimeout(openTimer);
    openTimer = null;
    o.onMode?.('sse');
    void fetchOnce();
    if (safety === null && !stopped) safety = setInterval(fetchOnce, o.safetyMs ?? 10_000);
  };
  es.onerror = () => {
    if (!es || es.readyState === CLOSED) startPolling();
  };
  es.addEventListener('job', (e) => {
    try {
      deliver(JSON.parse(e.data) as JobView);
    } catch {
      /* a malformed frame is ignored */
    }
  });
  return stop;
}
