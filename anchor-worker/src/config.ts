// The standalone worker's configuration (`anchor-worker/src/main.ts`): the shared variables and the chain
// account from ledger/src/config.ts, and the worker's own. Malformed or missing values stop start-up with
// a ConfigError naming the variable (docs/operations.md).
import { ConfigError, loadConfig, opt, type Env } from '../../ledger/src/config.js';

export interface WorkerConfig {
  databaseUrl: string;
  dataDir: string;
  redisUrl: string | null;
  /** Where METRICS_PORT is served. */
  host: string;
  chainRpcUrl: string;
  chainPrivateKey: string;
  contractAddress: string;
  /** CHAIN_CONFIRMATIONS. */
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

const REQUIRED = {
  databaseUrl: 'DATABASE_URL',
  chainRpcUrl: 'CHAIN_RPC_URL',
  chainPrivateKey: 'CHAIN_PRIVATE_KEY',
  contractAddress: 'CONTRACT_ADDRESS',
} as const;

export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const cfg = loadConfig(env);
  const missing = (Object.keys(REQUIRED) as (keyof typeof REQUIRED)[]).filter((k) => cfg[k] === null);
  if (missing.length > 0)
    throw new ConfigError(missing.map((k) => REQUIRED[k]).join(', '), 'required by the standalone anchor worker');
  const reconcileMs = opt(env, 'TALLYPROOF_RECONCILE_MS');
  if (reconcileMs !== null && !/^\d+$/.test(reconcileMs)) {
    throw new ConfigError('TALLYPROOF_RECONCILE_MS', `must be an integer, got "${reconcileMs}"`);
  }
  const metricsPort = opt(env, 'METRICS_PORT');
  if (metricsPort !== null && (!/^\d+$/.test(metricsPort) || Number(metricsPort) > 65535)) {
    throw new ConfigError('METRICS_PORT', `must be a port number, got "${metricsPort}"`);
  }
  return {
    databaseUrl: cfg.databaseUrl!,
    dataDir: cfg.dataDir,
    redisUrl: cfg.redisUrl,
    host: cfg.host,
    chainRpcUrl: cfg.chainRpcUrl!,
    chainPrivateKey: cfg.chainPrivateKey!,
    contractAddress: cfg.contractAddress!,
    confirmations: cfg.chainConfirmations,
    queuePrefix: opt(env, 'TALLYPROOF_QUEUE_PREFIX') ?? undefined,
    reconcileIntervalMs: reconcileMs === null ? undefined : Number(reconcileMs),
    metricsPort: metricsPort === null ? null : Number(metricsPort),
    fault: opt(env, 'TALLYPROOF_FAULT'),
  };
}
