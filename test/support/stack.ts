// The whole system for end-to-end tests, in this process: a fresh ledger database, anvil with TallyAnchor
// deployed, the anchor worker, and the API listening on 127.0.0.1.
//
//   const stack = await startStack();
//   await fetch(`${stack.apiUrl}/api/v1/elections`, { method: 'POST', headers: { authorization: `Bearer ${stack.adminToken}`, … } });
//   …
//   await stack.stop();
//
// Accounts: anvil's account 0 deploys and owns the contract, account 1 is the worker's (allow-listed)
// anchorer. The queue is BullMQ's PostgreSQL backend inside the test database (isolated per stack), or
// Redis with `redisUrl` (then a unique key prefix).
import { randomBytes } from 'node:crypto';
import { Wallet } from 'ethers';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase, type TestDatabase } from './db.js';
import { anvilProvider, startAnvil, type AnvilNode, type AnvilOptions } from './anvil.js';
import { deployTallyAnchor } from '../../contracts/index.js';
import { ledgerKeyFromSeed, type LedgerKey } from '../../ledger/src/ledger-key.js';
import { startAnchorWorker, type AnchorWorker, type Logger } from '../../anchor-worker/src/index.js';
import { buildApp, type AppOptions } from '../../api/src/app.js';

export interface StackOptions {
  /** Run the anchor worker (default true); without it, registration and close requests are recorded nowhere. */
  worker?: boolean;
  /** Reuse a database (e.g. to restart the API on the same ledger); default: a fresh one, dropped on stop. */
  db?: TestDatabase;
  /** The ledger key's seed (32 bytes); default: fixed, so receipts are reproducible. */
  ledgerKeySeed?: Uint8Array;
  adminToken?: string;
  /** anvil options (block time, state file…). */
  anvil?: AnvilOptions;
  /** Redis for the worker's queues instead of the PostgreSQL backend. */
  redisUrl?: string | null;
  /** The worker's reconcile period, default 2 s (a test should not wait 15 s for a lost job). */
  reconcileIntervalMs?: number;
  /** Worker log lines; default: dropped. */
  log?: Logger;
  /** Extra options for buildApp (rate limits, webDir, …). */
  app?: Partial<AppOptions>;
  /** Shard clusters 1..K-1 (ledger/src/db/clusters.ts) for the API and the worker; the caller drops them. */
  shardDatabases?: TestDatabase[];
}

export interface Stack {
  apiUrl: string;
  rpcUrl: string;
  contractAddress: string;
  chainId: number;
  adminToken: string;
  db: TestDatabase;
  ledgerKey: LedgerKey;
  /** The allow-listed anchorer account the worker uses. */
  anchorerPrivateKey: string;
  chain: AnvilNode;
  app: FastifyInstance;
  worker: AnchorWorker | null;
  stop(): Promise<void>;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const ownDb = !opts.db;
  const db = opts.db ?? (await createTestDatabase());
  const stopping: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stopping.reverse()) await s().catch(() => {});
    stopping.length = 0;
  };
  try {
    if (ownDb) stopping.push(() => db.drop());
    const chain = await startAnvil(opts.anvil);
    stopping.push(() => chain.stop());
    const provider = anvilProvider(chain);
    const owner = new Wallet(chain.accounts[0]!.privateKey, provider);
    const anchorer = chain.accounts[1]!;
    const deployment = await deployTallyAnchor(owner, { anchorers: [anchorer.address] });
    provider.destroy();

    const adminToken = opts.adminToken ?? `stack-admin-${randomBytes(12).toString('hex')}`;
    const ledgerKey = ledgerKeyFromSeed(opts.ledgerKeySeed ?? Buffer.alloc(32, 5));
    let worker: AnchorWorker | null = null;
    if (opts.worker !== false) {
      worker = await startAnchorWorker({
        databaseUrl: db.appUrl,
        shardDatabaseUrls: (opts.shardDatabases ?? []).map((d) => d.appUrl),
        redisUrl: opts.redisUrl ?? null,
        queuePrefix: opts.redisUrl ? `tp-stack-${randomBytes(4).toString('hex')}` : undefined,
        chainRpcUrl: chain.rpcUrl,
        chainPrivateKey: anchorer.privateKey,
        contractAddress: deployment.address,
        confirmations: 1,
        reconcileIntervalMs: opts.reconcileIntervalMs ?? 2000,
        log: opts.log ?? (() => {}),
      });
      stopping.push(() => worker!.stop());
    }
    const w = worker;
    const app = await buildApp({
      sql: db.app,
      shardDatabases: (opts.shardDatabases ?? []).map((d) => d.app),
      ledgerKey,
      adminToken,
      verifyThreads: 1,
      rollCheckThreads: 1,
      processMetrics: false,
      chain: { chainId: chain.chainId, contract: deployment.address, publicRpcUrl: chain.rpcUrl },
      anchorRequests: w?.requests ?? null,
      dependencies: w
        ? async () => {
            const s = await w.status();
            return { chain: s.chain, queue: s.queue };
          }
        : null,
      ...opts.app,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    stopping.push(() => app.close());
    const address = app.server.address();
    const apiUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    return {
      apiUrl,
      rpcUrl: chain.rpcUrl,
      contractAddress: deployment.address,
      chainId: chain.chainId,
      adminToken,
      db,
      ledgerKey,
      anchorerPrivateKey: anchorer.privateKey,
      chain,
      app,
      worker,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
