// The API process's configuration (api/src/server.ts): the variables it shares with the worker
// (ledger/src/config.ts) and its own. docs/operations.md documents each one.
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { ConfigError, int, loadSharedConfig, opt, url, type Env, type SharedConfig } from '../../ledger/src/config.js';

export interface ApiConfig extends SharedConfig {
  port: number;
  /**
   * The chain's JSON-RPC URL as browsers and voters should reach it (http or https), published as
   * `chainRpcUrl` in `GET /api/v1/elections/{id}`. Unset: null, never CHAIN_RPC_URL (often an internal address).
   */
  publicChainRpcUrl: string | null;
  adminToken: string | null;
  /** Per-IP rate limit on the ballot route, requests per minute; 0 = off. */
  ballotRateLimit: number;
  /** Per-IP rate limit on the other routes, requests per minute; 0 = off. */
  rateLimit: number;
  /** Behind a reverse proxy / load balancer: trust X-Forwarded-For for this many hops (rate limits key on the client IP). 0 = off. */
  trustProxy: number;
  /** Connections in the application's PostgreSQL pool (per process). */
  databasePoolSize: number;
  /** Signature verification worker threads; 0 = one per core. */
  verifyThreads: number;
  /** Static files of the voter and results pages (served at / when the directory exists). */
  webDir: string;
  /** Longest wait for in-flight requests on SIGTERM/SIGINT before the process exits anyway. */
  shutdownTimeoutSeconds: number;
  /** TALLYPROOF_QUEUE_PREFIX: the Redis key prefix of the job queues, undefined for the default. */
  queuePrefix: string | undefined;
}

/**
 * PUBLIC_CHAIN_RPC_URL is sent to every voter's browser: http or https only (the pages read the chain with
 * fetch, which also refuses URLs with credentials), and no user name or password in it.
 */
function publicRpcUrl(env: Env): string | null {
  const name = 'PUBLIC_CHAIN_RPC_URL';
  const hint =
    " (browsers read the chain over HTTP; expected the chain's JSON-RPC URL as browsers reach it, e.g. https://rpc.example.org)";
  const v = url(env, name, ['http:', 'https:'], hint);
  if (v === null) return null;
  const u = new URL(v);
  if (u.username !== '' || u.password !== '') {
    throw new ConfigError(name, 'must not contain a user name or password: it is published to every voter');
  }
  return v;
}

export function loadApiConfig(env: Env = process.env): ApiConfig {
  const adminToken = opt(env, 'ADMIN_TOKEN');
  if (adminToken !== null && adminToken.length < 16)
    throw new ConfigError('ADMIN_TOKEN', 'must be at least 16 characters');
  return {
    ...loadSharedConfig(env),
    port: int(env, 'PORT', 8080, 0, 65535),
    publicChainRpcUrl: publicRpcUrl(env),
    adminToken,
    ballotRateLimit: int(env, 'BALLOT_RATE_LIMIT', 0, 0, 1_000_000),
    rateLimit: int(env, 'RATE_LIMIT', 0, 0, 1_000_000),
    trustProxy: int(env, 'TRUST_PROXY', 0, 0, 16),
    databasePoolSize: int(env, 'DATABASE_POOL_SIZE', 10, 1, 500),
    verifyThreads: int(env, 'VERIFY_THREADS', 0, 0, 256),
    webDir: resolve(opt(env, 'WEB_DIR') ?? fileURLToPath(new URL('../../web/dist', import.meta.url))),
    shutdownTimeoutSeconds: int(env, 'SHUTDOWN_TIMEOUT_SECONDS', 30, 1, 3600),
    queuePrefix: opt(env, 'TALLYPROOF_QUEUE_PREFIX') ?? undefined,
  };
}
