// The failover scenario of test/failover.test.ts and bench/failover.ts (issue #17, item 4): the ledger on a
// pg_auto_failover formation (test/support/pg-auto-failover.ts), the real API and anchor worker processes
// pointed at its multi-host URL, anvil with TallyAnchor, the queue on Redis (a multi-host DATABASE_URL
// needs it: ledger/src/config.ts). Several clients send signed ballots continuously; once some are
// acknowledged the primary is killed -9 (keeper and postmaster: a dead machine); the clients keep
// sending, and retrying, through the promotion until every ballot is acknowledged. Then the election is
// closed and everything is read back from the promoted node, the surviving standby and the chain.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Wallet } from 'ethers';
import postgres from 'postgres';
import { deployTallyAnchor, electionKey, TALLY_ANCHOR_INTERFACE, tallyAnchor } from '../../contracts/index.js';
import { type AnvilNode, anvilProvider, startAnvil } from '../../contracts/local-chain.js';
import { appUrlFor } from '../../ledger/src/db/connect.js';
import { freePort } from '../../ledger/src/db/embedded.js';
import { ledgerKeyFromSeed, type LedgerKey } from '../../ledger/src/ledger-key.js';
import { ballotHash, type Receipt, type Submission } from '../../ledger/src/protocol/protocol.js';
import { migrateDatabase } from '../../scripts/database.js';
import { dropRedisPrefix } from '../fault/stack.js';
import { type Service, startService } from '../fault/processes.js';
import { ballotFor, selectionsFor, testManifest, voters } from './fixtures.js';
import { type Formation, type Kill, type Promotion, startFormation } from './pg-auto-failover.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const API_ENTRY = fileURLToPath(new URL('../../api/src/server.ts', import.meta.url));
const WORKER_ENTRY = fileURLToPath(new URL('../../anchor-worker/src/main.ts', import.meta.url));

export interface FailoverOptions {
  /** Ballots, one per voter; default 300. */
  voters?: number;
  /** Concurrent clients, each sending its next ballot once the previous one is acknowledged; default 6. */
  clients?: number;
  /** Pause of a client between two ballots, so that ingest runs through the failover; default 50 ms. */
  pauseMs?: number;
  /** Acknowledged ballots before the kill; default a third of them. */
  killAfter?: number;
  /** The election's windowSeconds; default 2. */
  windowSeconds?: number;
  /** A retried ballot waits the 503's Retry-After, at most this; default 200 ms (the ingest gap's resolution). */
  maxRetryWaitMs?: number;
  redisUrl: string;
  log?: (line: string) => void;
}

/** One HTTP answer (or failure) a client got. */
export interface Answer {
  index: number;
  sentAt: number;
  at: number;
  /** "201", "200", "503", … or "error:CODE" for a request that got no HTTP answer. */
  status: string;
}

export interface Ack {
  index: number;
  status: 200 | 201;
  receipt: Receipt;
  /** When the answer arrived. */
  at: number;
  /** When the acknowledged request was sent. */
  sentAt: number;
  attempts: number;
}

export interface FailoverRun {
  electionId: string;
  submissions: Submission[];
  hashes: string[];
  acks: Map<number, Ack>;
  answers: Answer[];
  kill: Kill;
  promotion: Promotion;
  /** The API or the worker exited during the run (neither should). */
  exits: string[];
}

export interface Figures {
  ballots: number;
  clients: number;
  ackedBeforeKill: number;
  ackedAfterKill: number;
  /** Acknowledged with 200: an earlier attempt had committed, its answer lost with the primary. */
  ackedWith200: number;
  /** kill → the monitor has a standby take writes (wait_primary, synchronous replication still off). */
  killToWritableMs: number;
  /** kill → the new primary reports primary: synchronous replication on, the promotion complete. */
  killToPromotionMs: number;
  /** pg_auto_failover's window with the new primary writable but not synchronous; the API waits it out. */
  asynchronousWindowMs: number;
  /** Last 201 before the kill → first 201 after it. */
  ingestGapMs: number;
  /** First acknowledgement after the kill, relative to the new primary reporting primary (negative: before). */
  firstAckAfterKillVsPromotionMs: number;
  answersDuringOutage: Record<string, number>;
  answers: Record<string, number>;
  promotedNode: string;
  synchronousStandbyNames: string;
}

