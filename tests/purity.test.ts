// The retrieval core (processing/) must run unchanged in the browser: no Node or DOM APIs.
// Complements `tsc -p processing/tsconfig.json` (compiled with no Node/DOM types) in `npm run typecheck`.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const FORBIDDEN: Array<[RegExp, string]> = [
  [/from\s+['"](node:[\w/]+|fs|path|os|child_process|worker_threads|url|crypto|zlib|stream|buffer|util)['"]/, 'Node module import'],
  [/\brequire\s*\(/, 'require()'],
  [/\bprocess\.(env|argv|exit|cwd|stdout|stderr|hrtime)/, 'process global'],
  [/\bBuffer\./, 'Buffer'],
  [/\b(window|document|localStorage|navigator)\./, 'DOM global'],
  [/\bimport\s*\(\s*['"]node:/, 'dynamic Node import'],
];

export function impurities(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
  return FORBIDDEN.filter(([re]) => re.test(code)).map(([, what]) => what);
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

describe('processing/ purity', () => {
  it('detects Node and DOM usage in a snippet', () => {
    expect(impurities("import { readFileSync } from 'node:fs';")).toEqual(['Node module import']);
    expect(impurities('const x = process.env.HOME;')).toEqual(['process global']);
    expect(impurities('document.body.append(x)')).toEqual(['DOM global']);
    expect(impurities('// process.env is not used here\nconst a = 1;')).toEqual([]);
  });

  it('has no Node or DOM APIs in any processing/ module', () => {
    const files = tsFiles(join(import.meta.dirname, '..', 'processing'));
    expect(files.length).toBeGreaterThan(0);
    const bad = files.map((f) => [f, impurities(readFileSync(f, 'utf8'))] as const).filter(([, i]) => i.length > 0);
    expect(bad).toEqual([]);
  });
});
