// `npm start` runs every part in one process, so its configuration is the API's and the worker's
// together (each defined with its process: api/src/config.ts, anchor-worker/src/config.ts). What the
// chain settings leave out, npm start fills in with its local anvil chain.
import type { Env } from '../ledger/src/config.js';
import { loadApiConfig, type ApiConfig } from '../api/src/config.js';
import { loadWorkerSettings, type WorkerSettings } from '../anchor-worker/src/config.js';

export type StartConfig = ApiConfig & WorkerSettings;

export function loadConfig(env: Env = process.env): StartConfig {
  return { ...loadApiConfig(env), ...loadWorkerSettings(env) };
}
