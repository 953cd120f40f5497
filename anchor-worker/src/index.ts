// The anchor worker (anchor-worker/README.md): BullMQ job schedulers seal each open election's ballots
// every windowSeconds, chain jobs register, anchor and close on TallyAnchor, and a reconcile pass over
// the database (on start and every reconcileIntervalMs) redoes any step whose job was lost.
import postgres from 'postgres';
import { UnrecoverableError, type Job } from 'bullmq';
import { openLedgerDatabase } from '../../ledger/src/db/connect.js';
import { Anchorer, type AnchorEvent, type Logger } from './anchorer.js';
import { EthersChainClient, type ChainClient } from './chain.js';
import { AnchorDivergenceError, AnchorerBusyError, ChainUnavailableError, errorMessage } from './errors.js';
import { Faults } from './faults.js';
import { AnchorQueues, CHAIN_QUEUE, SEAL_QUEUE, type ChainJobData, type SealJobData } from './queue.js';
import { anchorRequestsOver, type AnchorRequests } from './requests.js';

export type { AnchorRequests } from './requests.js';
export { Anchorer, planWindows, type AnchorEvent, type WindowPlan, type Logger } from './anchorer.js';
export { WorkerMetrics } from './metrics.js';
export { DelegatingChainClient, EthersChainClient, type ChainClient, type ChainEvent, type ConfirmedTx, type ElectionOnChain, type SentTx, type WindowOnChain, type WindowToAnchor } from './chain.js';
export { AnchorDivergenceError, AnchorerBusyError, ChainRevertError, ChainUnavailableError } from './errors.js';
export { FAULT_POINTS, Faults, type FaultPoint } from './faults.js';
export { QUEUE_SCHEMA, SEAL_QUEUE, CHAIN_QUEUE } from './queue.js';

export interface AnchorWorkerStatus {
  chain: 'up' | 'down';
  queue: 'up' | 'down';
  /** Age of the oldest ballot not yet in an anchored window (0 when none). Healthy: at most windowSeconds + a few. */
  anchorLagSeconds: number;
  /** Windows sealed but not yet anchored. */
  pendingWindows: number;
}

export interface AnchorWorker {
  requests: AnchorRequests;
  status(): Promise<AnchorWorkerStatus>;
  /** Stop taking jobs, let the running chain step finish (bounded), close connections. */
  stop(): Promise<void>;
}

export interface AnchorWorkerOptions {
  /** Owner connection of the ledger database (migrations, the queue schema); ledger writes use the app role. */
  databaseUrl: string;
  /** Where the app role's password lives when TALLYPROOF_APP_DB_PASSWORD is unset. */
  dataDir: string;
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
  /** Crash injection spec; default TALLYPROOF_FAULT (see faults.ts). */
  fault?: string | null;
  /** How long a chain write may stay unconfirmed before the step is retried, default 120 s. */
  txTimeoutMs?: number;
  /** Every seal, registration, anchor, close and halt, as it happens (metrics, benchmarks). */
  onEvent?: (event: AnchorEvent) => void;
}

/** JSON lines on stdout: {"time","level","msg",...fields}. */
export const jsonLineLogger: Logger = (msg, fields = {}) => {
  const { level = 'info', ...rest } = fields as { level?: string };
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...rest }) + '\n');
};

