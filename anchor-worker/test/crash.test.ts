// The worker as a separate process, killed with SIGKILL at each injected point (TALLYPROOF_FAULT), then
// restarted: whatever the point, every window ends up on chain exactly once, contiguous, and the ledger
// records the transactions that did it (tessera's fault tests, with the chain as the second record).
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.js';
import { electionKey } from '../../contracts/index.js';
import { createAnchorRequests, type AnchorRequests } from '../../jobs/src/index.js';
import type { FaultPoint } from '../src/index.js';
import {
  allAnchored,
  Ballots,
  dropRedisPrefix,
  expectLedgerMatchesChain,
  expectReceiptsProvenOnChain,
  queuePrefix,
  REDIS_URL,
  startChain,
  waitFor,
  type TestChain,
} from './helpers.js';
import type { Receipt } from '../../ledger/src/protocol/protocol.js';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
// Bounds, not expectations: on a machine whose cores are busy a worker process takes many seconds to
// start, so each wait is generous and the test's own timeout covers all seven kill points.
const EXIT_BOUND_MS = 120_000;
const TEST_BOUND_MS = 900_000;
/** Worker processes not yet exited: killed when a test ends, so none outlives it (and seals another test's election). */
const live = new Set<Child>();

let db: TestDatabase;
let chain: TestChain;
let ballots: Ballots;

beforeAll(async () => {
  [db, chain] = await Promise.all([createTestDatabase(), startChain()]);
  ballots = new Ballots(db.app);
});

afterEach(async () => {
  for (const c of live) c.kill('SIGKILL');
  await Promise.all([...live].map((c) => c.exited));
});

afterAll(async () => {
  await ballots?.close();
  chain?.provider.destroy();
  await chain?.node.stop();
  await db?.drop();
});

interface Child {
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
  kill: (signal: NodeJS.Signals) => void;
}

