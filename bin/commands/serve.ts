/**
 * `lidar-pm serve [--config FILE]`: runs the service (sources -> pipeline -> store, and the HTTP API
 * with the dashboard). Without --config: embedded store under ./data, the Sofia winter scenario
 * replayed as if live, http://localhost:8080. SIGINT/SIGTERM shut down gracefully (drain, flush).
 */
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { loadServiceConfig } from '../service/config.js';
import { defaultLog, startService } from '../service/compose.js';

export const serveCommand: Command = async (args) => {
  const { values } = parseArgs({ args, options: { config: { type: 'string' } }, strict: true });
  const config = loadServiceConfig(values.config);
  const service = await startService(config);
  defaultLog('info', `lidar-pm serving on ${service.url}: store ${config.store.kind === 'embedded' ? config.store.path : config.store.url}, sources ${service.sources.map((s) => s.name).join(', ')}`);
  // Runs until signalled, even when no source holds the event loop (a replay that has ended).
  const keepAlive = setInterval(() => undefined, 1 << 30);
  await new Promise<void>((resolve) => {
    const onSignal = (sig: string) => {
      defaultLog('info', `${sig}: shutting down (draining the pipeline, flushing the store)`);
      clearInterval(keepAlive);
      resolve();
    };
    process.once('SIGINT', () => onSignal('SIGINT'));
    process.once('SIGTERM', () => onSignal('SIGTERM'));
  });
  await service.stop();
  defaultLog('info', 'stopped cleanly');
  return 0;
};
