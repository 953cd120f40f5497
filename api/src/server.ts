// Process entry of the API: `tsx api/src/server.ts`. Configuration comes from the environment
// (docs/operations.md). Connects to the database as the application role only (DATABASE_URL, after
// `npm run migrate`; else the embedded PostgreSQL under TALLYPROOF_DATA_DIR, migrated first over an owner
// connection that is closed before the API starts), builds the app and listens. SIGTERM/SIGINT: stop accepting
// connections, let in-flight requests finish (every ingesting request is answered after its COMMIT),
// then close the worker threads and database pools.
import { ConfigError } from '../../ledger/src/config.js';
import { loadApiConfig, type ApiConfig } from './config.js';
import { resolveDatabase } from '../../ledger/src/db/resolve.js';
import { openAppDatabase } from '../../ledger/src/db/connect.js';
import { migrateForLocalRun } from '../../scripts/database.js';
import { loadLedgerKey } from '../../ledger/src/ledger-key.js';
import { createAnchorRequests } from '../../jobs/src/index.js';
import { buildApp } from './app.js';
import { probeChainId, withTimeout, type ChainInfo, type DependencyProbe, type UpDown } from './dependencies.js';
import { guardConnectionLoss } from '../../ledger/src/db/connection-loss.js';

function fail(message: string): never {
  process.stderr.write(`tallyproof api: ${message}\n`);
  process.exit(2);
}

let config: ApiConfig;
try {
  config = loadApiConfig();
} catch (err) {
  if (err instanceof ConfigError) fail(`configuration error: ${err.message} (see docs/operations.md, "Configuration")`);
  throw err;
}

/** Redis answers PING (the BullMQ backend when REDIS_URL is set). */
async function pingRedis(url: string): Promise<UpDown> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1500,
    enableOfflineQueue: false,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG' ? 'up' : 'down';
  } catch {
    return 'down';
  } finally {
    client.disconnect();
  }
}

const started = Date.now();
const db = await resolveDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }).catch((err: Error) =>
  fail(`cannot start the embedded PostgreSQL: ${err.message}`),
);
// Embedded: this process is the operator of its own server, so it migrates first; with DATABASE_URL the
// migrations are `npm run migrate`'s, and DATABASE_URL must be the application role's.
const appUrl = db.embedded
  ? await migrateForLocalRun(db.url, config.dataDir).then(
      (r) => r.appUrl,
      (err: Error) => fail(`cannot migrate the embedded database: ${err.message}`),
    )
  : db.url;
const ledger = await openAppDatabase({
  url: appUrl,
  max: config.databasePoolSize,
  applicationName: 'tallyproof-api',
}).catch((err: Error) =>
  fail(`cannot open the ledger database${config.databaseUrl ? ' at DATABASE_URL' : ''}: ${err.message}`),
);
// The shard clusters (TALLYPROOF_SHARD_DATABASE_URLS): reachable at start, as the application role; once
// running, a cluster that goes down fails only the ballots of its shards (503 with Retry-After).
const shardDatabases = await Promise.all(
  config.shardDatabaseUrls.map((url, i) =>
    openAppDatabase({ url, max: config.databasePoolSize, applicationName: `tallyproof-api-cluster-${i + 1}` }).catch(
      (err: Error) => fail(`cannot open shard cluster ${i + 1} (TALLYPROOF_SHARD_DATABASE_URLS): ${err.message}`),
    ),
  ),
);
const ledgerKey = (() => {
  try {
    return loadLedgerKey(config.dataDir);
  } catch (err) {
    return fail(`ledger key: ${(err as Error).message}`);
  }
})();

// Chain id: asked of the RPC endpoint, again in the background while it is unreachable. Elections show
// PUBLIC_CHAIN_RPC_URL to voters, never CHAIN_RPC_URL (an internal address in most deployments).
const chain: ChainInfo = { chainId: null, contract: config.contractAddress, publicRpcUrl: config.publicChainRpcUrl };
if (config.chainRpcUrl) {
  const rpcUrl = config.chainRpcUrl;
  const learn = async () => {
    chain.chainId = await probeChainId(rpcUrl);
    if (chain.chainId === null) setTimeout(() => void learn(), 5000).unref();
  };
  await learn();
}

