/**
 * The other processing tree of a comparison (scripts/bench/ab.ts, compare.ts): `retrieveFile` of a
 * directory holding a copy of processing/ (e.g. the previous commit) and a package.json with
 * {"type":"module"}, so tsx loads it as ES modules like this checkout (as CommonJS its exports become
 * getters, which slows the hot loops and would bias a speed comparison).
 *
 *   mkdir -p /tmp/ab-base && git archive HEAD processing | tar -x -C /tmp/ab-base
 *   echo '{"type":"module"}' > /tmp/ab-base/package.json
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { retrieveFile as RetrieveFile } from '../../processing/retrieval/retrieve.js';

export async function loadBaseRetrieve(dir: string | undefined): Promise<typeof RetrieveFile> {
  if (!dir) throw new Error('--base DIR (a directory holding the other processing/ tree and {"type":"module"} package.json) is required');
  let type: string | undefined;
  try {
    type = (JSON.parse(readFileSync(join(resolve(dir), 'package.json'), 'utf8')) as { type?: string }).type;
  } catch {
    type = undefined;
  }
  if (type !== 'module') throw new Error(`${dir}/package.json must say {"type":"module"} (see scripts/bench/base.ts)`);
  const m = (await import(pathToFileURL(join(resolve(dir), 'processing', 'retrieval', 'retrieve.ts')).href)) as { retrieveFile: typeof RetrieveFile };
  return m.retrieveFile;
}
