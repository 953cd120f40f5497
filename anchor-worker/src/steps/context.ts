// What every step shares: the ledger and the chain, the lane that runs chain steps one at a time under
// the anchorer locks, and the two ways a step reports (an event; a halt on a divergence).
import type { Sql } from 'postgres';
import { LedgerClusters } from '../../../ledger/src/index.js';
import { withAdvisoryLocks } from '../../../ledger/src/index.js';
import type { Logger } from '../../../jobs/src/index.js';
import type { ChainClient } from '../chain.js';
import { AnchorDivergenceError, AnchorerBusyError } from '../errors.js';
import type { Faults } from '../faults.js';

/** What the worker did, for metrics and benchmarks (the log says the same in words). */
export type AnchorEvent =
  | { type: 'sealed'; electionId: string; window: number; firstSeq: number; count: number }
  | { type: 'registered'; electionId: string; txHash: string; recovered: boolean }
  /** recovered: found on chain after a crash rather than sent now; gasUsed only for a send. */
  | {
      type: 'anchored';
      electionId: string;
      window: number;
      txHash: string;
      blockNumber: number;
      recovered: boolean;
      gasUsed?: number;
    }
  /** A sharded election's interval (docs/protocol.md 13.4), sent now. */
  | {
      type: 'interval-anchored';
      electionId: string;
      interval: number;
      windows: number;
      ballots: number;
      txHash: string;
      blockNumber: number;
      gasUsed: number;
    }
  | { type: 'closed'; electionId: string; txHash: string; recovered: boolean }
  | { type: 'halted'; electionId: string; case: string; message: string };

/** Advisory lock classes (pg_try_advisory_lock(int, int)): one anchorer per account, one per election. */
export const ACCOUNT_LOCK_CLASS = 0x7a11ac01;
export const ELECTION_LOCK_CLASS = 0x7a11ac02;

export interface AnchorerOptions {
  /** The ledger, as the application role (the home cluster when there are several). */
  sql: Sql;
  /** The home and the shard clusters (ledger/src/db/clusters.ts); default: the home alone. */
  clusters?: LedgerClusters;
  chain: ChainClient;
  confirmations: number;
  faults: Faults;
  log: Logger;
  onEvent?: (event: AnchorEvent) => void;
}

export class StepContext {
  readonly sql: Sql;
  readonly clusters: LedgerClusters;
  readonly chain: ChainClient;
  readonly confirmations: number;
  readonly faults: Faults;
  readonly log: Logger;
  /** Elections stopped by a divergence; cleared only by a restart. */
  readonly halted = new Map<string, AnchorDivergenceError>();
  /** Chain steps of this process run one at a time: one account, one nonce sequence. */
  private lane: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: AnchorerOptions) {
    this.sql = o.sql;
    this.clusters = o.clusters ?? new LedgerClusters(o.sql);
    this.chain = o.chain;
    this.confirmations = o.confirmations;
    this.faults = o.faults;
    this.log = o.log;
  }

  /** Halt the election (no further chain write from this worker until a restart) and say so loudly. */
  diverge(electionId: string, reconcileCase: string, message: string): AnchorDivergenceError {
    const err = new AnchorDivergenceError(electionId, reconcileCase, message);
    this.halted.set(electionId, err);
    this.log(`HALTED: ${err.message}; nothing more is sent for this election until an operator restarts the worker`, {
      level: 'error',
      electionId,
      case: reconcileCase,
    });
    this.emit({ type: 'halted', electionId, case: reconcileCase, message: err.message });
    return err;
  }

  emit(event: AnchorEvent): void {
    try {
      this.o.onEvent?.(event);
    } catch (err) {
      this.log('event listener failed', { level: 'warn', event: event.type, error: (err as Error).message });
    }
  }

  /**
   * Run a chain step alone: after this process's previous chain step (one nonce sequence), and holding
   * the PostgreSQL advisory locks of the account and of the election, so a second worker on the same
   * ledger waits its turn instead of racing. The locks vanish with their connection if this process dies.
   */
  exclusive<T>(electionId: string, fn: () => Promise<T>): Promise<T> {
    const run = async () => {
      const halted = this.halted.get(electionId);
      if (halted) throw halted;
      const contract = this.chain.contractAddress;
      const r = await withAdvisoryLocks(
        this.sql,
        [
          { classId: ACCOUNT_LOCK_CLASS, name: `${contract}/${this.chain.account}`.toLowerCase() },
          { classId: ELECTION_LOCK_CLASS, name: `${contract.toLowerCase()}/${electionId}` },
        ],
        fn,
      );
      if (!r.held) throw new AnchorerBusyError(`another worker holds the anchorer lock on ${r.busyLock}`);
      return r.value;
    };
    const result = this.lane.then(run, run);
    this.lane = result.catch(() => undefined);
    return result;
  }

  /** Resolves once the chain steps queued so far have finished. */
  idle(): Promise<void> {
    return this.lane.then(() => undefined);
  }
}
