// The worker in-process against real anvil and PostgreSQL: the whole flow on both queue backends, chain
// faults injected through a wrapped ChainClient (a table, as sunlight's TestSequenceErrors), and a chain
// that disagrees with the ledger.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.js';
import { electionKey } from '../../contracts/index.js';
import { sealWindow } from '../../ledger/src/index.js';
import { AnchorQueues } from '../../jobs/src/index.js';
import {
  DelegatingChainClient,
  ChainUnavailableError,
  planWindows,
  startAnchorWorker,
  type AnchorWorker,
  type ChainClient,
  type SentTx,
  type WindowToAnchor,
} from '../src/index.js';
import {
  allAnchored,
  Ballots,
  captureLog,
  dropRedisPrefix,
  expectLedgerMatchesChain,
  expectReceiptsProvenOnChain,
  queuePrefix,
  REDIS_URL,
  startChain,
  waitFor,
  type TestChain,
} from './helpers.js';

let db: TestDatabase;
let chain: TestChain;
let ballots: Ballots;

beforeAll(async () => {
  [db, chain] = await Promise.all([createTestDatabase(), startChain()]);
  ballots = new Ballots(db.app);
});

afterAll(async () => {
  await ballots?.close();
  chain?.provider.destroy();
  await chain?.node.stop();
  await db?.drop();
});

function start(extra: Partial<Parameters<typeof startAnchorWorker>[0]> = {}): Promise<AnchorWorker> {
  return startAnchorWorker({
    databaseUrl: db.appUrl,
    redisUrl: null,
    chainRpcUrl: chain.node.rpcUrl,
    chainPrivateKey: chain.anchorerKey,
    contractAddress: chain.address,
    reconcileIntervalMs: 500,
    log: () => {},
    ...extra,
  });
}

const electionRow = async (id: string) =>
  (await db.app`SELECT registration_tx, close_tx FROM elections WHERE election_id = ${id}`)[0]!;

const backends = [
  { name: 'PostgreSQL', redisUrl: null },
  ...(REDIS_URL ? [{ name: 'Redis', redisUrl: REDIS_URL }] : []),
];

describe.each(backends)('anchor worker, queue on $name', ({ name, redisUrl }) => {
  it('registers, anchors every window so receipts prove against the chain, and closes with the recount', async () => {
    const id = `flow-${name.toLowerCase()}`;
    const prefix = queuePrefix();
    const worker = await start({ redisUrl, queuePrefix: prefix });
    try {
      await ballots.election(db.app, id, 40, 1);
      await worker.requests.requestRegistration(id);
      await waitFor('registration', async () => (await electionRow(id)).registration_tx);

      const receipts = [];
      for (let round = 0; round < 3; round++) {
        receipts.push(...(await ballots.cast(id, 10)));
        await new Promise((r) => setTimeout(r, 1100));
      }
      await waitFor('every ballot anchored', () => allAnchored(db.app, id), 15_000);
      const [{ n }] = await db.app`SELECT count(*)::int AS n FROM windows WHERE election_id = ${id}`;
      expect(n).toBeGreaterThanOrEqual(2);
      await expectReceiptsProvenOnChain(db.app, chain, receipts);
      await expectLedgerMatchesChain(db.app, chain, id);
      expect(await worker.status()).toMatchObject({ chain: 'up', queue: 'up' });

      receipts.push(...(await ballots.cast(id, 3)));
      await worker.requests.requestClose(id);
      await waitFor('close', async () => (await electionRow(id)).close_tx, 15_000);
      await expectLedgerMatchesChain(db.app, chain, id, { closed: true });
      await expectReceiptsProvenOnChain(db.app, chain, receipts.slice(-3));
      const refused = await ballots.cast(id, 1).catch((err: Error) => err);
      expect(String(refused)).toMatch(/election-closed/);
      expect(await worker.status()).toMatchObject({ chain: 'up', queue: 'up', pendingWindows: 0, anchorLagSeconds: 0 });
    } finally {
      await worker.stop();
      if (redisUrl) await dropRedisPrefix(redisUrl, prefix);
    }
  });
});

