// Configuration from the environment, shared by the API, the worker and `npm start`, and the parsing
// helpers each process's own configuration uses (anchor-worker/src/config.ts). Every variable is
// documented in docs/operations.md; a malformed one stops start-up with a message naming it.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TallyproofConfig {
  port: number;
  host: string;
  /** Owner connection (migrations); the app connects as the restricted role derived from it. Unset: embedded PostgreSQL. */
  databaseUrl: string | null;
  /** Redis for BullMQ; unset: BullMQ's PostgreSQL backend on the ledger database. */
  redisUrl: string | null;
  chainRpcUrl: string | null;
  /**
   * The chain's JSON-RPC URL as browsers and voters should reach it (http or https), published as
   * `chainRpcUrl` in `GET /api/v1/elections/{id}`. Unset: null, never CHAIN_RPC_URL (often an internal address).
   */
  publicChainRpcUrl: string | null;
  /**
   * 0x-prefixed 32-byte hex private key of the anchorer account. This and chainConfirmations are the worker's
   * (anchor-worker/src/config.ts reads them from here); `npm start` uses them too.
   */
  chainPrivateKey: string | null;
  contractAddress: string | null;
  adminToken: string | null;
  dataDir: string;
  /** Confirmations to wait for before a chain write counts as done. */
  chainConfirmations: number;
  /** Per-IP rate limit on the ballot route, requests per minute; 0 = off. */
  ballotRateLimit: number;
  /** Per-IP rate limit on the other routes, requests per minute; 0 = off. */
  rateLimit: number;
  logLevel: string;
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
}

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

/** The variable, trimmed; null when unset or blank. */
export function opt(env: Env, name: string): string | null {
  const v = env[name];
  return v === undefined || v.trim() === '' ? null : v.trim();
}

/** An integer in [min, max], `dflt` when unset; else ConfigError naming the variable. */
export function int(env: Env, name: string, dflt: number, min: number, max: number): number {
  const v = opt(env, name);
  if (v === null) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new ConfigError(name, `must be an integer in [${min}, ${max}], got "${v}"`);
  return Number(v);
}

/** A URL with one of `protocols`, null when unset; else ConfigError naming the variable (and `hint`). */
export function url(env: Env, name: string, protocols: string[], hint = ''): string | null {
  const v = opt(env, name);
  if (v === null) return null;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(name, `is not a URL${hint}`);
  }
  if (!protocols.includes(u.protocol)) throw new ConfigError(name, `must use ${protocols.join(' or ')}, got ${u.protocol}${hint}`);
  return v;
}

/**
 * PUBLIC_CHAIN_RPC_URL is sent to every voter's browser: http or https only (the pages read the chain with
 * fetch, which also refuses URLs with credentials), and no user name or password in it.
 */
function publicRpcUrl(env: Env): string | null {
  const name = 'PUBLIC_CHAIN_RPC_URL';
  const v = url(env, name, ['http:', 'https:'], ' (browsers read the chain over HTTP; expected the chain\'s JSON-RPC URL as browsers reach it, e.g. https://rpc.example.org)');
  if (v === null) return null;
  const u = new URL(v);
  if (u.username !== '' || u.password !== '') throw new ConfigError(name, 'must not contain a user name or password: it is published to every voter');
  return v;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function logLevel(env: Env): string {
  const v = opt(env, 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(v)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${v}"`);
  return v;
}

export function loadConfig(env: Env = process.env): TallyproofConfig {
  const chainPrivateKey = opt(env, 'CHAIN_PRIVATE_KEY');
  if (chainPrivateKey !== null && !/^0x[0-9a-fA-F]{64}$/.test(chainPrivateKey)) throw new ConfigError('CHAIN_PRIVATE_KEY', 'must be 0x followed by 64 hex digits');
  const contractAddress = opt(env, 'CONTRACT_ADDRESS');
  if (contractAddress !== null && !/^0x[0-9a-fA-F]{40}$/.test(contractAddress)) throw new ConfigError('CONTRACT_ADDRESS', 'must be 0x followed by 40 hex digits');
  const adminToken = opt(env, 'ADMIN_TOKEN');
  if (adminToken !== null && adminToken.length < 16) throw new ConfigError('ADMIN_TOKEN', 'must be at least 16 characters');
  const host = opt(env, 'HOST') ?? '127.0.0.1';
  return {
    port: int(env, 'PORT', 8080, 0, 65535),
    host,
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    chainRpcUrl: url(env, 'CHAIN_RPC_URL', ['http:', 'https:', 'ws:', 'wss:']),
    publicChainRpcUrl: publicRpcUrl(env),
    chainPrivateKey,
    contractAddress,
    adminToken,
    dataDir: resolve(opt(env, 'TALLYPROOF_DATA_DIR') ?? '.tallyproof'),
    chainConfirmations: int(env, 'CHAIN_CONFIRMATIONS', 1, 1, 64),
    ballotRateLimit: int(env, 'BALLOT_RATE_LIMIT', 0, 0, 1_000_000),
    rateLimit: int(env, 'RATE_LIMIT', 0, 0, 1_000_000),
    logLevel: logLevel(env),
    trustProxy: int(env, 'TRUST_PROXY', 0, 0, 16),
    databasePoolSize: int(env, 'DATABASE_POOL_SIZE', 10, 1, 500),
    verifyThreads: int(env, 'VERIFY_THREADS', 0, 0, 256),
    webDir: resolve(opt(env, 'WEB_DIR') ?? fileURLToPath(new URL('../../web/dist', import.meta.url))),
    shutdownTimeoutSeconds: int(env, 'SHUTDOWN_TIMEOUT_SECONDS', 30, 1, 3600),
  };
}
