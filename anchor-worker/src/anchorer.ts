// The worker's steps, each idempotent and safe to cut short at any instant: seal, register, anchor the
// sealed windows, close. Every chain step starts by comparing the ledger with the chain and naming the
// case (reconcile below), so a crash, a lost job or a second worker only ever costs a repeat of a step.
import type { Sql } from 'postgres';
import { anchoringProgress, sealWindow, type SealedWindow } from '../../ledger/src/windows.js';
import { computeTally, resultHash } from '../../ledger/src/tally.js';
import type { ChainClient, ConfirmedTx, ChainEvent } from './chain.js';
import { AnchorDivergenceError, AnchorerBusyError, ChainRevertError, ChainUnavailableError } from './errors.js';
import type { Faults } from './faults.js';

export type Logger = (msg: string, fields?: object) => void;

/** What the worker did, for metrics and benchmarks (the log says the same in words). */
export type AnchorEvent =
  | { type: 'sealed'; electionId: string; window: number; firstSeq: number; count: number }
  | { type: 'registered'; electionId: string; txHash: string; recovered: boolean }
  /** recovered: found on chain after a crash rather than sent now; gasUsed only for a send. */
  | { type: 'anchored'; electionId: string; window: number; txHash: string; blockNumber: number; recovered: boolean; gasUsed?: number }
  | { type: 'closed'; electionId: string; txHash: string; recovered: boolean }
  | { type: 'halted'; electionId: string; case: string; message: string };

/** Advisory lock classes (pg_try_advisory_lock(int, int)): one anchorer per account, one per election. */
export const ACCOUNT_LOCK_CLASS = 0x7a11ac01;
export const ELECTION_LOCK_CLASS = 0x7a11ac02;

/** Passes over the chain per anchor step: a pass that loses a race to another writer starts over. */
const RECONCILE_PASSES = 3;

/**
 * How the ledger's windows compare with the chain's (sunlight's LoadLog, one case per shape):
 *
 *  - `equal`         chain windowCount = windows recorded as anchored = windows sealed: nothing to do.
 *  - `chain-behind`  recorded <= windowCount < sealed, or windowCount > recorded: windows recorded..count-1
 *                    are on chain but not in the ledger (a crash after the send) and are recorded from
 *                    their WindowAnchored events once their range and root are checked; windows
 *                    count..sealed-1 are sent, in order.
 *  - `chain-ahead`   windowCount > sealed: the chain has windows the ledger never sealed (another
 *                    writer, or a ledger restored from an old backup). Fatal.
 *  - `chain-lost`    windowCount < recorded: windows the ledger saw confirmed are gone (wrong contract,
 *                    chain reset). Fatal.
 * Each window taken from the chain must match the ledger's range and root, else `root-differs`. Fatal.
 */
export type WindowPlan =
  | { kind: 'equal' }
  | { kind: 'chain-behind'; recordFrom: number; recordTo: number; sendFrom: number; sendTo: number }
  | { kind: 'chain-ahead'; message: string }
  | { kind: 'chain-lost'; message: string };

export function planWindows(ledger: { sealed: number; recorded: number }, chainCount: number): WindowPlan {
  const { sealed, recorded } = ledger;
  if (chainCount > sealed) return { kind: 'chain-ahead', message: `the chain has ${chainCount} windows but the ledger sealed only ${sealed}` };
  if (chainCount < recorded) return { kind: 'chain-lost', message: `the ledger recorded ${recorded} windows as anchored but the chain has only ${chainCount} (wrong contract or chain reset?)` };
  if (chainCount === sealed && recorded === sealed) return { kind: 'equal' };
  return { kind: 'chain-behind', recordFrom: recorded, recordTo: chainCount, sendFrom: chainCount, sendTo: sealed };
}

interface ElectionRow {
  electionId: string;
  windowSeconds: number;
  manifestHash: string;
  rollRoot: string | null;
  registrationTx: string | null;
  registrationBlock: number | null;
  closeRequested: boolean;
  closed: boolean;
  resultHash: string | null;
  totalBallots: number | null;
  closeTx: string | null;
  nextSeq: number;
  sealedThrough: number;
  sealedWindows: number;
}

export interface AnchorerOptions {
  /** The ledger, as the application role. */
  sql: Sql;
  chain: ChainClient;
  confirmations: number;
  faults: Faults;
  log: Logger;
  onEvent?: (event: AnchorEvent) => void;
}

