// The worker as its own process: `node --import tsx anchor-worker/src/main.ts` (docker compose runs it
// next to the API replicas). Configuration from the environment (ledger/src/config.ts, plus
// TALLYPROOF_QUEUE_PREFIX, TALLYPROOF_RECONCILE_MS, METRICS_PORT and, for the crash tests, TALLYPROOF_FAULT).
import { ConfigError, loadConfig } from '../../ledger/src/config.js';
import { jsonLineLogger, startAnchorWorker } from './index.js';
import { WorkerMetrics } from './metrics.js';
import { guardConnectionLoss } from '../../ledger/src/db/connection-loss.js';

async function main(): Promise<void> {
  const cfg = loadConfig();
  const missing = (['databaseUrl', 'chainRpcUrl', 'chainPrivateKey', 'contractAddress'] as const).filter((k) => cfg[k] === null);
  if (missing.length > 0) {
    const names = { databaseUrl: 'DATABASE_URL', chainRpcUrl: 'CHAIN_RPC_URL', chainPrivateKey: 'CHAIN_PRIVATE_KEY', contractAddress: 'CONTRACT_ADDRESS' };
    throw new ConfigError(missing.map((k) => names[k]).join(', '), 'required by the standalone anchor worker');
  }
  const reconcileMs = process.env.TALLYPROOF_RECONCILE_MS || undefined;
  if (reconcileMs !== undefined && !/^\d+$/.test(reconcileMs)) throw new ConfigError('TALLYPROOF_RECONCILE_MS', `must be an integer, got "${reconcileMs}"`);
  const metricsPort = process.env.METRICS_PORT || undefined;
  if (metricsPort !== undefined && (!/^\d+$/.test(metricsPort) || Number(metricsPort) > 65535)) throw new ConfigError('METRICS_PORT', `must be a port number, got "${metricsPort}"`);
  const metrics = metricsPort !== undefined ? new WorkerMetrics() : null;
  const worker = await startAnchorWorker({
    databaseUrl: cfg.databaseUrl!,
    dataDir: cfg.dataDir,
    redisUrl: cfg.redisUrl,
    chainRpcUrl: cfg.chainRpcUrl!,
    chainPrivateKey: cfg.chainPrivateKey!,
    contractAddress: cfg.contractAddress!,
    confirmations: cfg.chainConfirmations,
    queuePrefix: process.env.TALLYPROOF_QUEUE_PREFIX || undefined,
    reconcileIntervalMs: reconcileMs ? Number(reconcileMs) : undefined,
    log: jsonLineLogger,
    onEvent: metrics?.onEvent,
  });
  const server = metrics ? await metrics.serve(worker, Number(metricsPort), cfg.host) : null;
  if (server) jsonLineLogger('metrics served', { url: `http://${cfg.host}:${metricsPort}/metrics` });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    jsonLineLogger('stopping', { signal });
    server?.close();
    worker.stop().then(() => process.exit(0), (err) => {
      jsonLineLogger('stop failed', { level: 'error', error: (err as Error).message });
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  guardConnectionLoss(
    (message) => jsonLineLogger(message, { level: 'warn' }),
    (err) => {
      jsonLineLogger('uncaught exception', { level: 'error', error: (err as Error)?.stack ?? String(err) });
      process.exit(1);
    },
  );
}

main().catch((err) => {
  jsonLineLogger('anchor worker failed to start', { level: 'error', error: (err as Error).message });
  process.exit(1);
});