export async function startAnchorWorker(opts: AnchorWorkerOptions): Promise<AnchorWorker> {
  const log = opts.log ?? jsonLineLogger;
  const faults = new Faults(opts.fault !== undefined ? opts.fault : process.env.TALLYPROOF_FAULT);
  const reconcileIntervalMs = opts.reconcileIntervalMs ?? 15_000;

  const db = await openLedgerDatabase({ url: opts.databaseUrl, dataDir: opts.dataDir, max: 8 });
  let chain: ChainClient = new EthersChainClient({ rpcUrl: opts.chainRpcUrl, privateKey: opts.chainPrivateKey, contractAddress: opts.contractAddress, txTimeoutMs: opts.txTimeoutMs });
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
    await db.close();
    throw err;
  }
  const anchorer = new Anchorer({ sql: db.app, chain, confirmations: opts.confirmations ?? 1, faults, log, onEvent: opts.onEvent });

  // Chain outages fail every step; log the transitions, not every failure.
  let chainDownSince: number | null = null;
  const noteFailure = (err: unknown, fields: object) => {
    if (err instanceof ChainUnavailableError) {
      if (chainDownSince === null) {
        chainDownSince = Date.now();
        log('chain unavailable, anchors wait (sealing goes on)', { level: 'warn', ...fields, error: errorMessage(err) });
      }
    } else if (err instanceof AnchorerBusyError) {
      log('another worker is anchoring, leaving it the step', { level: 'warn', ...fields, error: errorMessage(err) });
    } else if (!(err instanceof AnchorDivergenceError)) {
      log('step failed, will retry', { level: 'warn', ...fields, error: errorMessage(err) });
    }
  };
  const noteSuccess = () => {
    if (chainDownSince !== null) {
      log('chain reachable again', { downSeconds: (Date.now() - chainDownSince) / 1000 });
      chainDownSince = null;
    }
  };

  // Seal schedulers: one per election that may still receive ballots (roll frozen, not closed on chain).
  const scheduled = new Set<string>();
  const ensureScheduler = async (electionId: string, windowSeconds: number) => {
    if (scheduled.has(electionId)) return;
    await queues.upsertSealScheduler(electionId, windowSeconds);
    scheduled.add(electionId);
    log('seal scheduler running', { electionId, windowSeconds });
  };
  const dropScheduler = async (electionId: string) => {
    await queues.removeSealScheduler(electionId);
    scheduled.delete(electionId);
  };

  const runChainStep = async (data: ChainJobData): Promise<void> => {
    const { electionId } = data;
    switch (data.kind) {
      case 'register': {
        if (await anchorer.register(electionId)) {
          const [e] = await db.app`SELECT window_seconds, close_tx FROM elections WHERE election_id = ${electionId}`;
          if (e && e.close_tx === null) await ensureScheduler(electionId, Number(e.window_seconds));
        }
        break;
      }
      case 'anchor':
        await anchorer.anchorPending(electionId);
        break;
      case 'close':
        await anchorer.close(electionId);
        await dropScheduler(electionId);
        break;
    }
    noteSuccess();
  };

  queues.createWorker<SealJobData>(SEAL_QUEUE, async (job: Job<SealJobData>) => {
    const { electionId } = job.data;
    await anchorer.seal(electionId);
    // Anchor up to the newest sealed window, whether sealed now or left over: the job id dedupes.
    const last = await anchorer.lastUnanchoredWindow(electionId);
    if (last !== null && !anchorer.halted.has(electionId)) await queues.addChainJob({ kind: 'anchor', electionId, windowIndex: last });
  }, 2);

  queues.createWorker<ChainJobData>(CHAIN_QUEUE, async (job: Job<ChainJobData>) => {
    try {
      await runChainStep(job.data);
    } catch (err) {
      if (err instanceof AnchorDivergenceError) throw new UnrecoverableError(err.message);
      noteFailure(err, { electionId: job.data.electionId, job: job.data.kind, attempt: job.attemptsMade + 1 });
      throw err;
    }
  }, 1);

  // The reconcile pass: the database says what is left to do; do it, whatever happened to the jobs.
  // That includes sealing: ballots waiting for more than two windows mean the ticks are not coming
  // (queue down, scheduler lost), and the pass seals them itself.
  let schedulersChecked = false;
  const reconcile = async () => {
    const open = await db.app`
      SELECT e.election_id, e.window_seconds, e.registration_tx IS NOT NULL AS registered, e.close_requested_at IS NOT NULL AS close_requested,
             -- Windows are anchored in order: some window is unanchored exactly when the newest one is.
             coalesce((SELECT w.anchor_tx IS NULL FROM windows w WHERE w.election_id = e.election_id ORDER BY w.window_index DESC LIMIT 1), false) AS unanchored,
             EXISTS (SELECT 1 FROM ballots b WHERE b.election_id = e.election_id AND b.seq = h.sealed_through
                     AND b.received_at < clock_timestamp() - make_interval(secs => 2 * e.window_seconds)) AS overdue
      FROM elections e JOIN election_heads h USING (election_id)
      WHERE e.roll_root IS NOT NULL AND e.close_tx IS NULL ORDER BY e.election_id`;
    try {
      if (!schedulersChecked) {
        // Schedulers of elections closed meanwhile (a crash between close and removal) go away.
        const wanted = new Set(open.map((r) => r.election_id as string));
        for (const id of await queues.sealSchedulers()) if (!wanted.has(id)) await dropScheduler(id);
        schedulersChecked = true;
      }
      for (const r of open) await ensureScheduler(r.election_id as string, Number(r.window_seconds));
    } catch (err) {
      // The queue is down: chain steps and overdue seals below go on without it.
      log('reconcile: seal schedulers not checked', { level: 'warn', error: errorMessage(err) });
    }
    for (const r of open) {
      const electionId = r.election_id as string;
      let unanchored = Boolean(r.unanchored);
      if (r.overdue && !r.close_requested) {
        try {
          if (await anchorer.seal(electionId)) {
            log('sealed by the reconcile pass: no seal tick for two windows', { level: 'warn', electionId });
            unanchored = true;
          }
        } catch (err) {
          log('reconcile: seal failed', { level: 'warn', electionId, error: errorMessage(err) });
        }
      }
      if (anchorer.halted.has(electionId)) {
        log(`election halted: ${anchorer.halted.get(electionId)!.message}`, { level: 'error', electionId });
        continue;
      }
      // 'anchor' registers first when needed (the contract takes no window of an unregistered election).
      const kind = r.close_requested ? 'close' : !r.registered || unanchored ? 'anchor' : null;
      if (kind === null) continue;
      try {
        await runChainStep({ kind, electionId });
      } catch (err) {
        noteFailure(err, { electionId, step: kind, via: 'reconcile' });
      }
    }
  };

  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  const loop = () => {
    running = reconcile()
      .catch((err) => log('reconcile pass failed', { level: 'warn', error: errorMessage(err) }))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, reconcileIntervalMs);
      });
  };
  loop();

  const requests = anchorRequestsOver(db.app, queues, log);
  let lastBacklog = { pendingWindows: 0, anchorLagSeconds: 0 };
  log('anchor worker started', { backend: queues.backend, account: chain.account, contract: chain.contractAddress, reconcileIntervalMs, faults: faults.armed });

  return {
    requests,
    async status() {
      // Never rejects: the database has its own health check; while it is down the last figures stand.
      const [chainUp, queueUp] = await Promise.all([
        chain.ping(1500),
        queues.ping(1500),
        anchorer.backlog().then((b) => (lastBacklog = b), () => undefined),
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
      await Promise.race([Promise.all([running, anchorer.idle()]), new Promise((r) => setTimeout(r, 5000))]);
      await chain.close();
      await db.close();
      log('anchor worker stopped');
    },
  };
}

/** AnchorRequests for a process that does not run the worker (the API): the ledger plus a queue producer. */
export async function createAnchorRequests(opts: { databaseUrl: string; redisUrl?: string | null; queuePrefix?: string; log?: Logger }): Promise<AnchorRequests> {
  const log = opts.log ?? jsonLineLogger;
  // The owner connection: this process may not know the app role's password (no dataDir); the ledger's
  // triggers still guard every column it touches.
  const sql = postgres(opts.databaseUrl, { max: 2, onnotice: () => {} });
  let queues: AnchorQueues;
  try {
    queues = await AnchorQueues.open({ databaseUrl: opts.databaseUrl, redisUrl: opts.redisUrl, prefix: opts.queuePrefix, onError: (err, source) => log('queue backend error', { level: 'warn', source, error: err.message }) });
  } catch (err) {
    await sql.end({ timeout: 5 });
    throw err;
  }
  return anchorRequestsOver(sql, queues, log, async () => {
    await queues.close();
    await sql.end({ timeout: 5 });
  });
}