/**
 * A chain client failing once at a chosen step: before the broadcast (nothing reaches the chain), after
 * it (the transaction is out but the worker sees an error), or while awaiting the receipt (mined, not
 * seen). It counts the broadcasts per step, so a test can assert that no step was sent twice.
 */
class FaultyChain extends DelegatingChainClient {
  readonly armed = new Map<string, 'before-send' | 'after-send' | 'confirming'>();
  readonly broadcasts = new Map<string, number>();
  private readonly stepOfTx = new Map<string, string>();

  private async sendWith(step: string, send: () => Promise<SentTx>): Promise<SentTx> {
    const fault = this.armed.get(step);
    if (fault === 'before-send') {
      this.armed.delete(step);
      throw new ChainUnavailableError(`injected: ${step} failed before the send`);
    }
    const sent = await send();
    this.broadcasts.set(step, (this.broadcasts.get(step) ?? 0) + 1);
    this.stepOfTx.set(sent.txHash, step);
    if (fault === 'after-send') {
      this.armed.delete(step);
      throw new ChainUnavailableError(`injected: ${step} failed after the send`);
    }
    return sent;
  }

  override sendRegisterElection(electionId: string, manifestHash: string, rollRoot: string) {
    return this.sendWith(`register/${electionId}`, () =>
      super.sendRegisterElection(electionId, manifestHash, rollRoot),
    );
  }

  override sendAnchorWindow(electionId: string, w: WindowToAnchor) {
    return this.sendWith(`anchor/${electionId}/${w.index}`, () => super.sendAnchorWindow(electionId, w));
  }

  override sendCloseElection(electionId: string, resultHash: string, totalBallots: number) {
    return this.sendWith(`close/${electionId}`, () => super.sendCloseElection(electionId, resultHash, totalBallots));
  }

  override async waitForConfirmation(tx: SentTx, confirmations: number, timeoutMs?: number) {
    const step = this.stepOfTx.get(tx.txHash)!;
    if (this.armed.get(step) === 'confirming') {
      await super.waitForConfirmation(tx, confirmations, timeoutMs); // it is mined...
      this.armed.delete(step);
      throw new ChainUnavailableError(`injected: ${step} lost while confirming`); // ...but the worker does not learn it
    }
    return super.waitForConfirmation(tx, confirmations, timeoutMs);
  }
}

describe('chain faults at each step', () => {
  // step: which chain write fails once; every case must end with each write broadcast exactly once.
  const cases = [
    { step: 'register', fault: 'before-send' },
    { step: 'register', fault: 'after-send' },
    { step: 'register', fault: 'confirming' },
    { step: 'anchor', fault: 'before-send' },
    { step: 'anchor', fault: 'after-send' },
    { step: 'anchor', fault: 'confirming' },
    { step: 'close', fault: 'before-send' },
    { step: 'close', fault: 'after-send' },
    { step: 'close', fault: 'confirming' },
  ] as const;

  it('every write lands exactly once and the ledger records it', async () => {
    let faulty!: FaultyChain;
    const worker = await start({ wrapChain: (c: ChainClient) => (faulty = new FaultyChain(c)) });
    try {
      const ids = cases.map((c, i) => `fault-${i}-${c.step}-${c.fault}`);
      for (const [i, c] of cases.entries())
        faulty.armed.set(c.step === 'anchor' ? `anchor/${ids[i]}/0` : `${c.step}/${ids[i]}`, c.fault);
      for (const id of ids) await ballots.election(db.app, id, 8, 1);
      await Promise.all(ids.map((id) => worker.requests.requestRegistration(id)));
      await Promise.all(
        ids.map((id) => waitFor(`${id} registered`, async () => (await electionRow(id)).registration_tx)),
      );
      await Promise.all(ids.map((id) => ballots.cast(id, 5)));
      await Promise.all(ids.map((id) => waitFor(`${id} anchored`, () => allAnchored(db.app, id), 20_000)));
      await Promise.all(ids.map((id) => worker.requests.requestClose(id)));
      await Promise.all(ids.map((id) => waitFor(`${id} closed`, async () => (await electionRow(id)).close_tx, 20_000)));

      expect([...faulty.armed.keys()], 'every injected fault fired').toEqual([]);
      for (const [i, id] of ids.entries()) {
        await expectLedgerMatchesChain(db.app, chain, id, { closed: true });
        const steps = [...faulty.broadcasts.entries()].filter(([k]) => k.split('/')[1] === id);
        expect(steps.length, `${cases[i]!.step} ${cases[i]!.fault}`).toBeGreaterThanOrEqual(3);
        for (const [step, n] of steps) expect(n, `${step} broadcast once`).toBe(1);
      }
    } finally {
      await worker.stop();
    }
  });
});

