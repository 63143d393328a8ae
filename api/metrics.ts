/**
 * Prometheus text exposition (format 0.0.4) without a client library: HTTP request counters and a
 * latency histogram per route (the route pattern, so the label set stays bounded), plus gauges and
 * counters read from the context at scrape time (pipeline per station, queues, store, sources, SSE
 * clients, jobs, process).
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { ApiContext } from './context.js';

/** Seconds. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

interface RouteStats {
  method: string;
  route: string;
  buckets: number[];
  sum: number;
  count: number;
  byStatus: Map<number, number>;
}

/** Collects per-route request counts and latencies. */
export class HttpMetrics {
  private readonly routes = new Map<string, RouteStats>();

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route}`;
    let s = this.routes.get(key);
    if (!s) {
      if (this.routes.size >= 500) return; // bounded: routes are patterns, this never triggers in practice
      s = { method, route, buckets: new Array<number>(LATENCY_BUCKETS.length).fill(0), sum: 0, count: 0, byStatus: new Map() };
      this.routes.set(key, s);
    }
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (seconds <= LATENCY_BUCKETS[i]) s.buckets[i]++;
    s.sum += seconds;
    s.count++;
    s.byStatus.set(status, (s.byStatus.get(status) ?? 0) + 1);
  }

  lines(out: string[]): void {
    out.push('# HELP lidar_pm_http_requests_total HTTP requests by route pattern, method and status.', '# TYPE lidar_pm_http_requests_total counter');
    for (const s of this.routes.values()) {
      for (const [status, n] of s.byStatus) out.push(`lidar_pm_http_requests_total${labels({ method: s.method, route: s.route, status: String(status) })} ${n}`);
    }
    out.push('# HELP lidar_pm_http_request_duration_seconds HTTP request latency (receipt to response sent) by route pattern.', '# TYPE lidar_pm_http_request_duration_seconds histogram');
    for (const s of this.routes.values()) {
      const base = { method: s.method, route: s.route };
      LATENCY_BUCKETS.forEach((le, i) => out.push(`lidar_pm_http_request_duration_seconds_bucket${labels({ ...base, le: String(le) })} ${s.buckets[i]}`));
      out.push(`lidar_pm_http_request_duration_seconds_bucket${labels({ ...base, le: '+Inf' })} ${s.count}`);
      out.push(`lidar_pm_http_request_duration_seconds_sum${labels(base)} ${num(s.sum)}`);
      out.push(`lidar_pm_http_request_duration_seconds_count${labels(base)} ${s.count}`);
    }
  }
}

type Sample = [Record<string, string>, number];

function family(out: string[], name: string, type: 'counter' | 'gauge', help: string, samples: Sample[]): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [l, v] of samples) out.push(`${name}${labels(l)} ${num(v)}`);
}

export interface ExtraMetrics {
  sseClients: number;
  jobs: { queued: number; running: number };
}

let loopDelay: IntervalHistogram | null = null;

/** Starts sampling the event-loop delay (once per process). */
export function startLoopMonitor(): void {
  if (loopDelay) return;
  loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
}

const PIPELINE_COUNTERS: Array<[keyof ReturnType<ApiContext['pipelineHealth']>[string], string, string]> = [
  ['received', 'lidar_pm_pipeline_received_total', 'Items received by the pipeline.'],
  ['processed', 'lidar_pm_pipeline_processed_total', 'Licel files retrieved and stored.'],
  ['quarantined', 'lidar_pm_pipeline_quarantined_total', 'Items quarantined (bad input).'],
  ['retried', 'lidar_pm_pipeline_retries_total', 'Store/archive operations retried.'],
  ['uncalibrated', 'lidar_pm_pipeline_uncalibrated_total', 'Scan channels skipped for want of a lidar constant.'],
  ['channelErrors', 'lidar_pm_pipeline_channel_errors_total', 'Channels whose retrieval failed.'],
  ['statusRecords', 'lidar_pm_pipeline_status_records_total', 'Station status records stored.'],
  ['outOfOrder', 'lidar_pm_pipeline_out_of_order_total', 'Files older than the newest already processed (late delivery, re-sends, clock jumps back).'],
  ['timeConflicts', 'lidar_pm_pipeline_time_conflicts_total', 'Different files with an already-stored start time (quarantined, not overwritten).'],
];

/** The whole exposition. */
export function renderMetrics(ctx: ApiContext, http: HttpMetrics, extra: ExtraMetrics): string {
  const out: string[] = [];
  const health = ctx.pipelineHealth();
  const stations = Object.entries(health);
  for (const [key, name, help] of PIPELINE_COUNTERS) family(out, name, 'counter', help, stations.map(([station, h]) => [{ station }, h[key] as number]));
  family(out, 'lidar_pm_ingest_lag_seconds', 'gauge', 'Arrival minus measurement time of the last profile.', stations.map(([station, h]) => [{ station }, h.lastLagMs / 1000]));
  family(out, 'lidar_pm_ingest_lag_max_seconds', 'gauge', 'Largest ingest lag of the last 100 profiles.', stations.map(([station, h]) => [{ station }, h.maxLagMs / 1000]));
  family(out, 'lidar_pm_last_profile_age_seconds', 'gauge', 'Time since the measurement of the newest stored profile.', stations.map(([station, h]) => [{ station }, h.lastProfileAgeMs / 1000]));
  family(out, 'lidar_pm_station_queue_depth', 'gauge', 'Items of a station waiting or in flight in the pipeline.', stations.flatMap(([station, h]): Sample[] => [[{ station, state: 'queued' }, h.queueDepth], [{ station, state: 'in_flight' }, h.inFlight]]));
  const d = ctx.depths();
  family(out, 'lidar_pm_queue_depth', 'gauge', 'Pipeline queue (all stations) and retrieval pool depth.', [[{ queue: 'pipeline_queued' }, d.queued], [{ queue: 'pipeline_running' }, d.running], [{ queue: 'retrieval_pool' }, d.pool]]);
  const st = ctx.store.status();
  family(out, 'lidar_pm_store_reachable', 'gauge', '1 when the database answers.', [[{ kind: ctx.store.backend.kind }, st.reachable ? 1 : 0]]);
  family(out, 'lidar_pm_store_spooled_points', 'gauge', 'Points waiting in the store spool.', [[{}, st.spooledPoints]]);
  family(out, 'lidar_pm_store_spooled_bytes', 'gauge', 'Bytes waiting in the store spool.', [[{}, st.spooledBytes]]);
  family(out, 'lidar_pm_store_write_errors_total', 'counter', 'Store writes that failed and were retried or spooled.', [[{}, st.writeErrors]]);
  const sources = ctx.sources();
  family(out, 'lidar_pm_source_connected', 'gauge', '1 when the source is connected / open / watching.', sources.map((s): Sample => [{ source: s.name }, s.connected ? 1 : 0]));
  family(out, 'lidar_pm_source_stat', 'gauge', 'Source counters as the source reports them.', sources.flatMap((s) => Object.entries(s.stats).map(([k, v]): Sample => [{ source: s.name, stat: k }, v])));
  family(out, 'lidar_pm_sse_clients', 'gauge', 'Connected server-sent-event clients.', [[{}, extra.sseClients]]);
  family(out, 'lidar_pm_jobs', 'gauge', 'Reprocessing jobs by state.', [[{ state: 'queued' }, extra.jobs.queued], [{ state: 'running' }, extra.jobs.running]]);
  http.lines(out);
  const mem = process.memoryUsage();
  family(out, 'process_resident_memory_bytes', 'gauge', 'Resident memory.', [[{}, mem.rss]]);
  family(out, 'nodejs_heap_used_bytes', 'gauge', 'V8 heap in use.', [[{}, mem.heapUsed]]);
  family(out, 'process_uptime_seconds', 'gauge', 'Seconds since the process started.', [[{}, process.uptime()]]);
  if (loopDelay) {
    family(out, 'nodejs_eventloop_delay_p99_seconds', 'gauge', 'Event-loop delay, 99th percentile since the last scrape.', [[{}, loopDelay.percentile(99) / 1e9]]);
    loopDelay.reset();
  }
  return out.join('\n') + '\n';
}
