// Closing an election: the one path. The API's close route and the anchor worker's close request close
// the head with closeHead; the API's route and the worker's close step take the result with
// closeElection (an encrypted election's with closeEncryptedElection, encrypted/tally.ts, once the
// trustees have decrypted). Nothing else writes election_heads.closed or the stored result.
import type { Sql } from 'postgres';
import { ProtocolError } from './protocol/errors.js';
import { getElection, type ElectionRecord } from './elections/index.js';
import { computeTally, computeTallyOnClusters, resultHash, type TallyResult } from './tally.js';
import type { LedgerClusters } from './db/clusters.js';

/** The head as closeHead left it, and the result stored so far (null until the first closeElection). */
export interface ClosedHead {
  /** Ballots committed, all shards together; final since the heads are closed. */
  nextSeq: number;
  /** Per shard (index = shard): its ballots are seqs 0 .. n-1 of that shard. One entry for one shard. */
  shardNextSeq: number[];
  resultHash: string | null;
  totalBallots: number | null;
}

/** A result as closeElection computes or stores it. */
export interface ElectionResult {
  resultHash: string;
  totalBallots: number;
}

export interface ClosedElection {
  /** The election as read before the close, with closed = true. */
  election: ElectionRecord;
  nextSeq: number;
  /** The recount of seqs 0 .. nextSeq-1. */
  tally: TallyResult;
  /** What this recount gives. */
  recount: ElectionResult;
  /** What the ledger keeps: this recount, or the result an earlier or concurrent close stored first. */
  stored: ElectionResult;
}

/**
 * Resolves once the heads (one per shard, locked in shard order) are closed and the close is on record
 * (close_requested_at, set once). Every ingest transaction takes the same head-row locks and re-reads
 * `closed`, so from then on no ballot of the election can commit, in any process, and nextSeq is final.
 * Idempotent. ProtocolError('unknown-election') when there is no such election.
 */
export async function closeHead(sql: Sql, electionId: string): Promise<ClosedHead> {
  return sql.begin(async (tx) => {
    const heads = await tx`SELECT shard, next_seq, closed FROM election_heads WHERE election_id = ${electionId}
                           ORDER BY shard FOR UPDATE`;
    if (heads.length === 0) throw new ProtocolError('unknown-election', `no election ${electionId}`);
    if (heads.some((h) => !h.closed))
      await tx`UPDATE election_heads SET closed = true WHERE election_id = ${electionId} AND NOT closed`;
    const shardNextSeq = heads.map((h) => Number(h.next_seq));
    const [e] = await tx`
      UPDATE elections SET close_requested_at = coalesce(close_requested_at, clock_timestamp())
      WHERE election_id = ${electionId} RETURNING result_hash, total_ballots`;
    return {
      nextSeq: shardNextSeq.reduce((a, b) => a + b, 0),
      shardNextSeq,
      resultHash: e!.result_hash ? (e!.result_hash as Buffer).toString('hex') : null,
      totalBallots: e!.total_ballots == null ? null : Number(e!.total_ballots),
    };
  }) as Promise<ClosedHead>;
}

/**
 * closeHead on every cluster of the election, the home first: once it resolves no ballot of any shard can
 * commit. ProtocolError('unknown-election') when there is no such election.
 */
export async function closeHeadOnClusters(clusters: LedgerClusters, electionId: string): Promise<ClosedHead> {
  const home = await closeHead(clusters.home, electionId);
  const shards = home.shardNextSeq.length;
  if (shards === 1 || clusters.count === 1) return home;
  const shardNextSeq = [...home.shardNextSeq];
  for (const sql of clusters.clustersOf(shards).slice(1)) {
    const there = await closeHead(sql, electionId);
    // A shard's head moves only on its own cluster: take each shard's count from there.
    for (let s = 0; s < shards; s++) if (clusters.sqlFor(s, shards) === sql) shardNextSeq[s] = there.shardNextSeq[s]!;
  }
  return { ...home, shardNextSeq, nextSeq: shardNextSeq.reduce((a, b) => a + b, 0) };
}

/** Keeps the first result stored; resolves to the one the ledger holds (a concurrent writer's may win). */
async function storeResultOnce(sql: Sql, electionId: string, result: ElectionResult): Promise<ElectionResult> {
  const hash = Buffer.from(result.resultHash, 'hex');
  await sql`UPDATE elections SET result_hash = ${hash}, total_ballots = ${result.totalBallots}
            WHERE election_id = ${electionId} AND result_hash IS NULL`;
  const [e] = await sql`SELECT result_hash, total_ballots FROM elections WHERE election_id = ${electionId}`;
  return { resultHash: (e!.result_hash as Buffer).toString('hex'), totalBallots: Number(e!.total_ballots) };
}

/**
 * Close the election and take its result: closeHead, then the one recount of seqs 0 .. nextSeq-1, stored
 * write-once (result_hash, total_ballots). Resolves with both the recount and the stored result, so the
 * caller decides what a difference means (the API answers the stored one and logs an error; the worker
 * halts). Idempotent. ProtocolError('unknown-election') for no election, ProtocolError('roll-pending')
 * while the roll is not frozen (nothing is closed then).
 */
export async function closeElection(
  sql: Sql,
  electionId: string,
  /** A sharded election spread over several clusters: every cluster's heads closed, every cluster recounted. */
  clusters?: LedgerClusters,
): Promise<ClosedElection> {
  const election = await getElection(sql, electionId);
  if (!election) throw new ProtocolError('unknown-election', `no election ${electionId}`);
  if (election.rollRoot === null) {
    throw new ProtocolError('roll-pending', `the roll of ${electionId} is not finalized; there is nothing to close`);
  }
  // An encrypted election has no plaintext to recount: its result is the trustees' decryption of the
  // aggregate (closeEncryptedElection, after closeHead and the last anchor).
  if (election.encryption)
    throw new Error(`election ${electionId} is encrypted: its result comes from closeEncryptedElection`);
  const spread = clusters !== undefined && clusters.count > 1 && election.shards > 1;
  const head = spread ? await closeHeadOnClusters(clusters, electionId) : await closeHead(sql, electionId);
  // The heads are closed, so every ballot of every shard is final: count them all (one shard: seqs 0 ..
  // nextSeq-1, the same set).
  const tally = spread
    ? await computeTallyOnClusters(clusters, electionId)
    : await computeTally(sql, electionId, election.shards === 1 ? { throughSeq: head.nextSeq - 1 } : {});
  if (tally.totalBallots !== head.nextSeq) {
    throw new Error(
      `recount of ${electionId} found ${tally.totalBallots} ballots, the closed head says ${head.nextSeq}`,
    );
  }
  const recount = { resultHash: resultHash(tally), totalBallots: tally.totalBallots };
  const stored =
    head.resultHash !== null
      ? { resultHash: head.resultHash, totalBallots: head.totalBallots! }
      : await storeResultOnce(sql, electionId, recount);
  return { election: { ...election, closed: true }, nextSeq: head.nextSeq, tally, recount, stored };
}