export class Anchorer {
  private readonly sql: Sql;
  private readonly chain: ChainClient;
  /** Elections stopped by a divergence; cleared only by a restart. */
  readonly halted = new Map<string, AnchorDivergenceError>();
  /** Chain steps of this process run one at a time: one account, one nonce sequence. */
  private lane: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: AnchorerOptions) {
    this.sql = o.sql;
    this.chain = o.chain;
  }

  // ---------------------------------------------------------------------------------------------
  // Sealing (ledger only, no lock needed: sealWindow is safe against concurrent sealers)
  // ---------------------------------------------------------------------------------------------

  async seal(electionId: string): Promise<SealedWindow | null> {
    let timings = { hashMs: 0, lockedMs: 0 };
    const w = await sealWindow(this.sql, electionId, {
      beforeCommit: () => this.o.faults.hit('before-seal-commit'),
      onTimings: (t) => (timings = t),
    });
    if (w) {
      this.o.faults.hit('after-seal-commit');
      this.o.log('window sealed', { electionId, window: w.index, firstSeq: w.firstSeq, count: w.count, root: w.root, hashMs: Math.round(timings.hashMs), lockedMs: Math.round(timings.lockedMs) });
      this.emit({ type: 'sealed', electionId, window: w.index, firstSeq: w.firstSeq, count: w.count });
    }
    return w;
  }

  /** The highest sealed window not yet anchored, or null. */
  async lastUnanchoredWindow(electionId: string): Promise<number | null> {
    const [r] = await this.sql`SELECT max(window_index) AS i FROM windows WHERE election_id = ${electionId} AND anchor_tx IS NULL`;
    return r?.i == null ? null : Number(r.i);
  }

  // ---------------------------------------------------------------------------------------------
  // Chain steps
  // ---------------------------------------------------------------------------------------------

  /** registerElection once the roll is frozen. Resolves false while the roll is still open. */
  register(electionId: string): Promise<boolean> {
    return this.exclusive(electionId, () => this.ensureRegistered(electionId));
  }

  /** Anchor every sealed window of the election not yet anchored, in order. */
  anchorPending(electionId: string): Promise<void> {
    return this.exclusive(electionId, async () => {
      if (!(await this.ensureRegistered(electionId))) return;
      await this.anchorWindows(electionId);
    });
  }

  /**
   * Close: the head is closed (no ballot can commit any more), the last window is sealed, every window
   * anchored, the result hash computed and kept, then closeElection. Resolves once close_tx is recorded.
   */
  close(electionId: string): Promise<void> {
    return this.exclusive(electionId, async () => {
      let e = await this.election(electionId);
      if (e.closeTx) return;
      if (!e.closed) {
        // UPDATE takes the head row lock, so it waits for any ingest transaction in flight; after it no
        // ballot of this election can commit.
        await this.sql`UPDATE election_heads SET closed = true WHERE election_id = ${electionId}`;
      }
      while (await this.seal(electionId));
      if (!(await this.ensureRegistered(electionId))) throw new Error(`election ${electionId}: cannot close before its roll is frozen and registered`);
      await this.anchorWindows(electionId);
      e = await this.election(electionId);
      if (e.sealedThrough !== e.nextSeq) throw new Error(`election ${electionId}: ballots ${e.sealedThrough}..${e.nextSeq - 1} are not sealed yet`);

      const tally = await computeTally(this.sql, electionId);
      if (tally.totalBallots !== e.nextSeq) throw new Error(`election ${electionId}: the tally counts ${tally.totalBallots} ballots but the head says ${e.nextSeq}`);
      const hash = resultHash(tally);
      if (e.resultHash === null) {
        // Kept before the send, so a restart closes with the very same result.
        await this.sql`UPDATE elections SET result_hash = ${Buffer.from(hash, 'hex')}, total_ballots = ${tally.totalBallots} WHERE election_id = ${electionId} AND result_hash IS NULL`;
      } else if (e.resultHash !== hash || e.totalBallots !== tally.totalBallots) {
        throw this.diverge(electionId, 'result-changed', `the stored result hash ${e.resultHash} (${e.totalBallots} ballots) differs from the recount ${hash} (${tally.totalBallots} ballots); the ballots changed after close`);
      }

      await this.chain.settle();
      const onChain = await this.chain.getElection(electionId);
      if (!onChain) throw this.diverge(electionId, 'registration-lost', 'the ledger recorded a registration but the chain has none');
      let done: ConfirmedTx | ChainEvent;
      if (onChain.closed) {
        if (onChain.resultHash !== hash || onChain.totalBallots !== tally.totalBallots) {
          throw this.diverge(electionId, 'close-differs', `closed on chain with resultHash ${onChain.resultHash} (${onChain.totalBallots} ballots), the ledger's result is ${hash} (${tally.totalBallots} ballots)`);
        }
        const ev = await this.chain.findElectionClosed(electionId, e.registrationBlock ?? 0);
        if (!ev) throw new ChainUnavailableError(`election ${electionId}: closed on chain but its ElectionClosed event is not visible yet`);
        this.o.log('close found on chain, recording it', { electionId, case: 'chain-equal', txHash: ev.txHash });
        done = ev;
      } else {
        const sent = await this.chain.sendCloseElection(electionId, hash, tally.totalBallots);
        this.o.faults.hit('after-close-send');
        done = await this.chain.waitForConfirmation(sent, this.o.confirmations);
      }
      await this.sql`UPDATE elections SET close_tx = ${done.txHash}, close_block = ${done.blockNumber} WHERE election_id = ${electionId} AND close_tx IS NULL`;
      this.o.log('election closed on chain', { electionId, txHash: done.txHash, blockNumber: done.blockNumber, resultHash: hash, totalBallots: tally.totalBallots });
      this.emit({ type: 'closed', electionId, txHash: done.txHash, recovered: onChain.closed });
    });
  }

  private async ensureRegistered(electionId: string): Promise<boolean> {
    const e = await this.election(electionId);
    if (e.registrationTx) return true;
    if (!e.rollRoot) return false;
    await this.chain.settle();
    const onChain = await this.chain.getElection(electionId);
    let done: ConfirmedTx | ChainEvent;
    if (onChain) {
      // Registered by an earlier run that died before recording it (or by another writer): adopt it
      // only if it says what the ledger says.
      if (onChain.manifestHash !== e.manifestHash || onChain.rollRoot !== e.rollRoot) {
        throw this.diverge(electionId, 'registration-differs', `registered on chain with manifestHash ${onChain.manifestHash} and rollRoot ${onChain.rollRoot}, the ledger has ${e.manifestHash} and ${e.rollRoot}`);
      }
      const ev = await this.chain.findElectionRegistered(electionId);
      if (!ev) throw new ChainUnavailableError(`election ${electionId}: registered on chain but its ElectionRegistered event is not visible yet`);
      this.o.log('registration found on chain, recording it', { electionId, case: 'chain-equal', txHash: ev.txHash });
      done = ev;
    } else {
      const sent = await this.chain.sendRegisterElection(electionId, e.manifestHash, e.rollRoot);
      this.o.faults.hit('after-register-send');
      done = await this.chain.waitForConfirmation(sent, this.o.confirmations);
    }
    await this.sql`UPDATE elections SET registration_tx = ${done.txHash}, registration_block = ${done.blockNumber} WHERE election_id = ${electionId} AND registration_tx IS NULL`;
    this.o.log('election registered on chain', { electionId, txHash: done.txHash, blockNumber: done.blockNumber });
    this.emit({ type: 'registered', electionId, txHash: done.txHash, recovered: onChain !== null });
    return true;
  }

  private async anchorWindows(electionId: string): Promise<void> {
    for (let pass = 1; ; pass++) {
      try {
        await this.anchorPass(electionId);
        return;
      } catch (err) {
        // The contract refused: the chain moved under us (another writer, or our own earlier transaction
        // mined late). Compare again; the next pass names the case.
        if (!(err instanceof ChainRevertError) || pass >= RECONCILE_PASSES) throw err;
        if (err.errorName === 'TallyAnchorElectionAlreadyClosed') throw this.diverge(electionId, 'closed-on-chain', `the chain closed the election but the ledger has windows to anchor: ${err.message}`);
        if (err.errorName === 'TallyAnchorElectionNotRegistered') throw this.diverge(electionId, 'registration-lost', `the ledger recorded a registration but the chain has none: ${err.message}`);
        this.o.log('anchor refused by the contract, reconciling again', { level: 'warn', electionId, error: err.message });
      }
    }
  }

  private async anchorPass(electionId: string): Promise<void> {
    // No transaction of ours may be in flight while we compare: it could land after the comparison.
    await this.chain.settle();
    const e = await this.election(electionId);
    const [{ recorded }] = await this.sql`SELECT count(*)::int AS recorded FROM windows WHERE election_id = ${electionId} AND anchor_tx IS NOT NULL`;
    const chainCount = await this.chain.windowCount(electionId);
    const plan = planWindows({ sealed: e.sealedWindows, recorded: recorded as number }, chainCount);
    if (plan.kind === 'chain-ahead' || plan.kind === 'chain-lost') throw this.diverge(electionId, plan.kind, plan.message);
    if (recorded > 0) await this.checkAgainstChain(electionId, (recorded as number) - 1); // the newest recorded window still stands
    if (plan.kind === 'equal') return;

    const windows = await this.sql`
      SELECT window_index, first_seq, count, encode(root, 'hex') AS root, anchor_tx FROM windows
      WHERE election_id = ${electionId} AND window_index >= ${plan.recordFrom} ORDER BY window_index`;
    if (windows.some((w) => w.anchor_tx !== null)) throw new Error(`election ${electionId}: anchored windows are not a prefix of the sealed ones`);
    const byIndex = new Map(windows.map((w) => [Number(w.window_index), { index: Number(w.window_index), firstSeq: Number(w.first_seq), count: Number(w.count), root: w.root as string }]));

    for (let i = plan.recordFrom; i < plan.recordTo; i++) {
      const w = byIndex.get(i)!;
      await this.checkAgainstChain(electionId, i);
      const ev = await this.chain.findWindowAnchored(electionId, i, e.registrationBlock ?? 0);
      if (!ev) throw new ChainUnavailableError(`election ${electionId}: window ${i} is on chain but its WindowAnchored event is not visible yet`);
      await this.recordAnchor(electionId, w.index, ev);
      this.o.log('window anchored earlier, recorded from the chain', { electionId, window: i, case: 'chain-behind/record', txHash: ev.txHash });
      this.emit({ type: 'anchored', electionId, window: i, txHash: ev.txHash, blockNumber: ev.blockNumber, recovered: true });
    }
    for (let i = plan.sendFrom; i < plan.sendTo; i++) {
      const w = byIndex.get(i)!;
      const sent = await this.chain.sendAnchorWindow(electionId, w);
      this.o.faults.hit('after-anchor-send');
      const done = await this.chain.waitForConfirmation(sent, this.o.confirmations);
      this.o.faults.hit('after-anchor-mined');
      await this.recordAnchor(electionId, w.index, done);
      this.o.faults.hit('after-anchor-record');
      this.o.log('window anchored', { electionId, window: i, firstSeq: w.firstSeq, count: w.count, txHash: done.txHash, blockNumber: done.blockNumber, gasUsed: Number(done.gasUsed) });
      this.emit({ type: 'anchored', electionId, window: i, txHash: done.txHash, blockNumber: done.blockNumber, recovered: false, gasUsed: Number(done.gasUsed) });
    }
  }

  /** The chain's window `index` must have the ledger's range and root. */
  private async checkAgainstChain(electionId: string, index: number): Promise<void> {
    const [w] = await this.sql`SELECT first_seq, count, encode(root, 'hex') AS root FROM windows WHERE election_id = ${electionId} AND window_index = ${index}`;
    const onChain = await this.chain.getWindow(electionId, index);
    if (!onChain) throw this.diverge(electionId, 'chain-lost', `window ${index} is missing on chain`);
    if (onChain.firstSeq !== Number(w!.first_seq) || onChain.count !== Number(w!.count) || onChain.root !== w!.root) {
      throw this.diverge(electionId, 'root-differs', `window ${index} on chain is seqs ${onChain.firstSeq}+${onChain.count} with root ${onChain.root}, the ledger sealed seqs ${w!.first_seq}+${w!.count} with root ${w!.root}`);
    }
  }

  private async recordAnchor(electionId: string, index: number, tx: { txHash: string; blockNumber: number }): Promise<void> {
    const rows = await this.sql`
      UPDATE windows SET anchor_tx = ${tx.txHash}, anchor_block = ${tx.blockNumber}, anchored_at = clock_timestamp()
      WHERE election_id = ${electionId} AND window_index = ${index} AND anchor_tx IS NULL RETURNING 1`;
    if (rows.count === 0) {
      const [w] = await this.sql`SELECT anchor_tx FROM windows WHERE election_id = ${electionId} AND window_index = ${index}`;
      if (w?.anchor_tx !== tx.txHash) throw new Error(`election ${electionId}: window ${index} is recorded with anchor ${w?.anchor_tx ?? 'none'}, not ${tx.txHash}`);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Plumbing
  // ---------------------------------------------------------------------------------------------

  private diverge(electionId: string, reconcileCase: string, message: string): AnchorDivergenceError {
    const err = new AnchorDivergenceError(electionId, reconcileCase, message);
    this.halted.set(electionId, err);
    this.o.log(`HALTED: ${err.message}; nothing more is sent for this election until an operator restarts the worker`, { level: 'error', electionId, case: reconcileCase });
    this.emit({ type: 'halted', electionId, case: reconcileCase, message: err.message });
    return err;
  }

  private emit(event: AnchorEvent): void {
    try {
      this.o.onEvent?.(event);
    } catch (err) {
      this.o.log('event listener failed', { level: 'warn', event: event.type, error: (err as Error).message });
    }
  }

  /**
   * Run a chain step alone: after this process's previous chain step (one nonce sequence), and holding
   * the PostgreSQL advisory locks of the account and of the election, so a second worker on the same
   * ledger waits its turn instead of racing. The locks are session locks on a reserved connection: they
   * vanish with the connection if this process dies.
   */
  private exclusive<T>(electionId: string, fn: () => Promise<T>): Promise<T> {
    const run = async () => {
      const halted = this.halted.get(electionId);
      if (halted) throw halted;
      const conn = await this.sql.reserve();
      const locks: [number, string][] = [
        [ACCOUNT_LOCK_CLASS, `${this.chain.contractAddress}/${this.chain.account}`.toLowerCase()],
        [ELECTION_LOCK_CLASS, `${this.chain.contractAddress.toLowerCase()}/${electionId}`],
      ];
      const held: [number, string][] = [];
      try {
        for (const [cls, name] of locks) {
          const [{ ok }] = await conn`SELECT pg_try_advisory_lock(${cls}::int, hashtext(${name})) AS ok`;
          if (!ok) throw new AnchorerBusyError(`another worker holds the anchorer lock on ${name}`);
          held.push([cls, name]);
        }
        return await fn();
      } finally {
        for (const [cls, name] of held.reverse()) await conn`SELECT pg_advisory_unlock(${cls}::int, hashtext(${name}))`.catch(() => undefined);
        conn.release();
      }
    };
    const result = this.lane.then(run, run);
    this.lane = result.catch(() => undefined);
    return result;
  }

  /** Resolves once the chain steps queued so far have finished. */
  idle(): Promise<void> {
    return this.lane.then(() => undefined);
  }

  private async election(electionId: string): Promise<ElectionRow> {
    const [r] = await this.sql`
      SELECT e.election_id, e.window_seconds, encode(e.manifest_hash, 'hex') AS manifest_hash, encode(e.roll_root, 'hex') AS roll_root,
             e.registration_tx, e.registration_block, e.close_requested_at IS NOT NULL AS close_requested,
             encode(e.result_hash, 'hex') AS result_hash, e.total_ballots, e.close_tx,
             h.closed, h.next_seq, h.sealed_through, h.next_window_index
      FROM elections e JOIN election_heads h USING (election_id) WHERE e.election_id = ${electionId}`;
    if (!r) throw new Error(`no election ${electionId}`);
    return {
      electionId,
      windowSeconds: Number(r.window_seconds),
      manifestHash: r.manifest_hash as string,
      rollRoot: (r.roll_root as string | null) ?? null,
      registrationTx: (r.registration_tx as string | null) ?? null,
      registrationBlock: r.registration_block == null ? null : Number(r.registration_block),
      closeRequested: Boolean(r.close_requested),
      closed: Boolean(r.closed),
      resultHash: (r.result_hash as string | null) ?? null,
      totalBallots: r.total_ballots == null ? null : Number(r.total_ballots),
      closeTx: (r.close_tx as string | null) ?? null,
      nextSeq: Number(r.next_seq),
      sealedThrough: Number(r.sealed_through),
      sealedWindows: Number(r.next_window_index),
    };
  }

  /** For status(): windows sealed but not anchored, and the age of the oldest ballot not yet anchored. */
  async backlog(): Promise<{ pendingWindows: number; anchorLagSeconds: number }> {
    const p = await anchoringProgress(this.sql);
    return { pendingWindows: p.sealedWindows - p.anchoredWindows, anchorLagSeconds: Math.round(p.lagSeconds * 1000) / 1000 };
  }
}
