// Worker-thread entry of scripts/bench/parallel.ts: workers do not inherit the main thread's tsx
// loader, so register it here, then run the TypeScript worker.
const { register } = await import('tsx/esm/api');
register();
await import(new URL('./parallel-worker.ts', import.meta.url).href);
