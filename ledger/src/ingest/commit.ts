// The ingest transaction: the SQL of "Life of a ballot", step 5 (ledger/README.md). One transaction per
// batch: the heads of the batch's elections locked, their credentials looked up, decide() run, the
// ballots, the new heads and the audit rows written. Nothing of the batch is visible before COMMIT.
import type { Sql } from 'postgres';
import {
  credentialKey,
  decide,
  headKey,
  type BatchDecision,
  type CheckedBallot,
  type CredentialState,
  type HeadState,
} from './decide.js';
import { insertRefusals, type Refusal } from './refusals.js';

/** A ballot to commit: checked, with the exact bytes to store. */
export interface BallotToCommit extends CheckedBallot {
  ballotJcs: string;
  sigHex: string;
  /** The client's address: counts a refusal of a credential that is not on the roll. */
  client: string | null;
  /** A sharded election's ballot: the index of the cluster holding its shard (db/clusters.ts). */
  cluster?: number;
}

/**
 * What the ledger knows of each (election, credential hex) pair of a batch, $1 and $2 being parallel text
 * arrays: on the roll or not; its ballot if one is stored; its refused duplicate attempts so far. It must
 * stay one index probe per credential as the roll and the ledger grow. Written as a plain join it was
 * planned as hash joins over the whole roll and ledger: a full scan in every ingest transaction, ~10 ms of
 * PostgreSQL CPU at 465,000 credentials, rising with every ballot. So each lookup is a LATERAL subquery
 * with LIMIT (or an aggregate), which the planner cannot flatten into a join; and the transaction plans
 * it afresh each time (plan_cache_mode = force_custom_plan, ~0.2 ms), because a generic plan cached while
 * the ballots table was nearly empty may probe it by election alone, reading every ballot of the election
 * per credential, and keep doing so for as long as no ANALYZE runs (autovacuum may be off, as it is on the
 * development machine). (Sent unprepared instead, it would cost postgres.js a Describe round trip per
 * transaction, under the head lock.) ledger/test/ingest-plan.test.ts holds the plan to index probes.
 */
export const CREDENTIAL_LOOKUP_SQL = `
  SELECT q.e, q.x AS c, r.one IS NOT NULL AS on_roll, b.seq, encode(b.ballot_hash, 'hex') AS h, b.received_at,
         a.attempts
  FROM unnest($1::text[], $2::text[]) AS q(e, x)
  LEFT JOIN LATERAL (SELECT 1 AS one FROM credentials cr
                     WHERE cr.election_id = q.e AND cr.credential = decode(q.x, 'hex') LIMIT 1) r ON true
  LEFT JOIN LATERAL (SELECT seq, ballot_hash, received_at FROM ballots b
                     WHERE b.election_id = q.e AND b.credential = decode(q.x, 'hex') LIMIT 1) b ON true
  LEFT JOIN LATERAL (SELECT least(count, 2147483647)::int AS attempts FROM rejected_attempt_counts rc
                     WHERE b.seq IS NOT NULL AND rc.election_id = q.e AND rc.credential = decode(q.x, 'hex')
                       AND rc.client IS NULL AND rc.reason = 'duplicate' LIMIT 1) a ON true`;

/**
 * The count a ballot decide() refused adds to: its credential's when the credential is on the roll (a
 * duplicate's row is the running attempt count read by CREDENTIAL_LOOKUP_SQL), else its client's (a key
 * not on the roll is anyone's choice: counting under it would let a client add rows without bound).
 */
function refusalOf(b: BallotToCommit, d: BatchDecision['decisions'][number]): Refusal {
  const row = { electionId: b.electionId, client: b.client, hashHex: b.hashHex };
  if (d.kind === 'duplicate') {
    return { ...row, credHex: b.credHex, code: 'duplicate', detail: `credential already cast seq ${d.ballot.seq}` };
  }
  if (d.kind !== 'rejected') throw new Error(`refusalOf: ${d.kind} is not a refusal`);
  const credHex = d.code === 'credential-not-on-roll' ? null : b.credHex;
  return { ...row, credHex, code: d.code, detail: d.detail };
}

/**
 * Commit a batch: resolves with every ballot's decision once the transaction has committed (then, and
 * only then, the ballots and audit rows are durable); rejects when it did not commit, in which case
 * nothing of the batch is stored. `onDecided` runs once everything a receipt says is known, while the
 * writes and COMMIT are still in flight (the caller signs receipts then and releases none before COMMIT).
 *
 * The election heads are locked for the whole transaction, so the time between the lock and COMMIT bounds
 * ingest: the statements go out pipelined — the head lock and the credential lookup together (the lookup
 * runs after the lock is granted, with a fresh READ COMMITTED snapshot, so it sees every ballot committed
 * before it), then the writes together. (postgres.js's reserve() would also pipeline BEGIN and COMMIT, but
 * a reserved connection that dies is handed back to the pool and crashes the next query on it; sql.begin
 * fails the transaction cleanly when its connection closes.)
 */