export interface FailoverStack {
  formation: Formation;
  apiUrl: string;
  adminToken: string;
  ledgerKey: LedgerKey;
  chain: AnvilNode;
  contractAddress: string;
  api: Service;
  worker: Service;
  stop(): Promise<void>;
}

/** The formation, migrations as the owner, anvil, the API and the worker, all on 127.0.0.1. */
export async function startFailoverStack(opts: FailoverOptions): Promise<FailoverStack> {
  const log = opts.log ?? (() => {});
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
  };
  try {
    const formation = await startFormation({ dbname: 'tallyproof', log });
    cleanups.push(() => formation.stop());
    const dir = mkdtempSync(join(tmpdir(), 'tallyproof-failover-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));

    // The operator's step, through the multi-host URL: migrations as the owner, then the app role only.
    const appPassword = `failover-app-${randomBytes(8).toString('hex')}`;
    await migrateDatabase({ ownerUrl: formation.url, appPassword });
    const appDatabaseUrl = appUrlFor(formation.url, appPassword);

    const chain = await startAnvil();
    cleanups.push(() => chain.stop());
    const provider = anvilProvider(chain);
    const owner = new Wallet(chain.accounts[0]!.privateKey, provider);
    const anchorer = chain.accounts[1]!;
    const deployment = await deployTallyAnchor(owner, { anchorers: [anchorer.address] });
    provider.destroy();

    const queuePrefix = `tp-failover-${randomBytes(4).toString('hex')}`;
    cleanups.push(() => dropRedisPrefix(opts.redisUrl, queuePrefix));
    const adminToken = `failover-admin-${randomBytes(12).toString('hex')}`;
    const seed = randomBytes(32);
    const common: Record<string, string> = {
      ...(process.env as Record<string, string>),
      HOST: '127.0.0.1',
      DATABASE_URL: appDatabaseUrl,
      REDIS_URL: opts.redisUrl,
      CHAIN_RPC_URL: chain.rpcUrl,
      CONTRACT_ADDRESS: deployment.address,
      ADMIN_TOKEN: adminToken,
      LEDGER_KEY_SEED: seed.toString('hex'),
      TALLYPROOF_QUEUE_PREFIX: queuePrefix,
      LOG_LEVEL: 'warn',
      TALLYPROOF_FAULT: '',
    };
    const apiPort = await freePort();
    const api = await startService({
      name: 'api',
      command: process.execPath,
      args: ['--import', 'tsx', API_ENTRY],
      cwd: ROOT,
      env: {
        ...common,
        PORT: String(apiPort),
        TALLYPROOF_DATA_DIR: join(dir, 'api'),
        VERIFY_THREADS: '1',
        DATABASE_POOL_SIZE: '4',
        METRICS_PORT: '',
      },
      ready: /listening on http:\/\/\S+/,
    });
    cleanups.push(() => api.stop());
    const worker = await startService({
      name: 'worker',
      command: process.execPath,
      args: ['--import', 'tsx', WORKER_ENTRY],
      cwd: ROOT,
      env: {
        ...common,
        TALLYPROOF_DATA_DIR: join(dir, 'worker'),
        CHAIN_PRIVATE_KEY: anchorer.privateKey,
        TALLYPROOF_RECONCILE_MS: '1000',
        METRICS_PORT: String(await freePort()),
      },
      ready: /"msg":"anchor worker started"/,
    });
    cleanups.push(() => worker.stop());
    log(
      `failover stack: API http://127.0.0.1:${apiPort}, DATABASE_URL ${formation.url.replace(/\?.*/, '')} (app role)`,
    );
    return {
      formation,
      apiUrl: `http://127.0.0.1:${apiPort}`,
      adminToken,
      ledgerKey: ledgerKeyFromSeed(seed),
      chain,
      contractAddress: deployment.address,
      api,
      worker,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` every 100 ms until it returns something truthy; throws after `timeoutMs`. */
async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(100);
  }
}

/** An admin or public request to the API; JSON in and out. */
export async function apiRequest(
  stack: FailoverStack,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(stack.apiUrl + path, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(method !== 'GET' ? { authorization: `Bearer ${stack.adminToken}` } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** The election, its ballots sent by the clients through the kill and the promotion, until all are acknowledged. */
export async function runThroughFailover(stack: FailoverStack, opts: FailoverOptions): Promise<FailoverRun> {
  const log = opts.log ?? (() => {});
  const n = opts.voters ?? 300;
  const clients = opts.clients ?? 6;
  const pauseMs = opts.pauseMs ?? 50;
  const killAfter = opts.killAfter ?? Math.floor(n / 3);
  const maxRetryWaitMs = opts.maxRetryWaitMs ?? 200;
  const electionId = `failover-${randomBytes(3).toString('hex')}`;
  const vs = voters(n, `${electionId}-`);
  const manifest = testManifest(electionId, stack.ledgerKey.publicKeyHex, { windowSeconds: opts.windowSeconds ?? 2 });
  const created = await apiRequest(stack, 'POST', '/api/v1/elections', {
    manifest,
    roll: vs.map((v) => v.credential),
  });
  if (created.status !== 201) throw new Error(`creating the election: ${created.status} ${created.text}`);
  await waitFor(
    'the election registered on chain',
    async () => (await apiRequest(stack, 'GET', `/api/v1/elections/${electionId}`)).json?.registration?.txHash,
    60_000,
  );

  const submissions = vs.map((v, i) => ballotFor(v, electionId, selectionsFor(i)));
  const hashes = submissions.map((s) => ballotHash(s).toString('hex'));
  const bodies = submissions.map((s) => JSON.stringify(s)); // every attempt of a ballot: the same bytes
  const acks = new Map<number, Ack>();
  const answers: Answer[] = [];
  const exits: string[] = [];
  for (const s of [stack.api, stack.worker])
    void s.exited.then((e) => exits.push(`${s.name} exited (code ${e.code}, signal ${e.signal})`));
  const deadline = Date.now() + 180_000;
  let next = 0;

  const send = async (index: number): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      if (Date.now() > deadline) throw new Error(`ballot ${index} not acknowledged before the deadline`);
      const sentAt = Date.now();
      let wait = maxRetryWaitMs;
      try {
        const res = await fetch(`${stack.apiUrl}/api/v1/elections/${electionId}/ballots`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: bodies[index],
          signal: AbortSignal.timeout(20_000),
        });
        const text = await res.text();
        const at = Date.now();
        answers.push({ index, sentAt, at, status: String(res.status) });
        if (res.status === 200 || res.status === 201) {
          const receipt = (JSON.parse(text) as { receipt: Receipt }).receipt;
          acks.set(index, { index, status: res.status, receipt, at, sentAt, attempts: attempt });
          return;
        }
        if (res.status !== 503) return; // any other answer is a finding, not retried
        const retryAfter = Number(res.headers.get('retry-after'));
        if (retryAfter > 0) wait = Math.min(maxRetryWaitMs, retryAfter * 1000);
      } catch (err) {
        const e = err as { name?: string; cause?: { code?: string } };
        const code = e.name === 'TimeoutError' ? 'timeout' : (e.cause?.code ?? e.name ?? 'unknown');
        answers.push({ index, sentAt, at: Date.now(), status: `error:${code}` });
      }
      await sleep(wait);
    }
  };

  const load = Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < n) {
        await send(next++);
        await sleep(pauseMs);
      }
    }),
  );
  let kill: Kill | null = null;
  let promotion: Promotion | null = null;
  try {
    await waitFor(`${killAfter} ballots acknowledged`, async () => acks.size >= killAfter || exits.length > 0, 120_000);
    kill = await stack.formation.killPrimary();
    log(`${kill.node.name} (the primary) killed -9 with ${acks.size} ballots acknowledged`);
    promotion = await stack.formation.waitForPromotion(kill);
    log(
      `${promotion.node.name} promoted: writable ${promotion.writableAt - kill.at} ms after the kill, ` +
        `synchronous ${promotion.synchronousAt - kill.at} ms after (${promotion.synchronousStandbyNames})`,
    );
  } finally {
    await load;
  }
  log(`${acks.size} of ${n} ballots acknowledged, ${answers.length} answers`);
  return { electionId, submissions, hashes, acks, answers, kill: kill!, promotion: promotion!, exits };
}

const tally = (xs: string[]) =>
  Object.fromEntries(
    [...xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>())].sort(([a], [b]) =>
      a.localeCompare(b),
    ),
  );

/** Answers to requests sent after the kill and answered before the first acknowledgement after it. */
/**
 * The first acknowledgement of a request sent after the kill: only the promoted node can have committed it
 * (a request sent before the kill may still be answered just after it, its COMMIT having returned before).
 */
function firstAckAfterKill(run: FailoverRun): number {
  return Math.min(...[...run.acks.values()].filter((a) => a.sentAt >= run.kill.at).map((a) => a.at));
}

export function outageAnswers(run: FailoverRun): Answer[] {
  const firstAfter = firstAckAfterKill(run);
  return run.answers.filter((a) => a.sentAt >= run.kill.at && a.at < firstAfter);
}

export function figures(run: FailoverRun, clients: number): Figures {
  const acks = [...run.acks.values()];
  // Sent before the kill (committed on the old primary, even when answered just after it) or after it.
  const before = acks.filter((a) => a.sentAt < run.kill.at);
  const after = acks.filter((a) => a.sentAt >= run.kill.at);
  if (before.length === 0 || after.length === 0) throw new Error('no acknowledgement on one side of the kill');
  const lastBefore = Math.max(...before.map((a) => a.at));
  const firstAfter = firstAckAfterKill(run);
  const { kill, promotion } = run;
  return {
    ballots: run.submissions.length,
    clients,
    ackedBeforeKill: before.length,
    ackedAfterKill: after.length,
    ackedWith200: acks.filter((a) => a.status === 200).length,
    killToWritableMs: promotion.writableAt - kill.at,
    killToPromotionMs: promotion.synchronousAt - kill.at,
    asynchronousWindowMs: promotion.asyncWindowMs,
    ingestGapMs: firstAfter - lastBefore,
    firstAckAfterKillVsPromotionMs: firstAfter - promotion.synchronousAt,
    answersDuringOutage: tally(outageAnswers(run).map((a) => a.status)),
    answers: tally(run.answers.map((a) => a.status)),
    promotedNode: promotion.node.name,
    synchronousStandbyNames: promotion.synchronousStandbyNames,
  };
}

export interface LedgerRow {
  seq: number;
  hash: string;
}

export interface WindowRow {
  index: number;
  firstSeq: number;
  count: number;
  root: string;
  anchorTx: string | null;
}

export interface Readback {
  /** Ballots on the promoted node, by seq. */
  ballots: LedgerRow[];
  /** Ballot hashes on the surviving standby, once it has replayed as far as the primary. */
  standbyHashes: Set<string> | null;
  standbyName: string | null;
  windows: WindowRow[];
  chain: {
    windowCount: number;
    anchoredEvents: { windowIndex: number; txHash: string }[];
    windows: { firstSeq: number; count: number; root: string }[];
    closed: boolean;
    totalBallots: number;
  };
}

/** Closes the election through the API, waits for the close on chain, and reads the ledger and the chain. */
export async function closeAndRead(stack: FailoverStack, run: FailoverRun): Promise<Readback> {
  const E = run.electionId;
  const closed = await waitFor(
    'the close accepted',
    async () => {
      const r = await apiRequest(stack, 'POST', `/api/v1/elections/${E}/close`);
      if (r.status === 202) return r;
      if (r.status !== 503) throw new Error(`close answered ${r.status}: ${r.text}`);
      return null;
    },
    60_000,
  );
  const primary = await stack.formation.primary();
  const sql = postgres(primary.url, { max: 1, onnotice: () => {} });
  try {
    await waitFor(
      'the close recorded',
      async () => (await sql`SELECT close_tx FROM elections WHERE election_id = ${E}`)[0]?.close_tx,
      120_000,
    );
    const ballots = (
      await sql`SELECT seq, encode(ballot_hash, 'hex') AS h FROM ballots WHERE election_id = ${E} ORDER BY seq`
    ).map((r) => ({ seq: Number(r.seq), hash: r.h as string }));
    if (Number(closed.json?.totalBallots) !== ballots.length)
      throw new Error(`the close counted ${closed.json?.totalBallots} ballots, the ledger holds ${ballots.length}`);
    const windows = (
      await sql`SELECT window_index, first_seq, count, encode(root, 'hex') AS root, anchor_tx
                FROM windows WHERE election_id = ${E} ORDER BY window_index`
    ).map((w) => ({
      index: Number(w.window_index),
      firstSeq: Number(w.first_seq),
      count: Number(w.count),
      root: w.root as string,
      anchorTx: (w.anchor_tx as string | null) ?? null,
    }));

    // The second machine: the surviving standby, once it has replayed the primary's WAL as far as now.
    const standby = (await stack.formation.state()).find(
      (s) => s.name !== primary.name && s.name !== run.kill.node.name && s.reportedState === 'secondary',
    );
    let standbyHashes: Set<string> | null = null;
    if (standby) {
      const node = stack.formation.nodes.find((x) => x.name === standby.name)!;
      const [lsn] = await sql`SELECT pg_current_wal_lsn()::text AS lsn`;
      const replica = postgres(node.url, { max: 1, onnotice: () => {} });
      try {
        await waitFor(
          `${node.name} replaying up to ${lsn!.lsn}`,
          async () => (await replica`SELECT pg_last_wal_replay_lsn() >= ${lsn!.lsn}::pg_lsn AS done`)[0]?.done,
          30_000,
        );
        standbyHashes = new Set(
          (await replica`SELECT encode(ballot_hash, 'hex') AS h FROM ballots WHERE election_id = ${E}`).map(
            (r) => r.h as string,
          ),
        );
      } finally {
        await replica.end({ timeout: 1 });
      }
    }

    const chain = await readChain(stack, E, windows.length);
    return { ballots, standbyHashes, standbyName: standby?.name ?? null, windows, chain };
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function readChain(stack: FailoverStack, electionId: string, ledgerWindows: number): Promise<Readback['chain']> {
  const provider = anvilProvider(stack.chain);
  try {
    const contract = tallyAnchor(stack.contractAddress, provider);
    const key = electionKey(electionId);
    const windowCount = Number(await contract.windowCount(key));
    const events = await contract.queryFilter(contract.filters.WindowAnchored!(key), 0, 'latest');
    const windows = [];
    for (let i = 0; i < Math.max(windowCount, ledgerWindows); i++) {
      const w = await contract.getWindow(key, i).catch(() => null);
      if (w) windows.push({ firstSeq: Number(w.firstSeq), count: Number(w.count), root: String(w.root) });
    }
    const election = await contract.getElection(key);
    return {
      windowCount,
      anchoredEvents: events.map((e) => ({
        windowIndex: Number(TALLY_ANCHOR_INTERFACE.parseLog(e)!.args.windowIndex),
        txHash: e.transactionHash,
      })),
      windows,
      closed: Boolean(election.closed),
      totalBallots: Number(election.totalBallots),
    };
  } finally {
    provider.destroy();
  }
}