describe('one anchorer at a time', () => {
  it('two workers on the same ledger and account never send the same window twice', async () => {
    // Attempts, not broadcasts: a duplicate would be refused by estimateGas before any broadcast (the
    // contract's contiguity check), so only counting attempts shows that the lock kept them apart.
    const attempts: string[] = [];
    class Counting extends DelegatingChainClient {
      override sendAnchorWindow(electionId: string, w: WindowToAnchor) {
        attempts.push(`${electionId}/${w.index}`);
        return super.sendAnchorWindow(electionId, w);
      }
    }
    const ids = ['pair-a', 'pair-b', 'pair-c'];
    for (const id of ids) await ballots.election(db.app, id, 20, 1);
    const workers = await Promise.all(
      [0, 1].map(() => start({ reconcileIntervalMs: 200, wrapChain: (c: ChainClient) => new Counting(c) })),
    );
    try {
      for (let round = 0; round < 3; round++) {
        await Promise.all(ids.map((id) => ballots.cast(id, 4)));
        await new Promise((r) => setTimeout(r, 700));
      }
      await Promise.all(ids.map((id) => waitFor(`${id} anchored`, () => allAnchored(db.app, id), 20_000)));
      for (const id of ids) await expectLedgerMatchesChain(db.app, chain, id);
      const [{ n }] = await db.app`SELECT count(*)::int AS n FROM windows WHERE election_id IN ${db.app(ids)}`;
      expect(attempts.length, attempts.join(' ')).toBe(n);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  });
});

describe('reconcile cases', () => {
  it('planWindows names each shape of ledger versus chain', () => {
    const table: [{ sealed: number; recorded: number }, number, string][] = [
      [{ sealed: 0, recorded: 0 }, 0, 'equal'],
      [{ sealed: 3, recorded: 3 }, 3, 'equal'],
      [{ sealed: 3, recorded: 1 }, 1, 'chain-behind'], // send 1, 2
      [{ sealed: 3, recorded: 1 }, 2, 'chain-behind'], // record 1 from its event, send 2
      [{ sealed: 3, recorded: 1 }, 3, 'chain-behind'], // record 1, 2 from events, send nothing
      [{ sealed: 3, recorded: 3 }, 4, 'chain-ahead'],
      [{ sealed: 3, recorded: 3 }, 2, 'chain-lost'],
    ];
    for (const [ledger, chainCount, kind] of table)
      expect(planWindows(ledger, chainCount).kind, JSON.stringify([ledger, chainCount])).toBe(kind);
    expect(planWindows({ sealed: 3, recorded: 1 }, 2)).toEqual({
      kind: 'chain-behind',
      recordFrom: 1,
      recordTo: 2,
      sendFrom: 2,
      sendTo: 3,
    });
  });

  it('a window on chain whose root differs from the ledger halts the election loudly, and only it', async () => {
    const { lines, log } = captureLog();
    const id = 'diverge';
    const other = 'diverge-bystander';
    await ballots.election(db.app, id, 5, 1);
    await ballots.election(db.app, other, 5, 1);
    // A rogue writer registers the election as the ledger would, then anchors a forged window 0.
    const [e] =
      await db.app`SELECT encode(manifest_hash, 'hex') AS m, encode(roll_root, 'hex') AS r FROM elections WHERE election_id = ${id}`;
    await (await chain.rogue.registerElection(electionKey(id), '0x' + e!.m, '0x' + e!.r)).wait();
    await (await chain.rogue.anchorWindow(electionKey(id), 0, 0, 1, '0x' + 'ab'.repeat(32))).wait();

    // The ledger seals its own window 0 (same range, another root) before the worker compares.
    await ballots.cast(id, 1);
    await sealWindow(db.app, id);
    const worker = await start({ log });
    try {
      await ballots.cast(other, 2);
      await waitFor(
        'the halt',
        async () => lines.find((l) => l.msg.startsWith('HALTED') && l.fields.electionId === id),
        15_000,
      );
      const halt = lines.find((l) => l.msg.startsWith('HALTED'))!;
      expect(halt.fields).toMatchObject({ level: 'error', case: 'root-differs' });
      expect(halt.msg).toMatch(
        /window 0 on chain is seqs 0\+1 with root abab.*the ledger sealed seqs 0\+1 with root [0-9a-f]{64}/,
      );
      // The registration the rogue made matched the ledger, so it was adopted (chain equal).
      expect((await electionRow(id)).registration_tx).toMatch(/^0x/);
      await waitFor('the bystander anchored', () => allAnchored(db.app, other), 15_000);
      await ballots.cast(id, 1);
      await waitFor(
        'a second window sealed',
        async () => (await db.app`SELECT 1 FROM windows WHERE election_id = ${id} AND window_index = 1`).length > 0,
        10_000,
      );
      await new Promise((r) => setTimeout(r, 1000));
      const anchored =
        await db.app`SELECT window_index FROM windows WHERE election_id = ${id} AND anchor_tx IS NOT NULL`;
      expect(anchored).toHaveLength(0);
      expect(Number(await chain.contract.windowCount(electionKey(id)))).toBe(1);
      expect((await worker.status()).pendingWindows).toBeGreaterThanOrEqual(2);
    } finally {
      await worker.stop();
    }
  });

  it('with no seal ticks (scheduler lost), the reconcile pass seals overdue ballots itself', async () => {
    const id = 'no-ticks';
    const { lines, log } = captureLog();
    await ballots.election(db.app, id, 6, 1);
    const worker = await start({ log });
    try {
      await waitFor('registration', async () => (await electionRow(id)).registration_tx, 10_000);
      const queues = await AnchorQueues.open({ databaseUrl: db.appUrl });
      await queues.removeSealScheduler(id);
      await queues.close();
      await new Promise((r) => setTimeout(r, 1500)); // a tick already taken passes
      await ballots.cast(id, 3);
      await waitFor('anchored by reconcile', () => allAnchored(db.app, id), 10_000);
      expect(lines.some((l) => l.msg.startsWith('sealed by the reconcile pass') && l.fields.electionId === id)).toBe(
        true,
      );
    } finally {
      await worker.stop();
    }
  });

  it('at closesAt the worker closes the election by itself: no admin close, the result and closeElection recorded', async () => {
    const id = 'scheduled-close';
    // A close a few seconds ahead: the ballots go in first (in-process, milliseconds each).
    await ballots.election(db.app, id, 6, 60, { closesAt: new Date(Date.now() + 5_000).toISOString() });
    const receipts = await ballots.cast(id, 4);
    const worker = await start();
    try {
      await waitFor('closed on chain at closesAt', async () => (await electionRow(id)).close_tx, 30_000);
      const [e] =
        await db.app`SELECT close_requested_at, closes_at, total_ballots FROM elections WHERE election_id = ${id}`;
      expect(Number(e!.total_ballots)).toBe(4);
      // The worker's close came at or after closesAt, never before it.
      expect(new Date(e!.close_requested_at).getTime()).toBeGreaterThanOrEqual(new Date(e!.closes_at).getTime());
      await expectLedgerMatchesChain(db.app, chain, id, { closed: true });
      await expectReceiptsProvenOnChain(db.app, chain, receipts);
    } finally {
      await worker.stop();
    }
  });

  it('a lost enqueue loses nothing: the reconcile pass finds sealed windows and registrations in the database', async () => {
    const id = 'no-jobs';
    await ballots.election(db.app, id, 6, 60); // the scheduler would not seal before a minute
    const worker = await start();
    try {
      // No requestRegistration: the frozen roll is the request.
      await waitFor('registration', async () => (await electionRow(id)).registration_tx, 10_000);
      await ballots.cast(id, 4);
      // Sealed behind the worker's back, no anchor job enqueued.
      await sealWindow(db.app, id);
      await waitFor('anchored by reconcile', () => allAnchored(db.app, id), 10_000);
      await expectLedgerMatchesChain(db.app, chain, id);
    } finally {
      await worker.stop();
    }
  });
});
