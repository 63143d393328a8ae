/**
 * Security headers (@fastify/helmet) with a strict Content-Security-Policy for the dashboard and the
 * API docs: only same-origin scripts, styles, fonts and connections; images also from data:/blob:
 * (map tiles drawn to canvas, favicons), workers from blob: (the in-browser retrieval); no inline
 * scripts (script-src 'self', script-src-attr 'none'); no framing (frame-ancestors 'none'); no plugins.
 * CORS (@fastify/cors) only for the configured origins.
 */
import helmet from '@fastify/helmet';
import cors from '@fastify/cors';
import type { App } from '../state.js';
import type { ApiSettings } from '../context.js';

export const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  workerSrc: ["'self'", 'blob:'],
  objectSrc: ["'none'"],
  frameAncestors: ["'none'"],
  formAction: ["'self'"],
  upgradeInsecureRequests: null,
};

export async function registerSecurity(app: App, settings: ApiSettings): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
    // HSTS only means something behind TLS (a reverse proxy sets it there).
    strictTransportSecurity: false,
  });
  await app.register(cors, {
    origin: settings.corsOrigins.length > 0 ? settings.corsOrigins : false,
    methods: ['GET', 'HEAD', 'POST', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'If-None-Match', 'Last-Event-ID'],
    exposedHeaders: ['ETag', 'Retry-After', 'Location', 'Content-Disposition', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'],
    maxAge: 600,
  });
}
