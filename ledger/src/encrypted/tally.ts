// The encrypted tally (docs/protocol.md 12.5, 12.6): the aggregate, computed once at the close from the
// ledger's ballots (streamed, never all in memory) and stored write-once, the decrypted result the
// trustees' posts complete (board.ts), and what the results and the close read of them.
import type { Sql } from 'postgres';
import { jcs } from '../protocol/jcs.js';
import { sha256Hex } from '../protocol/hash.js';
import { ProtocolError } from '../protocol/errors.js';
import type { Manifest } from '../protocol/protocol.js';
import {
  type Aggregate,
  Aggregator,
  combineDecryptions,
  type DecryptionResult,
  decryptedResultHash,
  type EncryptedBallot,
} from '../protocol/v2/index.js';
import { getElection } from '../elections/read.js';
import { ballotsAfter, resultHash } from '../tally.js';
import { shardCommittedCounts } from '../export.js';
import { lockBoard, plaintextElection, storeDecryption } from './board.js';

/** Ballots read per page while the aggregate is computed. */
const AGGREGATE_PAGE = 2000;

/** The stored aggregate: its exact JCS text, parsed, and aggregateHash = H(JCS(aggregate)). */
export interface StoredAggregate {
  aggregateJcs: string;
  aggregate: Aggregate;
  aggregateHash: string;
}

/** The stored decrypted result: its exact JCS text, parsed, and its resultHash. */
export interface StoredDecryption {
  resultJcs: string;
  result: DecryptionResult;
  resultHash: string;
}

/** Where an encrypted election's decryption stands, for the results (12.6). */
export interface DecryptionProgress {
  aggregateHash: string;
  totalBallots: number;
  /** Trustees whose decrypt message the board accepted, in the order posted. */
  received: string[];
  /** The decrypted result once complete, else null. */
  result: DecryptionResult | null;
}

/** The aggregate of an election, or null until the close has published it. */
export async function getAggregate(sql: Sql, electionId: string): Promise<StoredAggregate | null> {
  const [r] = await sql`SELECT aggregate, encode(aggregate_hash, 'hex') AS h FROM aggregates
                        WHERE election_id = ${electionId}`;
  if (!r) return null;
  const aggregateJcs = r.aggregate as string;
  return { aggregateJcs, aggregate: JSON.parse(aggregateJcs) as Aggregate, aggregateHash: r.h as string };
}

/** The decrypted result of an election, or null until the trustees have decrypted it. */
export async function getDecryption(sql: Sql, electionId: string): Promise<StoredDecryption | null> {
  const [r] = await sql`SELECT result, encode(result_hash, 'hex') AS h FROM decryptions
                        WHERE election_id = ${electionId}`;
  if (!r) return null;
  const resultJcs = r.result as string;
  return { resultJcs, result: JSON.parse(resultJcs) as DecryptionResult, resultHash: r.h as string };
}

/**
 * The decryption's progress in one statement (two primary-key probes and the decrypt messages): null
 * until the aggregate is published (the election is still open, or its close has not reached it yet).
 */
export async function decryptionProgress(sql: Sql, electionId: string): Promise<DecryptionProgress | null> {
  const [r] = await sql`
    SELECT encode(a.aggregate_hash, 'hex') AS aggregate_hash, a.total_ballots, d.result,
           ARRAY(SELECT m.trustee FROM trustee_messages m
                 WHERE m.election_id = a.election_id AND m.kind = 'decrypt' ORDER BY m.position) AS received
    FROM aggregates a LEFT JOIN decryptions d USING (election_id) WHERE a.election_id = ${electionId}`;
  if (!r) return null;
  return {
    aggregateHash: r.aggregate_hash as string,
    totalBallots: Number(r.total_ballots),
    received: r.received as string[],
    result: r.result ? (JSON.parse(r.result as string) as DecryptionResult) : null,
  };
}

/**
 * The aggregate of every shard's seqs 0 .. next_seq-1, reading the ballots page by page (keyset on the primary key):
 * memory stays at one page whatever the election's size. Every ballot of an encrypted election passed the
 * validity rule before its 201, so each is added as it is; one that is not a version 2 ballot means the
 * ledger was changed around the application, and throws.
 */
async function computeAggregate(
  sql: Sql,
  manifest: Manifest,
  manifestHash: string,
  publicKey: string,
  shardNextSeq: readonly number[],
): Promise<Aggregate> {
  const aggregator = new Aggregator(manifest);
  let counted = 0;
  for (let shard = 0; shard < shardNextSeq.length; shard++) {
    const nextSeq = shardNextSeq[shard]!;
    let after = -1;
    while (after < nextSeq - 1) {
      const rows = await ballotsAfter(sql, manifest.electionId, after, nextSeq - 1, AGGREGATE_PAGE, shard);
      if (rows.length === 0) break;
      for (const r of rows) {
        const ballot = JSON.parse(r.ballotJcs) as EncryptedBallot;
        if (ballot.version !== 2 || typeof ballot.contests !== 'object' || ballot.contests === null)
          throw new Error(
            `election ${manifest.electionId}: ballot seq ${r.seq} (shard ${shard}) is not an encrypted ballot`,
          );
        aggregator.add(ballot);
        counted++;
      }
      after = rows[rows.length - 1]!.seq;
    }
  }
  const nextSeq = shardNextSeq.reduce((a, b) => a + b, 0);
  if (counted !== nextSeq)
    throw new Error(
      `election ${manifest.electionId}: the aggregate found ${counted} ballots, the head says ${nextSeq}`,
    );
  return aggregator.result(manifestHash, publicKey);
}

