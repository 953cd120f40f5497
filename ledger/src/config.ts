// Configuration from the environment: the parsers every process's own configuration uses
// (api/src/config.ts, anchor-worker/src/config.ts, scripts/config.ts) and the variables the API and the
// worker share. Every variable is documented in docs/operations.md; a malformed one stops start-up with a
// message naming it.
import { resolve } from 'node:path';
import { isMultiHost, singleHostUrl } from './db/url.js';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
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
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
    throw new ConfigError(name, `must be an integer in [${min}, ${max}], got "${v}"`);
  return Number(v);
}

/** A URL with one of `protocols`, null when unset; else ConfigError naming the variable (and `hint`). */
export function url(env: Env, name: string, protocols: string[], hint = ''): string | null {
  const v = opt(env, name);
  if (v === null) return null;
  let u: URL;
  try {
    u = new URL(singleHostUrl(v)); // a postgres: URL may name several hosts (ledger/src/db/url.ts)
  } catch {
    throw new ConfigError(name, `is not a URL${hint}`);
  }
  if (!protocols.includes(u.protocol))
    throw new ConfigError(name, `must use ${protocols.join(' or ')}, got ${u.protocol}${hint}`);
  return v;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function logLevel(env: Env): string {
  const v = opt(env, 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(v))
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${v}"`);
  return v;
}

/** What the API and the anchor worker both read. */
export interface SharedConfig {
  /**
   * DATABASE_URL: the application role's connection (`npm run migrate` applies the migrations beforehand,
   * as the owner, with DATABASE_OWNER_URL). Unset: the embedded PostgreSQL, migrated in-process.
   */
  databaseUrl: string | null;
  /**
   * TALLYPROOF_SHARD_DATABASE_URLS: the application role's connections to clusters 1..K-1, comma-separated,
   * over which sharded elections' shards are spread (shard s on cluster s mod K, cluster 0 being
   * DATABASE_URL; docs/operations.md, "Shards on several clusters"). Empty: one cluster.
   */
  shardDatabaseUrls: string[];
  /** Redis for BullMQ (jobs/); unset: BullMQ's PostgreSQL backend on the ledger database. */
  redisUrl: string | null;
  /** Where the ledger key, the app role's password and the embedded PostgreSQL live. */
  dataDir: string;
  /** Address the process listens on (the API; the worker's METRICS_PORT). */
  host: string;
  /** The chain node's JSON-RPC URL, as this process reaches it. */
  chainRpcUrl: string | null;
  /** The TallyAnchor contract (0x + 40 hex). */
  contractAddress: string | null;
  logLevel: string;
}

export function loadSharedConfig(env: Env = process.env): SharedConfig {
  const contractAddress = opt(env, 'CONTRACT_ADDRESS');
  if (contractAddress !== null && !/^0x[0-9a-fA-F]{40}$/.test(contractAddress)) {
    throw new ConfigError('CONTRACT_ADDRESS', 'must be 0x followed by 40 hex digits');
  }
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const redisUrl = url(env, 'REDIS_URL', ['redis:', 'rediss:']);
  // The queue's PostgreSQL backend (node-postgres inside BullMQ) reaches one host: it cannot follow a failover.
  if (databaseUrl !== null && redisUrl === null && isMultiHost(databaseUrl))
    throw new ConfigError('DATABASE_URL', 'names several hosts (a replicated cluster): set REDIS_URL for the queue');
  const shardDatabaseUrls = (opt(env, 'TALLYPROOF_SHARD_DATABASE_URLS') ?? '').split(/[\s,]+/).filter((u) => u !== '');
  shardDatabaseUrls.forEach((u, i) => {
    if (!/^postgres(ql)?:\/\//.test(u))
      throw new ConfigError('TALLYPROOF_SHARD_DATABASE_URLS', `entry ${i + 1} is not a postgres:// URL`);
  });
  if (shardDatabaseUrls.length > 0 && databaseUrl === null)
    throw new ConfigError('TALLYPROOF_SHARD_DATABASE_URLS', 'needs DATABASE_URL (the home cluster) too');
  return {
    databaseUrl,
    shardDatabaseUrls,
    redisUrl,
    dataDir: resolve(opt(env, 'TALLYPROOF_DATA_DIR') ?? '.tallyproof'),
    host: opt(env, 'HOST') ?? '127.0.0.1',
    chainRpcUrl: url(env, 'CHAIN_RPC_URL', ['http:', 'https:', 'ws:', 'wss:']),
    contractAddress,
    logLevel: logLevel(env),
  };
}
