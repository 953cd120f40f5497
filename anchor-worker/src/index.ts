// The anchor worker (anchor-worker/README.md), composed: BullMQ job schedulers seal each open election's
// ballots every windowSeconds, chain jobs register, anchor and close on TallyAnchor (anchorer.ts, one
// file per step under steps/), and a reconcile pass over the database (reconcile-pass.ts, on start and
// every reconcileIntervalMs) redoes any step whose job was lost. Queues and job shapes: jobs/.
import { UnrecoverableError, type Job } from 'bullmq';
import { openAppDatabase } from '../../ledger/src/db/connect.js';
import { LedgerClusters } from '../../ledger/src/db/clusters.js';
import {
  AnchorQueues,
  CHAIN_QUEUE,
  SEAL_QUEUE,
  anchorRequestsOver,
  jsonLineLogger,
  withTimeout,
  type AnchorRequests,
  type ChainJobData,
  type Logger,
  type SealJobData,
} from '../../jobs/src/index.js';
import { Anchorer, type AnchorEvent } from './anchorer.js';
import type { ChainClient } from './chain.js';
import { EthersChainClient } from './ethers-chain.js';
import { AnchorDivergenceError, errorMessage } from './errors.js';
import { Faults } from './faults.js';
import { ReconcilePass } from './reconcile-pass.js';
import { StepRunner } from './runner.js';

export { Anchorer, planWindows, type AnchorEvent, type WindowPlan, type Logger } from './anchorer.js';
export { WorkerMetrics } from './metrics.js';
export {
  DelegatingChainClient,
  type ChainClient,
  type ChainEvent,
  type ConfirmedTx,
  type ElectionOnChain,
  type SentTx,
  type WindowOnChain,
  type WindowToAnchor,
} from './chain.js';
export { EthersChainClient, type EthersChainOptions } from './ethers-chain.js';
export { AnchorDivergenceError, AnchorerBusyError, ChainRevertError, ChainUnavailableError } from './errors.js';
export { FAULT_POINTS, Faults, type FaultPoint } from './faults.js';
export { loadWorkerConfig, type WorkerConfig } from './config.js';

export interface AnchorWorkerStatus {
  chain: 'up' | 'down';
  queue: 'up' | 'down';
  /** Age of the oldest ballot not yet in an anchored window (0 when none). Healthy: at most windowSeconds + a few. */
  anchorLagSeconds: number;
  /** Windows sealed but not yet anchored. */
  pendingWindows: number;
}

export interface AnchorWorker {
  /** Requests over this worker's own connections (`npm start` hands them to its API). */
  requests: AnchorRequests;
  status(): Promise<AnchorWorkerStatus>;
  /** Stop taking jobs, let the running chain step finish (bounded), close connections. */
  stop(): Promise<void>;
}

export interface AnchorWorkerOptions {
  /** The application role's connection to the ledger database (migrated beforehand: `npm run migrate`). */
  databaseUrl: string;
  /** The shard clusters 1..K-1 (TALLYPROOF_SHARD_DATABASE_URLS), application role; default none. */
  shardDatabaseUrls?: readonly string[];
  /** Redis for BullMQ; unset or null: BullMQ's PostgreSQL backend in schema tallyproof_queue. */
  redisUrl?: string | null;
  chainRpcUrl: string;
  /** 0x-prefixed key of the anchorer account (allow-listed on the contract, used by nothing else). */
  chainPrivateKey: string;
  contractAddress: string;
  /** Blocks a chain write waits for before it is recorded (CHAIN_CONFIRMATIONS), default 1. */
  confirmations?: number;
  log?: Logger;
  // Tuning and tests; defaults suit production.
  /** Redis key prefix, default "tallyproof" (TALLYPROOF_QUEUE_PREFIX). */
  queuePrefix?: string;
  /** Period of the reconcile pass, default 15 s (TALLYPROOF_RECONCILE_MS). */
  reconcileIntervalMs?: number;
  /** Wrap the chain client, e.g. to inject faults. */
  wrapChain?: (chain: ChainClient) => ChainClient;
  /** Crash injection spec (faults.ts; main.ts passes TALLYPROOF_FAULT); default none. */
  fault?: string | null;
  /** How long a chain write may stay unconfirmed before the step is retried, default 120 s. */
  txTimeoutMs?: number;
  /** Every seal, registration, anchor, close and halt, as it happens (metrics, benchmarks). */
  onEvent?: (event: AnchorEvent) => void;
}

