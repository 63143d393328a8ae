/** The InfluxDB adapter of the storage port (see README.md in this folder). */
export { createInfluxBackend, InfluxBackend, type InfluxBackendOptions } from './backend.js';
export type { RetryOptions } from './writer.js';
