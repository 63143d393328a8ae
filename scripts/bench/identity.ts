/**
 * Identity check for performance work on the retrieval chain: runs `retrieveFile` on fixture files
 * of all four scenarios (Monte Carlo 0 and 10; rayleigh and calibration boundaries) and writes, per
 * retrieval and product field, a SHA-256 of the raw bytes (float64 bits of every number and typed
 * array, qc bytes, strings). Two runs are compared with `--compare`:
 *
 *   npx tsx scripts/bench/identity.ts --out /tmp/identity-before.json
 *   ... change the code ...
 *   npx tsx scripts/bench/identity.ts --out /tmp/identity-after.json --compare /tmp/identity-before.json
 *
 * Exit code 1 when any field differs (or a retrieval is missing).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { retrieveFile } from '../../processing/retrieval/retrieve.js';
import { fixtureFile } from '../../tests/retrieval-truth.js';
import { caseContext, caseKey, identityCases } from './cases.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/** Feeds `v` into `h` bit-exactly (numbers as float64 bits, typed arrays as their raw bytes). */
function feed(h: ReturnType<typeof createHash>, v: unknown): void {
  if (v === null || v === undefined) h.update(`<${String(v)}>`);
  else if (typeof v === 'number') {
    f64[0] = v;
    h.update('n');
    h.update(f64Bytes);
  } else if (typeof v === 'string' || typeof v === 'boolean') h.update(`${typeof v}:${String(v)};`);
  else if (ArrayBuffer.isView(v)) {
    h.update(`${v.constructor.name}[${(v as unknown as { length: number }).length}]`);
    h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  } else if (Array.isArray(v)) {
    h.update(`a${v.length}`);
    for (const x of v) feed(h, x);
  } else if (typeof v === 'object') {
    for (const k of Object.keys(v as object).sort()) {
      h.update(`k:${k};`);
      feed(h, (v as Record<string, unknown>)[k]);
    }
  } else h.update(String(v));
}

function hashOf(v: unknown): string {
  const h = createHash('sha256');
  feed(h, v);
  return h.digest('hex').slice(0, 24);
}

const quick = process.argv.includes('--quick');
const cases = identityCases(quick);

const result: Record<string, Record<string, string>> = {};
let profiles = 0;
let errors = 0;
const t0 = performance.now();
for (const c of cases) {
  const ctx = caseContext(c);
  const key = caseKey(c);
  try {
    const out = retrieveFile(fixtureFile(c.scenario, c.file), c.file, ctx);
    out.forEach((p, i) => {
      profiles++;
      const fields: Record<string, string> = {};
      for (const k of Object.keys(p).sort()) fields[k] = hashOf((p as unknown as Record<string, unknown>)[k]);
      result[`${key}/${i}`] = fields;
    });
  } catch (e) {
    errors++;
    const err = e as { code?: string; message?: string };
    result[`${key}/error`] = { error: hashOf(`${err.code ?? ''}:${err.message ?? String(e)}`) };
  }
}
const fieldCount = Object.values(result).reduce((n, f) => n + Object.keys(f).length, 0);
console.log(`${cases.length} retrievals, ${profiles} profiles, ${errors} errors, ${fieldCount} fields in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const out = arg('--out');
if (out) writeFileSync(out, JSON.stringify(result, null, 1));
const cmp = arg('--compare');
if (cmp) {
  const before = JSON.parse(readFileSync(cmp, 'utf8')) as Record<string, Record<string, string>>;
  let diffs = 0;
  for (const key of new Set([...Object.keys(before), ...Object.keys(result)])) {
    const a = before[key];
    const b = result[key];
    if (!a || !b) {
      diffs++;
      console.log(`${key}: ${a ? 'missing now' : 'new'}`);
      continue;
    }
    for (const f of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (a[f] !== b[f]) {
        diffs++;
        if (diffs <= 40) console.log(`${key} ${f}: differs`);
      }
    }
  }
  console.log(`${diffs} differences against ${cmp}`);
  if (diffs > 0) process.exitCode = 1;
}