function spawnWorker(opts: { fault: string; redisUrl: string | null; prefix: string; metricsPort?: number }): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: db.appUrl,
      TALLYPROOF_DATA_DIR: db.dataDir,
      REDIS_URL: opts.redisUrl ?? '',
      CHAIN_RPC_URL: chain.node.rpcUrl,
      CHAIN_PRIVATE_KEY: chain.anchorerKey,
      CONTRACT_ADDRESS: chain.address,
      TALLYPROOF_RECONCILE_MS: '300',
      TALLYPROOF_QUEUE_PREFIX: opts.prefix,
      TALLYPROOF_FAULT: opts.fault,
      METRICS_PORT: opts.metricsPort ? String(opts.metricsPort) : '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const c: Child = { exited, output: () => out, kill: (s) => child.kill(s) };
  live.add(c);
  void exited.then(() => live.delete(c));
  return c;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function exitWithin(child: Child, ms: number, what: string) {
  let timer!: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`${what}: the worker did not exit within ${ms} ms; its output:\n${child.output().slice(-4000)}`),
      );
    }, ms);
  });
  try {
    return await Promise.race([child.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function snapshot(id: string) {
  const [e] = await db.app`SELECT e.registration_tx, e.close_tx, h.sealed_through,
    (SELECT count(*) FROM windows w WHERE w.election_id = e.election_id)::int AS sealed,
    (SELECT count(*) FROM windows w WHERE w.election_id = e.election_id AND w.anchor_tx IS NOT NULL)::int AS recorded
    FROM elections e JOIN election_heads h USING (election_id) WHERE e.election_id = ${id}`;
  const key = electionKey(id);
  const registered =
    (await chain.contract.queryFilter(chain.contract.filters.ElectionRegistered!(key), 0, 'latest')).length > 0;
  const onChain = Number(await chain.contract.windowCount(key));
  const closedOnChain = registered && (await chain.contract.getElection(key)).closed;
  return {
    registrationTx: e!.registration_tx as string | null,
    closeTx: e!.close_tx as string | null,
    sealed: e!.sealed as number,
    recorded: e!.recorded as number,
    registered,
    onChain,
    closedOnChain,
  };
}

type Snapshot = Awaited<ReturnType<typeof snapshot>>;

/**
 * Kill points in the order an election meets them. `before` makes the point reachable (ballots, a close
 * request); `atKill` is what must hold right after the kill: the crash really fell where it is named.
 */
const POINTS: {
  point: FaultPoint;
  before: (id: string, requests: AnchorRequests) => Promise<unknown>;
  atKill: (s: Snapshot, prev: Snapshot) => void;
}[] = [
  {
    point: 'after-register-send',
    before: async () => {},
    atKill: (s) => expect([s.registered, s.registrationTx]).toEqual([true, null]),
  },
  {
    point: 'before-seal-commit',
    before: (id) => ballots.cast(id, 3),
    atKill: (s, prev) => expect(s.sealed).toBe(prev.sealed), // the seal's transaction died with the process
  },
  {
    point: 'after-seal-commit',
    before: (id) => ballots.cast(id, 3),
    atKill: (s, prev) => expect([s.sealed, s.onChain]).toEqual([prev.sealed + 1, prev.onChain]),
  },
  {
    point: 'after-anchor-send',
    before: (id) => ballots.cast(id, 3),
    atKill: (s) => expect(s.onChain).toBe(s.recorded + 1), // on chain, not in the ledger
  },
  {
    point: 'after-anchor-mined',
    before: (id) => ballots.cast(id, 3),
    atKill: (s) => expect(s.onChain).toBe(s.recorded + 1),
  },
  {
    point: 'after-anchor-record',
    before: (id) => ballots.cast(id, 3),
    atKill: (s, prev) => expect([s.onChain > prev.onChain, s.onChain]).toEqual([true, s.recorded]),
  },
  {
    point: 'after-close-send',
    before: async (id, requests) => {
      const made = await ballots.cast(id, 2);
      await requests.requestClose(id);
      return made;
    },
    atKill: (s) => expect([s.closedOnChain, s.closeTx]).toEqual([true, null]),
  },
];

const backends = [
  { name: 'PostgreSQL', redisUrl: null as string | null },
  ...(REDIS_URL ? [{ name: 'Redis', redisUrl: REDIS_URL }] : []),
];

describe.each(backends)(
  'worker process killed (SIGKILL) at each injected point, queue on $name',
  ({ name, redisUrl }) => {
    it(
      'restarts into a ledger and a chain that agree: each window once, contiguous, nothing skipped',
      async () => {
        const id = `crash-${name.toLowerCase()}`;
        const prefix = queuePrefix();
        await ballots.election(db.app, id, 40, 1);
        const requests = await createAnchorRequests({
          sql: db.app,
          databaseUrl: db.appUrl,
          redisUrl,
          queuePrefix: prefix,
          log: () => {},
        });
        const receipts: Receipt[] = [];
        try {
          for (const { point, before, atKill } of POINTS) {
            const prev = await snapshot(id);
            const made = await before(id, requests);
            if (Array.isArray(made)) receipts.push(...(made as Receipt[]));
            const child = spawnWorker({ fault: `${point}:1`, redisUrl, prefix });
            const exit = await exitWithin(child, EXIT_BOUND_MS, point);
            expect(exit, `${point}: ${child.output().slice(-2000)}`).toEqual({ code: null, signal: 'SIGKILL' });
            expect(child.output()).toContain(`fault injected at ${point}`);
            atKill(await snapshot(id), prev);
          }

          // A clean run finishes the close; SIGTERM then stops it gracefully.
          const metricsPort = await freePort();
          const child = spawnWorker({ fault: '', redisUrl, prefix, metricsPort });
          try {
            await waitFor('the close recorded', async () => (await snapshot(id)).closeTx, EXIT_BOUND_MS);
            const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
            expect(metrics).toMatch(/^tallyproof_worker_chain_up 1$/m);
            expect(metrics).toMatch(/^tallyproof_worker_pending_windows 0$/m);
          } finally {
            child.kill('SIGTERM');
          }
          expect(await exitWithin(child, EXIT_BOUND_MS, 'SIGTERM')).toEqual({ code: 0, signal: null });
          expect(child.output()).toMatch(/"msg":"close found on chain, recording it".*"case":"chain-equal"/);

          expect(await allAnchored(db.app, id)).toBe(true);
          await expectLedgerMatchesChain(db.app, chain, id, { closed: true });
          await expectReceiptsProvenOnChain(db.app, chain, receipts);
          expect(receipts.length).toBe(17);
        } finally {
          await requests.close();
          if (redisUrl) await dropRedisPrefix(redisUrl, prefix);
        }
      },
      TEST_BOUND_MS,
    );
  },
);
