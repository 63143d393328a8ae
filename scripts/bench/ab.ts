/**
 * Interleaved A/B of the full retrieval chain: `retrieveFile` of another copy of the processing tree
 * (e.g. the previous commit) against this checkout's, on the benchmark's inputs, alternating samples
 * of 1 s each in one process so that drift of a shared machine hits both alike.
 *
 *   mkdir -p /tmp/ab-base && git archive HEAD processing | tar -x -C /tmp/ab-base
 *   echo '{"type":"module"}' > /tmp/ab-base/package.json
 *   npx tsx scripts/bench/ab.ts --base /tmp/ab-base [--data-bins 16180] [--rounds 10]
 *
 * The package.json makes tsx load the copy as ES modules like this checkout (as CommonJS its exports
 * become getters, which slows the hot loops and would bias the comparison). Products go into reused
 * ProductBuffers, one set per version, as in the benchmark's headline rows (`--fresh`: new arrays per
 * call; a base older than the buffers ignores them). Prints per profile the median (and every
 * sample) of ns per bin, as in scripts/bench.ts.
 */
import { parseArgs } from 'node:util';
import type { retrieveFile as RetrieveFile } from '../../processing/retrieval/retrieve.js';
import { retrieveFile as current } from '../../processing/retrieval/retrieve.js';
import { ProductBuffers } from '../../processing/retrieval/product-buffers.js';
import { loadBaseRetrieve } from './base.js';
import { benchProfiles } from './inputs.js';

const { values } = parseArgs({ options: { base: { type: 'string' }, 'data-bins': { type: 'string', default: '16180' }, rounds: { type: 'string', default: '10' }, fresh: { type: 'boolean', default: false } }, strict: true });
const baseRetrieve = await loadBaseRetrieve(values.base);
const rounds = Number(values.rounds);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

for (const p of benchProfiles(Number(values['data-bins']))) {
  // One set of buffers per version (each relies on what its own previous call left in them).
  const run = (f: typeof RetrieveFile): ((...a: Parameters<typeof RetrieveFile>) => ReturnType<typeof RetrieveFile>) => {
    const buffers = values.fresh ? null : new ProductBuffers();
    return (file, name, ctx) => f(file, name, ctx, buffers);
  };
  const versions: Array<[string, typeof RetrieveFile]> = [['base', run(baseRetrieve)], ['current', run(current)]];
  const samples: Record<string, number[]> = { base: [], current: [] };
  const profiles = current(p.file, p.fileName, p.ctx).length;
  for (const [, f] of versions) for (let i = 0; i < 40; i++) f(p.file, p.fileName, p.ctx);
  for (let r = 0; r < rounds; r++) {
    for (const [name, f] of versions) {
      const t0 = performance.now();
      let calls = 0;
      while (performance.now() - t0 < 1000) {
        f(p.file, p.fileName, p.ctx);
        calls++;
      }
      samples[name].push((((performance.now() - t0) / calls) * 1e6) / (profiles * p.bins));
    }
  }
  const fmt = (a: number[]) => a.map((v) => v.toFixed(0)).join(',');
  const min = (a: number[]) => Math.min(...a);
  console.log(`${p.kind} ${p.bins} bins${values.fresh ? ' (fresh products)' : ''}: base ${median(samples.base).toFixed(1)} -> current ${median(samples.current).toFixed(1)} ns/bin (median of ${rounds}; min ${min(samples.base).toFixed(1)} -> ${min(samples.current).toFixed(1)}; base ${fmt(samples.base)} | current ${fmt(samples.current)})`);
}