/** The second step of an encrypted election's close, as closeEncryptedElection leaves it. */
export interface EncryptedClose {
  /** 'waiting': the aggregate is published, the trustees have not decrypted it yet. */
  status: 'waiting' | 'decrypted';
  /** Ballots committed: seqs 0 .. nextSeq-1, final since the head is closed. */
  nextSeq: number;
  /** Null only for an election whose key ceremony never completed (it took no ballot). */
  aggregateHash: string | null;
  /** Once decrypted: the result the ledger keeps (elections.result_hash, total_ballots). */
  stored: { resultHash: string; totalBallots: number } | null;
  /**
   * Once decrypted: the result recombined now from the transcript and the aggregate; null when it does not
   * recombine (fewer than threshold valid partial decryptions on the board: the ledger changed).
   */
  recount: { resultHash: string; totalBallots: number } | null;
}

/**
 * The close of an encrypted election after its head is closed and every window sealed and anchored:
 * publishes the aggregate of seqs 0 .. nextSeq-1 (computed once, stored write-once; a concurrent close's
 * stays), and with no ballot the result at once (every count 0). Then reports 'waiting' until the trustees
 * have decrypted, else the stored result and the same result recombined from the board (the caller
 * decides what a difference means). An election whose key ceremony never completed took no ballot: its
 * result, every count 0, is stored without aggregate. Idempotent. ProtocolError 'unknown-election' for
 * no election, 'not-found' for a plaintext one; throws when the head is not closed.
 */
export async function closeEncryptedElection(sql: Sql, electionId: string): Promise<EncryptedClose> {
  const e = await getElection(sql, electionId);
  if (!e) throw new ProtocolError('unknown-election', `no election ${electionId}`);
  if (!e.encryption) throw plaintextElection(electionId);
  if (!e.closed) throw new Error(`election ${electionId}: the head is not closed; close it before the aggregate`);
  const shardNextSeq = await shardCommittedCounts(sql, electionId);
  const nextSeq = shardNextSeq.reduce((a, b) => a + b, 0);
  const { publicKey } = e.encryption;

  if (publicKey === null) {
    if (nextSeq !== 0) throw new Error(`election ${electionId} has ${nextSeq} ballots but no election key`);
    const tally = Object.fromEntries(
      e.manifest.contests.map((c) => [c.id, Object.fromEntries(c.choices.map((k) => [k.id, 0]))]),
    );
    const zero = { resultHash: resultHash({ electionId, tally, totalBallots: 0 }), totalBallots: 0 };
    await sql`UPDATE elections SET result_hash = ${Buffer.from(zero.resultHash, 'hex')}, total_ballots = 0
              WHERE election_id = ${electionId} AND result_hash IS NULL`;
    const stored = await storedResult(sql, electionId);
    return { status: 'decrypted', nextSeq, aggregateHash: null, stored, recount: zero };
  }

  let stored = await getAggregate(sql, electionId);
  if (!stored) {
    const aggregate = await computeAggregate(sql, e.manifest, e.manifestHash, publicKey, shardNextSeq);
    const aggregateJcs = jcs(aggregate);
    await sql.begin(async (tx) => {
      const board = await lockBoard(tx, electionId);
      if (board!.aggregate) return; // a concurrent close published it first: that one stays
      await tx`INSERT INTO aggregates (election_id, aggregate, aggregate_hash, total_ballots)
               VALUES (${electionId}, ${aggregateJcs}, ${Buffer.from(sha256Hex(aggregateJcs), 'hex')},
                       ${aggregate.totalBallots})`;
      // No ballot: nothing to decrypt, the result is every count 0 (12.5).
      const result = combineDecryptions(board!.manifest, board!.manifestHash, board!.accepted, aggregate);
      if (result && !board!.decrypted) await storeDecryption(tx, electionId, result);
    });
    stored = (await getAggregate(sql, electionId))!;
  }
  if (stored.aggregate.totalBallots !== nextSeq)
    throw new Error(
      `election ${electionId}: the stored aggregate has ${stored.aggregate.totalBallots} ballots, the head ${nextSeq}`,
    );
  const decryption = await getDecryption(sql, electionId);
  if (!decryption)
    return { status: 'waiting', nextSeq, aggregateHash: stored.aggregateHash, stored: null, recount: null };

  const recount = await sql.begin('isolation level repeatable read read only', async (tx) => {
    const messages = await tx`SELECT envelope FROM trustee_messages WHERE election_id = ${electionId}
                              ORDER BY position`;
    const accepted = messages.map((m) => JSON.parse(m.envelope as string));
    return combineDecryptions(e.manifest, e.manifestHash, accepted, stored.aggregate);
  });
  return {
    status: 'decrypted',
    nextSeq,
    aggregateHash: stored.aggregateHash,
    stored: await storedResult(sql, electionId),
    recount: recount ? { resultHash: decryptedResultHash(recount), totalBallots: recount.totalBallots } : null,
  };
}

async function storedResult(sql: Sql, electionId: string): Promise<{ resultHash: string; totalBallots: number }> {
  const [r] = await sql`SELECT encode(result_hash, 'hex') AS h, total_ballots FROM elections
                        WHERE election_id = ${electionId}`;
  if (!r?.h) throw new Error(`election ${electionId}: decrypted, but no result is stored`);
  return { resultHash: r.h as string, totalBallots: Number(r.total_ballots) };
}
