export { buildApp, type BuildOptions } from './app.ts';
export { parley, type ParleyOptions } from './plugin.ts';
export { loadConfig, type Config } from './config.ts';
export { ConfigError } from './env.ts';
export { type JsonApiOptions } from './jsonapi/jsonapi.config.ts';
export { openStore, type Store } from './db/connect.ts';
export { migrateToLatest } from './db/migrate.ts';
export { mintToken } from './auth/token.ts';
export type { Database } from './db/database.ts';