export async function commitBatch(
  sql: Sql,
  ballots: readonly BallotToCommit[],
  earlierRefusals: readonly Refusal[],
  receivedAtMs: number,
  onDecided: (decision: BatchDecision) => void = () => {},
): Promise<BatchDecision> {
  if (ballots.length === 0) {
    // Only refusals: one statement, its own transaction, no lock.
    if (earlierRefusals.length > 0) await insertRefusals(sql, earlierRefusals);
    const none: BatchDecision = { decisions: [], inserts: [], heads: [], refusals: [] };
    onDecided(none);
    return none;
  }
  const receivedAt = new Date(receivedAtMs).toISOString();
  // The batch's election shards, in lock order (election id, then shard): every transaction locks heads in
  // this one order, so two batches never wait on each other in a cycle.
  const headPairs = new Map<string, [string, number]>();
  for (const b of ballots) headPairs.set(headKey(b.electionId, b.shard), [b.electionId, b.shard ?? 0]);
  const headE = [...headPairs.values()].map((p) => p[0]);
  const headS = [...headPairs.values()].map((p) => p[1]);
  // The (election, credential) pairs to look up, once each.
  const pairs = new Map<string, [string, string]>();
  for (const b of ballots) pairs.set(credentialKey(b.electionId, b.credHex), [b.electionId, b.credHex]);
  const lookupE = [...pairs.values()].map((p) => p[0]);
  const lookupC = [...pairs.values()].map((p) => p[1]);

  let decided: BatchDecision | null = null;
  await sql.begin(async (tx) => {
    const [, heads, known] = await Promise.all([
      // Plan this transaction's statements for the tables as they are now (see CREDENTIAL_LOOKUP_SQL).
      tx`SET LOCAL plan_cache_mode = force_custom_plan`,
      tx`SELECT h.election_id, h.shard, h.next_seq, h.closed FROM election_heads h
         JOIN unnest(${headE}::text[], ${headS}::int[]) AS q(e, s) ON h.election_id = q.e AND h.shard = q.s
         ORDER BY h.election_id, h.shard FOR UPDATE OF h`,
      tx.unsafe(CREDENTIAL_LOOKUP_SQL, [lookupE, lookupC], { prepare: true }),
    ]);
    const headMap = new Map<string, HeadState>(
      heads.map((h) => [
        headKey(h.election_id as string, Number(h.shard)),
        { nextSeq: Number(h.next_seq), closed: Boolean(h.closed) },
      ]),
    );
    const knownMap = new Map<string, CredentialState>(
      known.map((r) => [
        credentialKey(r.e as string, r.c as string),
        {
          onRoll: Boolean(r.on_roll),
          existing:
            r.seq == null
              ? null
              : { seq: Number(r.seq), hashHex: r.h as string, receivedAt: (r.received_at as Date).toISOString() },
          attempts: r.attempts == null ? 0 : Number(r.attempts),
        },
      ]),
    );
    const d = decide(ballots, headMap, knownMap, receivedAtMs);
    decided = d;

    const writes: Promise<unknown>[] = [];
    if (d.inserts.length > 0) {
      const rows = d.inserts.map((i) => ({
        b: ballots[i]!,
        seq: (d.decisions[i] as { ballot: { seq: number } }).ballot.seq,
      }));
      writes.push(tx`
        INSERT INTO ballots (election_id, shard, seq, ballot_hash, credential, ballot, signature, received_at)
        SELECT e, sh, seq, decode(h, 'hex'), decode(c, 'hex'), b, decode(s, 'hex'), ${receivedAt}::timestamptz
        FROM unnest(${rows.map((r) => r.b.electionId)}::text[], ${rows.map((r) => r.b.shard ?? 0)}::int[],
                    ${rows.map((r) => r.seq)}::bigint[],
                    ${rows.map((r) => r.b.hashHex)}::text[], ${rows.map((r) => r.b.credHex)}::text[],
                    ${rows.map((r) => r.b.ballotJcs)}::text[], ${rows.map((r) => r.b.sigHex)}::text[])
             AS t(e, sh, seq, h, c, b, s)`);
    }
    for (const h of d.heads) {
      writes.push(tx`UPDATE election_heads SET next_seq = ${h.nextSeq}
                     WHERE election_id = ${h.electionId} AND shard = ${h.shard}`);
    }
    const refusals = [...earlierRefusals, ...d.refusals.map((i) => refusalOf(ballots[i]!, d.decisions[i]!))];
    if (refusals.length > 0) writes.push(insertRefusals(tx, refusals));
    onDecided(d);
    await Promise.all(writes);
  });
  return decided!;
}