export async function startAnchorWorker(opts: AnchorWorkerOptions): Promise<AnchorWorker> {
  const log = opts.log ?? jsonLineLogger;
  const faults = new Faults(opts.fault);
  const reconcileIntervalMs = opts.reconcileIntervalMs ?? 15_000;

  const db = await openAppDatabase({ url: opts.databaseUrl, max: 8, applicationName: 'tallyproof-worker' });
  const shardDbs: Awaited<ReturnType<typeof openAppDatabase>>[] = [];
  try {
    for (const [i, url] of (opts.shardDatabaseUrls ?? []).entries())
      shardDbs.push(await openAppDatabase({ url, max: 4, applicationName: `tallyproof-worker-cluster-${i + 1}` }));
  } catch (err) {
    for (const d of shardDbs) await d.close();
    await db.close();
    throw err;
  }
  const clusters = new LedgerClusters(
    db.sql,
    shardDbs.map((d) => d.sql),
  );
  let chain: ChainClient = new EthersChainClient({
    rpcUrl: opts.chainRpcUrl,
    privateKey: opts.chainPrivateKey,
    contractAddress: opts.contractAddress,
    txTimeoutMs: opts.txTimeoutMs,
  });
  if (opts.wrapChain) chain = opts.wrapChain(chain);
  let queues: AnchorQueues;
  try {
    queues = await AnchorQueues.open({
      databaseUrl: opts.databaseUrl,
      redisUrl: opts.redisUrl,
      prefix: opts.queuePrefix,
      onError: (err, source) => log('queue backend error', { level: 'warn', source, error: err.message }),
    });
  } catch (err) {
    for (const d of shardDbs) await d.close();
    await db.close();
    throw err;
  }
  const anchorer = new Anchorer({
    sql: db.sql,
    clusters,
    chain,
    confirmations: opts.confirmations ?? 1,
    faults,
    log,
    onEvent: opts.onEvent,
  });
  const runner = new StepRunner(db.sql, anchorer, queues, log);
  const reconcile = new ReconcilePass(clusters, anchorer, queues, runner, log);

  queues.createWorker<SealJobData>(
    SEAL_QUEUE,
    async (job: Job<SealJobData>) => {
      const { electionId } = job.data;
      await anchorer.seal(electionId);
      // Anchor up to the newest sealed window, whether sealed now or left over: the job id dedupes.
      const last = await anchorer.lastUnanchoredWindow(electionId);
      if (last !== null && !anchorer.halted.has(electionId))
        await queues.addChainJob({ kind: 'anchor', electionId, windowIndex: last });
    },
    2,
  );

  queues.createWorker<ChainJobData>(
    CHAIN_QUEUE,
    async (job: Job<ChainJobData>) => {
      try {
        await runner.run(job.data);
      } catch (err) {
        if (err instanceof AnchorDivergenceError) throw new UnrecoverableError(err.message);
        runner.noteFailure(err, { electionId: job.data.electionId, job: job.data.kind, attempt: job.attemptsMade + 1 });
        throw err;
      }
    },
    1,
  );

  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  const loop = () => {
    running = reconcile
      .run()
      .catch((err) => log('reconcile pass failed', { level: 'warn', error: errorMessage(err) }))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, reconcileIntervalMs);
      });
  };
  loop();

  const requests = anchorRequestsOver(db.sql, queues, log);
  let lastBacklog = { pendingWindows: 0, anchorLagSeconds: 0 };
  log('anchor worker started', {
    backend: queues.backend,
    account: chain.account,
    contract: chain.contractAddress,
    reconcileIntervalMs,
    faults: faults.armed,
  });

  return {
    requests,
    async status() {
      // Never rejects: the database has its own health check; while it is down the last figures stand.
      const [chainUp, queueUp] = await Promise.all([
        chain.ping(1500),
        queues.ping(1500),
        anchorer.backlog().then(
          (b) => (lastBacklog = b),
          () => undefined,
        ),
      ]);
      return { chain: chainUp ? 'up' : 'down', queue: queueUp ? 'up' : 'down', ...lastBacklog };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      // Stop taking jobs (active ones get a grace period, then stall and go to the next worker), then let
      // the running chain step finish, bounded: a killed step is safe anyway, this only saves a repeat.
      await queues.close();
      await withTimeout(
        Promise.all([running, anchorer.idle()]).then(() => undefined),
        5000,
        () => undefined,
      );
      await chain.close();
      for (const d of shardDbs) await d.close();
      await db.close();
      log('anchor worker stopped');
    },
  };
}
