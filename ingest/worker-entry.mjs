// Worker thread entry: loads ingest/worker.ts through tsx in a checkout (workers do not inherit the
// main thread's loader hooks), or the compiled worker.js beside it in dist/.
import { existsSync } from 'node:fs';

const source = new URL('./worker.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('./worker.js', import.meta.url).href);
}
