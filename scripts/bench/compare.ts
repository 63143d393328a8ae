/**
 * Bin-by-bin comparison of another copy of the processing tree (e.g. the previous commit) with this
 * checkout on the identity cases (scripts/bench/cases.ts), for changes that are meant to alter results
 * only in known places. For every array product it counts, over all profiles:
 *   same     bins equal bit for bit (NaN = NaN),
 *   changed  bins finite in both but different (with the largest relative difference),
 *   dropped  bins finite before and NaN now, and how many of those were valid before (not LOW_SNR,
 *            no product-masking flag),
 *   added    bins NaN before and finite now;
 * the QC bits that differ (and whether the bin's product was dropped), and the scalar fields (PBL,
 * cloud base, AOD, reference, lidar constant, ...) that differ.
 *
 *   mkdir -p /tmp/ab-base && git archive HEAD processing | tar -x -C /tmp/ab-base
 *   echo '{"type":"module"}' > /tmp/ab-base/package.json
 *   npx tsx scripts/bench/compare.ts --base /tmp/ab-base [--quick]
 */
import { parseArgs } from 'node:util';
import type { ProfileProducts, retrieveFile as RetrieveFile } from '../../processing/retrieval/retrieve.js';
import { retrieveFile } from '../../processing/retrieval/retrieve.js';
import { QC, QC_NO_PRODUCT } from '../../processing/retrieval/qc.js';
import { fixtureFile } from '../../tests/retrieval-truth.js';
import { loadBaseRetrieve } from './base.js';
import { caseContext, caseKey, identityCases } from './cases.js';

const { values } = parseArgs({ options: { base: { type: 'string' }, quick: { type: 'boolean', default: false } }, strict: true });
const baseRetrieve = await loadBaseRetrieve(values.base);

interface Tally {
  same: number;
  changed: number;
  maxRel: number;
  dropped: number;
  droppedValid: number;
  added: number;
}
const tallies = new Map<string, Tally>();
const scalarDiffs = new Map<string, string[]>();
const errorsDiffer: string[] = [];
/** QC bits that differ: flag, set/cleared, and whether the bin's product was dropped. */
const qcDiffs = new Map<string, number>();
/** The first few bins that were valid before and are NaN now. */
const droppedExamples: string[] = [];

function run(f: typeof RetrieveFile, c: ReturnType<typeof identityCases>[number]): ProfileProducts[] | string {
  try {
    return f(fixtureFile(c.scenario, c.file), c.file, caseContext(c));
  } catch (e) {
    return String((e as Error).message);
  }
}

for (const c of identityCases(values.quick)) {
  const key = caseKey(c);
  const before = run(baseRetrieve, c);
  const now = run(retrieveFile, c);
  if (typeof before === 'string' || typeof now === 'string') {
    if (before !== now) errorsDiffer.push(`${key}: ${typeof before === 'string' ? before : 'ok'} -> ${typeof now === 'string' ? now : 'ok'}`);
    continue;
  }
  now.forEach((p, k) => {
    const q = before[k];
    for (const field of Object.keys(p) as Array<keyof ProfileProducts>) {
      const a = q[field] as unknown;
      const b = p[field] as unknown;
      if (b instanceof Float64Array && a instanceof Float64Array) {
        const t = tallies.get(field) ?? { same: 0, changed: 0, maxRel: 0, dropped: 0, droppedValid: 0, added: 0 };
        for (let i = 0; i < b.length; i++) {
          const x = a[i];
          const y = b[i];
          if (Object.is(x, y) || (x !== x && y !== y)) t.same++;
          else if (x === x && y !== y) {
            t.dropped++;
            if ((q.qc[i] & (QC_NO_PRODUCT | QC.LOW_SNR)) === 0) {
              t.droppedValid++;
              if (field === 'betaAer' && droppedExamples.length < 12) droppedExamples.push(`${key}/${k} bin ${i} (${q.rangeM[i].toFixed(0)} m of ${q.rangeM[q.rangeM.length - 1].toFixed(0)}): ${x.toExponential(3)}, rcs ${q.rcs[i].toExponential(3)}`);
            }
          } else if (x !== x) t.added++;
          else {
            t.changed++;
            t.maxRel = Math.max(t.maxRel, Math.abs(y - x) / Math.max(Math.abs(x), 1e-300));
          }
        }
        tallies.set(field, t);
      } else if (b instanceof Uint8Array && a instanceof Uint8Array) {
        for (let i = 0; i < b.length; i++) {
          if (a[i] === b[i]) continue;
          for (const [name, bit] of Object.entries(QC)) {
            if ((a[i] & bit) === (b[i] & bit)) continue;
            // Where a product is still given the flags must not change; where it was dropped they may.
            const where = Number.isFinite(p.betaAer[i]) || !Number.isFinite(q.betaAer[i]) ? 'kept' : 'dropped';
            const k2 = `${name} ${(b[i] & bit) !== 0 ? 'set' : 'cleared'} (${where === 'kept' ? 'product unchanged' : 'product dropped'})`;
            qcDiffs.set(k2, (qcDiffs.get(k2) ?? 0) + 1);
          }
        }
      } else if (JSON.stringify(a) !== JSON.stringify(b) && !(Number.isNaN(a) && Number.isNaN(b))) {
        const list = scalarDiffs.get(field) ?? [];
        list.push(`${key}/${k}: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`);
        scalarDiffs.set(field, list);
      }
    }
  });
}

console.log('field                    same    changed  max rel    dropped  (valid before)  added');
for (const [field, t] of tallies) {
  console.log(`${field.padEnd(22)} ${String(t.same).padStart(8)} ${String(t.changed).padStart(8)}  ${t.maxRel.toExponential(1).padStart(8)} ${String(t.dropped).padStart(8)}  ${String(t.droppedValid).padStart(13)}  ${String(t.added).padStart(6)}`);
}
for (const [field, list] of scalarDiffs) {
  console.log(`\n${field}: ${list.length} profiles differ`);
  for (const l of list.slice(0, 8)) console.log(`  ${l}`);
}
for (const [k, v] of qcDiffs) console.log(`qc: ${k}: ${v} bins`);
if (droppedExamples.length > 0) console.log(`\nvalid before, NaN now (betaAer):\n  ${droppedExamples.join('\n  ')}`);
if (errorsDiffer.length > 0) console.log(`\nerrors differ:\n  ${errorsDiffer.join('\n  ')}`);
