// The worker as its own process: `node --import tsx anchor-worker/src/main.ts` (docker compose runs it
// next to the API replicas). Configuration from the environment: config.ts.
import { guardConnectionLoss } from '../../ledger/src/db/connection-loss.js';
import { jsonLineLogger } from '../../jobs/src/index.js';
import { loadWorkerConfig } from './config.js';
import { startAnchorWorker } from './index.js';
import { WorkerMetrics } from './metrics.js';

async function main(): Promise<void> {
  const cfg = loadWorkerConfig();
  const metrics = cfg.metricsPort !== null ? new WorkerMetrics() : null;
  const worker = await startAnchorWorker({
    databaseUrl: cfg.databaseUrl,
    shardDatabaseUrls: cfg.shardDatabaseUrls,
    redisUrl: cfg.redisUrl,
    chainRpcUrl: cfg.chainRpcUrl,
    chainPrivateKey: cfg.chainPrivateKey,
    contractAddress: cfg.contractAddress,
    confirmations: cfg.confirmations,
    queuePrefix: cfg.queuePrefix,
    reconcileIntervalMs: cfg.reconcileIntervalMs,
    fault: cfg.fault,
    log: jsonLineLogger,
    onEvent: metrics?.onEvent,
  });
  const server = metrics ? await metrics.serve(worker, cfg.metricsPort!, cfg.host) : null;
  if (server) jsonLineLogger('metrics served', { url: `http://${cfg.host}:${cfg.metricsPort}/metrics` });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    jsonLineLogger('stopping', { signal });
    server?.close();
    worker.stop().then(
      () => process.exit(0),
      (err) => {
        jsonLineLogger('stop failed', { level: 'error', error: (err as Error).message });
        process.exit(1);
      },
    );
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
