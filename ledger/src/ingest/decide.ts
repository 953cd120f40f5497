// The ingest rule, as a pure function: what the ledger knows of a batch's credentials (read under the
// election heads' locks) goes in, one outcome per ballot comes out, with the rows to write. No I/O, so it
// is unit-tested without a database (ledger/test/decide.test.ts); commit.ts reads the inputs and writes
// the outputs inside one transaction.
import type { ErrorCode } from '../protocol/errors.js';

/** A ballot that passed every check that needs no lock: shape, election, selections or proofs, signature. */
export interface CheckedBallot {
  electionId: string;
  /** The election's scheduled close (ms since the epoch). */
  closesAtMs: number;
  credHex: string;
  hashHex: string;
}

/** An election's head row as read under its lock. */
export interface HeadState {
  nextSeq: number;
  closed: boolean;
}

/** A stored ballot, as a receipt names it. */
export interface StoredBallot {
  seq: number;
  hashHex: string;
  receivedAt: string;
}

/** What the ledger holds for one (election, credential) pair. */
export interface CredentialState {
  onRoll: boolean;
  existing: StoredBallot | null;
  /** Refused duplicate attempts of this credential so far. */
  attempts: number;
}

export type Decision =
  | { kind: 'accepted'; ballot: StoredBallot }
  | { kind: 'resubmitted'; ballot: StoredBallot }
  | { kind: 'duplicate'; ballot: StoredBallot; attemptCount: number }
  /** `detail` goes into the audit row, `message` to the client. */
  | { kind: 'rejected'; code: ErrorCode; detail: string; message: string };

export interface BatchDecision {
  /** Parallel to the ballots given. */
  decisions: Decision[];
  /** Indexes of the accepted ballots, in seq order (the rows to insert). */
  inserts: number[];
  /** New next_seq of each election that accepted ballots. */
  heads: { electionId: string; nextSeq: number }[];
  /** Indexes of the refused ballots, in the order their audit rows are written. */
  refusals: number[];
}

export const credentialKey = (electionId: string, credHex: string) => `${electionId}/${credHex}`;

/**
 * Decide a batch. Elections are taken in id order (the order their heads were locked), ballots of an
 * election in batch order; seqs are given from the head's next_seq on, gap-free. Per ballot:
 * not on the roll → refused; election closed (by its head or its scheduled close at `receivedAtMs`) →
 * refused; the credential already cast the same ballot → the original receipt; another ballot → duplicate
 * with the credential's running attempt count; else accepted with the next seq. A credential that appears
 * twice in one batch is decided in order, as if the ballots had come in two transactions.
 */
export function decide(
  ballots: readonly CheckedBallot[],
  heads: ReadonlyMap<string, HeadState>,
  known: ReadonlyMap<string, CredentialState>,
  receivedAtMs: number,
): BatchDecision {
  const receivedAt = new Date(receivedAtMs).toISOString();
  const decisions: Decision[] = new Array(ballots.length);
  const inserts: number[] = [];
  const refusals: number[] = [];
  const newHeads: { electionId: string; nextSeq: number }[] = [];

  const byElection = new Map<string, number[]>();
  ballots.forEach((b, i) => {
    const list = byElection.get(b.electionId);
    if (list) list.push(i);
    else byElection.set(b.electionId, [i]);
  });
  // Decisions change what later ballots of the batch see: work on copies.
  const state = new Map<string, CredentialState>();
  const stateOf = (electionId: string, credHex: string): CredentialState => {
    const key = credentialKey(electionId, credHex);
    let s = state.get(key);
    if (!s) {
      const k = known.get(key);
      if (!k) throw new Error(`decide: no lookup result for credential ${credHex} of election ${electionId}`);
      s = { ...k };
      state.set(key, s);
    }
    return s;
  };

  for (const electionId of [...byElection.keys()].sort()) {
    const head = heads.get(electionId);
    if (!head) throw new Error(`decide: election ${electionId} has no head`);
    let next = head.nextSeq;
    for (const i of byElection.get(electionId)!) {
      const b = ballots[i]!;
      const rec = stateOf(electionId, b.credHex);
      if (!rec.onRoll) {
        decisions[i] = {
          kind: 'rejected',
          code: 'credential-not-on-roll',
          detail: `credential ${b.credHex} is not on the roll`,
          message: `credential ${b.credHex} is not on the roll of ${electionId}`,
        };
        refusals.push(i);
      } else if (head.closed || receivedAtMs >= b.closesAtMs) {
        decisions[i] = {
          kind: 'rejected',
          code: 'election-closed',
          detail: 'the election is closed',
          message: `election ${electionId} is closed`,
        };
        refusals.push(i);
      } else if (rec.existing) {
        if (rec.existing.hashHex === b.hashHex) {
          decisions[i] = { kind: 'resubmitted', ballot: rec.existing };
        } else {
          rec.attempts += 1;
          decisions[i] = { kind: 'duplicate', ballot: rec.existing, attemptCount: rec.attempts };
          refusals.push(i);
        }
      } else {
        rec.existing = { seq: next, hashHex: b.hashHex, receivedAt };
        decisions[i] = { kind: 'accepted', ballot: rec.existing };
        inserts.push(i);
        next++;
      }
    }
    if (next !== head.nextSeq) newHeads.push({ electionId, nextSeq: next });
  }
  return { decisions, inserts, heads: newHeads, refusals };
}