// The anchor worker's queue (jobs/: BullMQ on Redis with REDIS_URL, else on the ledger database): the API
// only enqueues registration and close requests; the worker process does the chain work.
const anchorRequests = await createAnchorRequests({
  sql: ledger.sql,
  databaseUrl: appUrl,
  redisUrl: config.redisUrl,
  queuePrefix: config.queuePrefix,
}).catch((err: Error) => fail(`cannot open the anchor queue${config.redisUrl ? ' at REDIS_URL' : ''}: ${err.message}`));

/** Chain and queue state, probed at most every 2 s (health checks from the proxy, compose and Prometheus add up). */
let lastProbe: { at: number; value: Promise<{ chain: UpDown; queue: UpDown }> } | null = null;
const dependencies: DependencyProbe = () => {
  if (lastProbe && Date.now() - lastProbe.at < 2000) return lastProbe.value;
  lastProbe = { at: Date.now(), value: probeDependencies() };
  return lastProbe.value;
};
async function probeDependencies(): Promise<{ chain: UpDown; queue: UpDown }> {
  const chainState: Promise<UpDown> = config.chainRpcUrl
    ? probeChainId(config.chainRpcUrl, 1500).then((id) => (id === null ? 'down' : 'up'))
    : Promise.resolve('unknown');
  // Without REDIS_URL the queue lives in the ledger database, whose health is reported on its own.
  const queueState: Promise<UpDown> = config.redisUrl ? pingRedis(config.redisUrl) : Promise.resolve('up');
  const [c, q] = await Promise.all([chainState, queueState]);
  return { chain: c, queue: q };
}

const app = await buildApp({
  sql: ledger.sql,
  shardDatabases: shardDatabases.map((d) => d.sql),
  ledgerKey,
  adminToken: config.adminToken,
  verifyThreads: config.verifyThreads,
  chain: () => chain,
  anchorRequests,
  dependencies,
  rateLimits: config.rateLimits,
  trustProxy: config.trustProxy,
  webDir: config.webDir,
  poolSize: config.databasePoolSize,
  timeouts: config.timeouts,
  resultsStreams: config.resultsStreams,
  logger: { level: config.logLevel },
});

try {
  await app.listen({ port: config.port, host: config.host });
} catch (err) {
  fail(`cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`);
}
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : config.port;
process.stdout.write(
  `tallyproof-api listening on http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port} ` +
    `(database: ${db.embedded ? 'embedded' : 'DATABASE_URL'}, ledger key ${ledgerKey.publicKeyHex}, ` +
    `chain: ${config.chainRpcUrl ? `chain id ${chain.chainId ?? 'unreachable'}` : 'not configured'}, anchor queue: ${config.redisUrl ? 'Redis' : 'PostgreSQL'}, ` +
    `admin: ${config.adminToken ? 'on' : 'off'}, docs: /docs, started in ${Date.now() - started} ms)\n`,
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  app.log.info({ signal }, 'shutting down: draining in-flight requests');
  const deadline = setTimeout(() => {
    process.stderr.write(`tallyproof api: shutdown took over ${config.shutdownTimeoutSeconds} s, exiting\n`);
    process.exit(1);
  }, config.shutdownTimeoutSeconds * 1000);
  deadline.unref();
  try {
    await app.close();
    await withTimeout(anchorRequests.close(), 5000, () => undefined);
    await ledger.close();
    for (const d of shardDatabases) await d.close();
    await db.stop();
    process.exit(0);
  } catch (err) {
    process.stderr.write(`tallyproof api: error during shutdown: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
// This shutdown stops the embedded database itself, after the drain (ledger/src/db/embedded.ts runs the
// binaries itself and installs no exit handler of its own).
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGHUP', () => void shutdown('SIGHUP'));
guardConnectionLoss(
  (message) => app.log.warn(message),
  (err) => {
    app.log.fatal({ err }, 'uncaught exception');
    process.exit(1);
  },
);
