// The worker's configuration: the variables it shares with the API (ledger/src/config.ts) and its own —
// the anchorer account, confirmations, the reconcile period, the metrics port, crash injection. The
// standalone process (`anchor-worker/src/main.ts`) requires the chain and the database; `npm start`
// (scripts/config.ts) reads the same settings and fills in what is missing with its local chain.
// Malformed or missing values stop start-up with a ConfigError naming the variable (docs/operations.md).
import { ConfigError, int, loadSharedConfig, opt, type Env } from '../../ledger/src/config.js';

/** The worker's own variables, each optional. */
export interface WorkerSettings {
  /** CHAIN_PRIVATE_KEY: 0x-prefixed 32-byte hex key of the anchorer account. */
  chainPrivateKey: string | null;
  /** CHAIN_CONFIRMATIONS: blocks to wait for before a chain write counts as done. */
  confirmations: number;
  /** TALLYPROOF_QUEUE_PREFIX: the Redis key prefix, undefined for the default. */
  queuePrefix: string | undefined;
  /** TALLYPROOF_RECONCILE_MS, undefined for the default. */
  reconcileIntervalMs: number | undefined;
  /** METRICS_PORT: GET /metrics on host:port; null: not served. */
  metricsPort: number | null;
  /** TALLYPROOF_FAULT: crash injection for the worker's own tests (faults.ts); null: none. */
  fault: string | null;
}

export interface WorkerConfig extends Omit<WorkerSettings, 'chainPrivateKey'> {
  /** DATABASE_URL: the application role's connection (the worker refuses an owner or superuser). */
  databaseUrl: string;
  /** TALLYPROOF_SHARD_DATABASE_URLS: the shard clusters 1..K-1 (ledger/src/config.ts). */
  shardDatabaseUrls: string[];
  redisUrl: string | null;
  /** Where METRICS_PORT is served. */
  host: string;
  chainRpcUrl: string;
  chainPrivateKey: string;
  contractAddress: string;
}

export function loadWorkerSettings(env: Env = process.env): WorkerSettings {
  const chainPrivateKey = opt(env, 'CHAIN_PRIVATE_KEY');
  if (chainPrivateKey !== null && !/^0x[0-9a-fA-F]{64}$/.test(chainPrivateKey)) {
    throw new ConfigError('CHAIN_PRIVATE_KEY', 'must be 0x followed by 64 hex digits');
  }
  const reconcileMs = opt(env, 'TALLYPROOF_RECONCILE_MS');
  if (reconcileMs !== null && !/^\d+$/.test(reconcileMs)) {
    throw new ConfigError('TALLYPROOF_RECONCILE_MS', `must be an integer, got "${reconcileMs}"`);
  }
  const metricsPort = opt(env, 'METRICS_PORT');
  if (metricsPort !== null && (!/^\d+$/.test(metricsPort) || Number(metricsPort) > 65535)) {
    throw new ConfigError('METRICS_PORT', `must be a port number, got "${metricsPort}"`);
  }
  return {
    chainPrivateKey,
    confirmations: int(env, 'CHAIN_CONFIRMATIONS', 1, 1, 64),
    queuePrefix: opt(env, 'TALLYPROOF_QUEUE_PREFIX') ?? undefined,
    reconcileIntervalMs: reconcileMs === null ? undefined : Number(reconcileMs),
    metricsPort: metricsPort === null ? null : Number(metricsPort),
    fault: opt(env, 'TALLYPROOF_FAULT'),
  };
}

const REQUIRED = {
  databaseUrl: 'DATABASE_URL',
  chainRpcUrl: 'CHAIN_RPC_URL',
  chainPrivateKey: 'CHAIN_PRIVATE_KEY',
  contractAddress: 'CONTRACT_ADDRESS',
} as const;

/** The standalone worker's configuration: refuses to start without the chain and the database. */
export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const shared = loadSharedConfig(env);
  const settings = loadWorkerSettings(env);
  const cfg = { ...shared, ...settings };
  const missing = (Object.keys(REQUIRED) as (keyof typeof REQUIRED)[]).filter((k) => cfg[k] === null);
  if (missing.length > 0) {
    throw new ConfigError(missing.map((k) => REQUIRED[k]).join(', '), 'required by the standalone anchor worker');
  }
  return {
    ...settings,
    databaseUrl: cfg.databaseUrl!,
    shardDatabaseUrls: cfg.shardDatabaseUrls,
    redisUrl: cfg.redisUrl,
    host: cfg.host,
    chainRpcUrl: cfg.chainRpcUrl!,
    chainPrivateKey: cfg.chainPrivateKey!,
    contractAddress: cfg.contractAddress!,
  };
}
