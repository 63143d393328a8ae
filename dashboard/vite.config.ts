/**
 * Builds the dashboard: `vite build --config dashboard/vite.config.ts` (from the repository root)
 * writes dashboard/dist (index.html + hashed files under assets/), which the API serves at /.
 * Relative base (./) so it works at / or behind a proxy prefix; no inline scripts or styles (the API's
 * CSP forbids them); nothing is fetched from other hosts. Every text asset also gets .gz and .br
 * copies for a static server that sends pre-compressed files (@fastify/static `preCompressed`).
 */
import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('.', import.meta.url));

/** Writes NAME.gz and NAME.br beside every .js/.css/.json/.svg/.html file of the output. */
function precompress(): Plugin {
  let outDir = '';
  return {
    name: 'lidar-pm-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir.startsWith('/') ? config.build.outDir : join(config.root, config.build.outDir);
    },
    closeBundle() {
      const walk = (dir: string): void => {
        for (const name of readdirSync(dir)) {
          const path = join(dir, name);
          if (statSync(path).isDirectory()) walk(path);
          else if (/\.(js|css|json|svg|html)$/.test(name)) {
            const data = readFileSync(path);
            if (data.length < 1024) continue;
            writeFileSync(`${path}.gz`, gzipSync(data, { level: 9 }));
            writeFileSync(`${path}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
          }
        }
      };
      walk(outDir);
    },
  };
}

export default defineConfig({
  root,
  base: './',
  plugins: [svelte({ configFile: false }), precompress()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Nothing inlined as data: URLs; every asset is a same-origin file.
    assetsInlineLimit: 0,
    reportCompressedSize: true,
  },
  // The in-browser retrieval runs in a module worker (same-origin file: CSP worker-src 'self').
  worker: { format: 'es' },
  server: {
    // `vite --config dashboard/vite.config.ts` for development against a running service on :8080.
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
