/**
 * `npx tsx scripts/bench/report.ts [docs/bench/summary.json]`: the Markdown tables of
 * docs/performance.md (headline results, growth with bins, profiles, stored profiles and stations,
 * the API's connection table, dashboard draw times) from a summary written by `npm run bench`
 * (scripts/bench-all.ts), so the document can be refreshed after a re-run on a quiet machine.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Row } from '../bench-all.js';


const file = process.argv[2] ?? join(import.meta.dirname, '..', '..', 'docs', 'bench', 'summary.json');
const doc = JSON.parse(readFileSync(file, 'utf8'));
const rows = doc.rows as Row[];
const g = doc.growth as Record<string, Array<Record<string, number | string | null>>>;
const out: string[] = [];
const table = (head: string[], body: Array<Array<string | number | null | undefined>>) => {
  const numeric = head.map((_, c) => body.every((b) => b[c] === null || b[c] === undefined || typeof b[c] === 'number'));
  out.push(`| ${head.join(' | ')} |`, `|${head.map((_, c) => (numeric[c] ? '---:' : '---')).join('|')}|`);
  for (const b of body) out.push(`| ${b.map((v) => (v === null || v === undefined ? '-' : String(v))).join(' | ')} |`);
  out.push('');
};
const find = (benchmark: string, metric: string, workload?: RegExp) => rows.filter((r) => r.benchmark === benchmark && r.metric === metric && (!workload || workload.test(r.workload)));

const m = doc.machine;
const when = (d: string) => `${d.slice(0, 16).replace('T', ' ')} UTC`;
const run = (x: { command: string; date: string; seconds: number; machine: typeof m }) => `\`${x.command}\`, ${when(x.date)}, ${x.seconds} s in all, load average ${x.machine.loadAverageAtStart.join(' / ')} at the start and ${x.machine.loadAverageAtEnd.join(' / ')} at the end`;
out.push(`Machine: \`nproc\` ${m.nproc}, ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}. Run: ${doc.mergedFrom ? `${run(doc.mergedFrom)}; then ${run(doc)}, merged in` : run(doc)}.`, '');

out.push('### Headline results', '');
const head: Array<Array<string | number>> = [];
for (const r of rows) {
  const key = `${r.benchmark}|${r.metric}`;
  const pick =
    (r.benchmark === 'retrieval' && r.metric === 'time per bin' && /16380 bins/.test(r.workload)) ||
    ((r.benchmark === 'ingest-embedded' || r.benchmark === 'ingest-influx') && ['throughput', 'latency p50', 'latency p99'].includes(r.metric)) ||
    ((r.benchmark === 'store-embedded' || r.benchmark === 'store-influx') && ['write', 'latest map (pm10, 17-ray PPI) p50', '24 h curtain 288 x 200 (beta_aer) p50', '30-day district statistics p50'].includes(r.metric)) ||
    (r.benchmark === 'api' && /^latest map/.test(r.workload) && ['requests', 'latency p99'].includes(r.metric)) ||
    (r.benchmark === 'dashboard' && r.metric === 'draw median');
  if (pick && key) head.push([r.benchmark, r.workload, r.metric, r.value, r.unit]);
}
table(['benchmark', 'workload', 'metric', 'value', 'unit'], head);

if (g.bins) {
  out.push('### Growth with bins (retrieval, warm, Monte Carlo off)', '');
  table(['profile', 'bins', 'us per file', 'ns/bin', 'cold ns/bin', 'profiles/s', 'floor ns/bin'], g.bins.map((x) => [x.kind, x.bins, x.usPerFile, x.nsPerBin, x.coldNsPerBin, x.profilesPerS, x.floorNsPerBin ?? '-']));
}
if (g.profiles) {
  out.push('### Growth with profiles through the pipeline (MQTT -> embedded store, 4 x 16380-bin files, 2 profiles each)', '');
  table(['files', 'profiles', 'stations', 'seconds', 'files/s', 'ms per file', 'RSS MiB'], g.profiles.map((x) => [x.files, x.profiles, x.stations, x.seconds, x.filesPerS, x.msPerFile, x.rssMiB]));
}
if (g.storedProfiles) {
  out.push('### Growth with stored profiles (embedded store; 30 days of cells, the last N days with profiles)', '');
  table(['days', 'profiles', 'file MB', 'write profiles/s', 'latest map ms', '24 h curtain ms', '30-day district series ms', '30-day district stats ms'], g.storedProfiles.map((x) => [x.days, x.profiles, x.fileMB, x.writeProfilesPerS, x.latestMapMs, x.curtain24hMs, x.districtSeries30dMs, x.districtStats30dMs]));
}
if (g.stations) {
  out.push('### Growth with stations (MQTT -> embedded store, stations at once)', '');
  table(['stations', 'throughput files', 'files/s', 'ms per file', 'latency: offered files/s', 'latency p50 ms', 'latency p99 ms'], g.stations.map((x) => [x.stations, x.throughputFiles, x.filesPerS, x.msPerFile, x.latencyOfferedFilesPerS, x.latencyP50Ms, x.latencyP99Ms]));
}
if (g.connections) {
  out.push('### API under 10, 100 and 500 connections (autocannon, keep-alive, no pipelining)', '');
  table(['scenario', 'connections', 'requests/s', 'p50 ms', 'p99 ms', 'non-2xx + errors'], g.connections.map((x) => [x.scenario, x.connections, x.requestsPerS, x.p50Ms, x.p99Ms, Number(x.non2xx) + Number(x.errors)]));
}
const dash = find('dashboard', 'draw median');
if (dash.length > 0) {
  out.push('### Dashboard draw times (headless Chromium)', '');
  table(['workload', 'median ms', 'p90 ms'], dash.map((r) => [r.workload, r.value, find('dashboard', 'draw p90').find((p) => p.workload === r.workload)?.value]));
}
out.push('### Wall time per benchmark', '');
table(['benchmark', 'seconds', 'load average at its start'], Object.entries(doc.benchmarks as Record<string, { seconds: number; loadAverageAtStart?: number[]; error?: string }>).map(([k, v]) => [k, v.seconds, v.error ? `FAILED: ${v.error}` : (v.loadAverageAtStart ?? []).join(' / ')]));
console.log(out.join('\n'));
