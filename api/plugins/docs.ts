/**
 * The OpenAPI 3.1 document (@fastify/swagger, built from every route's schemas) and Swagger UI at
 * /docs (@fastify/swagger-ui, served from node_modules: no CDN). The UI's page loads only same-origin
 * scripts and styles, so it works under the strict CSP of plugins/security.ts unchanged.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { App } from '../state.js';

export const API_VERSION = '1.0.0';

export async function registerOpenApi(app: App): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'lidar-pm API',
        version: API_VERSION,
        description:
          'Scanning aerosol lidar to city PM monitor: latest maps, curtains, series, district statistics against the EU limits, station health, parameter sets, retrieval previews, reprocessing and calibration. Lidar-derived PM is provisional, not for compliance. Errors: {"error": {"code", "message", "field"}}. Full guide: docs/api.md.',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      tags: [
        { name: 'stations', description: 'Configured stations' },
        { name: 'maps', description: 'Latest scan (map, polar), curtains, AQ stations' },
        { name: 'series', description: 'Time series and district statistics (JSON or CSV)' },
        { name: 'profiles', description: 'Stored profiles, raw files, previews' },
        { name: 'parameters', description: 'Parameter sets and calibration' },
        { name: 'jobs', description: 'Reprocessing jobs' },
        { name: 'aq', description: 'Official AQ-station hourly PM, lidar vs station' },
        { name: 'live', description: 'Server-sent events' },
        { name: 'operations', description: 'Health, readiness, metrics, station status' },
      ],
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'A token from `lidar-pm token NAME`; the service stores only its SHA-256.' } },
      },
    },
  });
}

export async function registerDocsUi(app: App): Promise<void> {
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { validatorUrl: null, docExpansion: 'list', deepLinking: false, tryItOutEnabled: false },
    staticCSP: false,
  });
}
