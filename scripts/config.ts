// `npm start` runs every part in one process, so its configuration is the API's and the worker's
// together (each defined with its process: api/src/config.ts, anchor-worker/src/config.ts). What the
// chain settings leave out, npm start fills in with its local anvil chain.
import { url, type Env } from '../ledger/src/config.js';
import { loadApiConfig, type ApiConfig } from '../api/src/config.js';
import { loadWorkerSettings, type WorkerSettings } from '../anchor-worker/src/config.js';

export type StartConfig = ApiConfig &
  WorkerSettings & {
    /**
     * DATABASE_OWNER_URL: npm start migrates with it, then drops it; the API and the worker use DATABASE_URL
     * when given, else the application role on the same server. Unset: DATABASE_URL is the application
     * role's, already migrated (`npm run migrate`), or, unset too, the embedded PostgreSQL.
     */
    databaseOwnerUrl: string | null;
  };

export function loadConfig(env: Env = process.env): StartConfig {
  return {
    ...loadApiConfig(env),
    ...loadWorkerSettings(env),
    databaseOwnerUrl: url(env, 'DATABASE_OWNER_URL', ['postgres:', 'postgresql:']),
  };
}
