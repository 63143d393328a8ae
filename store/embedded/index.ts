/** The embedded (SQLite, one file) StoreBackend; see ./README.md and docs/storage.md. */
export { createEmbeddedBackend, DEFAULT_RAW_RETENTION_MS, type EmbeddedStoreOptions } from './backend.js';
