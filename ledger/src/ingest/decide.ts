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
  /** The credential's shard (docs/protocol.md 13.2) in an election of several; absent in one of one shard. */
  shard?: number;
}

/** An election shard's head row as read under its lock. */
export interface HeadState {
  nextSeq: number;
  closed: boolean;
}

/** A stored ballot, as a receipt names it. */
export interface StoredBallot {
  /** Present exactly when the election has several shards: the shard whose sequence `seq` is in. */
  shard?: number;
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
  /** New next_seq of each election shard that accepted ballots. */
  heads: { electionId: string; shard: number; nextSeq: number }[];
  /** Indexes of the refused ballots, in the order their audit rows are written. */
  refusals: number[];
}

export const credentialKey = (electionId: string, credHex: string) => `${electionId}/${credHex}`;
/** The key of an election shard's head (shard 0 for an election of one shard). */
export const headKey = (electionId: string, shard = 0) => `${electionId}#${shard}`;

/**
 * Decide a batch. Election shards are taken in (id, shard) order (the order their heads were locked),
 * ballots of a shard in batch order; seqs are given from the shard head's next_seq on, gap-free. Per ballot:
 * not on the roll → refused; election closed (by its head or its scheduled close at `receivedAtMs`) →
 * refused; the credential already cast the same ballot → the original receipt; another ballot → duplicate
 * with the credential's running attempt count; else accepted with the next seq. A credential that appears
 * twice in one batch is decided in order, as if the ballots had come in two transactions.
 */
export function decide(
  ballots: readonly CheckedBallot[],
  /** By headKey. */
  heads: ReadonlyMap<string, HeadState>,
  known: ReadonlyMap<string, CredentialState>,
  receivedAtMs: number,
): BatchDecision {
  const receivedAt = new Date(receivedAtMs).toISOString();
  const decisions: Decision[] = new Array(ballots.length);
  const inserts: number[] = [];
  const refusals: number[] = [];
  const newHeads: BatchDecision['heads'] = [];

  const byHead = new Map<string, { electionId: string; shard: number; ballots: number[] }>();
  ballots.forEach((b, i) => {
    const key = headKey(b.electionId, b.shard);
    const group = byHead.get(key);
    if (group) group.ballots.push(i);
    else byHead.set(key, { electionId: b.electionId, shard: b.shard ?? 0, ballots: [i] });
  });
  const headOrder = [...byHead.values()].sort((a, b) =>
    a.electionId < b.electionId ? -1 : a.electionId > b.electionId ? 1 : a.shard - b.shard,
  );
  // Decisions change what later ballots of the batch see: work on copies.
  const state = new Map<string, CredentialState>();
  const stateOf = (electionId: string, credHex: string, shard: number | undefined): CredentialState => {
    const key = credentialKey(electionId, credHex);
    let s = state.get(key);
    if (!s) {
      const k = known.get(key);
      if (!k) throw new Error(`decide: no lookup result for credential ${credHex} of election ${electionId}`);
      // A credential's stored ballot is in the credential's shard: its receipt names it.
      s = { ...k, existing: k.existing && shard !== undefined ? { shard, ...k.existing } : k.existing };
      state.set(key, s);
    }
    return s;
  };

  for (const { electionId, shard, ballots: indexes } of headOrder) {
    const head = heads.get(headKey(electionId, shard));
    if (!head) throw new Error(`decide: election ${electionId} has no head for shard ${shard}`);
    let next = head.nextSeq;
    for (const i of indexes) {
      const b = ballots[i]!;
      const rec = stateOf(electionId, b.credHex, b.shard);
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
        rec.existing =
          b.shard === undefined
            ? { seq: next, hashHex: b.hashHex, receivedAt }
            : { shard, seq: next, hashHex: b.hashHex, receivedAt };
        decisions[i] = { kind: 'accepted', ballot: rec.existing };
        inserts.push(i);
        next++;
      }
    }
    if (next !== head.nextSeq) newHeads.push({ electionId, shard, nextSeq: next });
  }
  return { decisions, inserts, heads: newHeads, refusals };
}
