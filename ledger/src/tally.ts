// The tally: a recount of the ballots table, and the result hash closeElection puts on chain
// (docs/protocol.md: resultHash = H(JCS({"electionId","tally","totalBallots"}))). Blank counts and ballots counted
// per contest come with the recount but stay out of the hash, so v1 result hashes keep their bytes.
import type { Sql } from 'postgres';
import { jcs } from './protocol/jcs.js';
import { sha256Hex } from './protocol/hash.js';
import type { Manifest } from './protocol/protocol.js';
import type { LedgerClusters } from './db/clusters.js';
import { electionShardCount } from './elections/read.js';

export type Tally = Record<string, Record<string, number>>;

/** Per contest: the ballots counted that list it (every ballot lists every contest) and those selecting nothing in it. */
export interface ContestCount {
  ballotsCounted: number;
  blank: number;
}

/** contest id → its ballots counted and blank ballots; every contest of the manifest, in manifest order. */
export type ContestCounts = Record<string, ContestCount>;

export interface TallyResult {
  electionId: string;
  /** contest id → choice id → count; every contest and choice of the manifest is listed, zeros too. */
  tally: Tally;
  /** Not part of resultHash (docs/protocol.md, "Results"). */
  contests: ContestCounts;
  totalBallots: number;
  /** Last seq counted, -1 when none. */
  asOfSeq: number;
}

/**
 * Count the ballots of an election, all of them or those with seq <= throughSeq. Committed ballots are
 * always a gap-free prefix of seqs (ingest assigns them under the head lock), and both queries run in one
 * REPEATABLE READ snapshot, so totalBallots, asOfSeq and the counts describe the same prefix.
 */
export async function computeTally(
  sql: Sql,
  electionId: string,
  opts: { throughSeq?: number } = {},
): Promise<TallyResult> {
  const through = opts.throughSeq;
  if (through !== undefined && !Number.isInteger(through))
    throw new RangeError(`throughSeq must be an integer, got ${through}`);
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    const [election] = await tx`SELECT manifest FROM elections WHERE election_id = ${electionId}`;
    if (!election) throw new Error(`computeTally: no election ${electionId}`);
    const manifest = JSON.parse(election.manifest as string) as Manifest;
    // Encrypted ballots have no selections to count: their tally is the trustees' decryption.
    if (manifest.version === 2)
      throw new Error(`computeTally: election ${electionId} is encrypted; its tally is decrypted, not counted`);
    const upTo = through === undefined ? tx`` : tx`AND seq <= ${through}`;
    const [summary] =
      await tx`SELECT count(*)::bigint AS n, max(seq) AS last FROM ballots WHERE election_id = ${electionId} ${upTo}`;
    const counts = await tx`
      SELECT s.contest, c.choice, count(*)::bigint AS n
      FROM ballots b,
           jsonb_each(b.ballot::jsonb -> 'selections') AS s(contest, choices),
           jsonb_array_elements_text(s.choices) AS c(choice)
      WHERE b.election_id = ${electionId} ${upTo}
      GROUP BY s.contest, c.choice`;
    // jsonb_array_elements_text yields nothing for an empty list, so blanks are counted here, per contest.
    const perContest = await tx`
      SELECT s.contest, count(*)::bigint AS n, count(*) FILTER (WHERE jsonb_array_length(s.choices) = 0)::bigint AS blank
      FROM ballots b, jsonb_each(b.ballot::jsonb -> 'selections') AS s(contest, choices)
      WHERE b.election_id = ${electionId} ${upTo}
      GROUP BY s.contest`;

    // Maps, not objects: contest and choice ids may be names objects inherit (`constructor`, …).
    const byContest = new Map(manifest.contests.map((c) => [c.id, new Map(c.choices.map((k) => [k.id, 0]))] as const));
    for (const r of counts) {
      const contest = byContest.get(r.contest as string);
      if (contest === undefined || !contest.has(r.choice as string)) {
        // Ingest refuses such ballots, so this is a ledger changed around the application.
        throw new Error(
          `computeTally: election ${electionId} has ballots choosing ${r.contest}/${r.choice}, which its manifest does not offer`,
        );
      }
      contest.set(r.choice as string, Number(r.n));
    }
    const counted = new Map<string, ContestCount>(
      manifest.contests.map((c) => [c.id, { ballotsCounted: 0, blank: 0 }]),
    );
    for (const r of perContest) {
      const contest = counted.get(r.contest as string);
      if (contest === undefined)
        throw new Error(
          `computeTally: election ${electionId} has ballots for contest ${r.contest}, not in its manifest`,
        );
      contest.ballotsCounted = Number(r.n);
      contest.blank = Number(r.blank);
    }
    // Object.fromEntries defines own data properties, whatever the ids are.
    const tally: Tally = Object.fromEntries([...byContest].map(([c, choices]) => [c, Object.fromEntries(choices)]));
    const contests: ContestCounts = Object.fromEntries(counted);
    const totalBallots = Number(summary!.n);
    return { electionId, tally, contests, totalBallots, asOfSeq: summary!.last == null ? -1 : Number(summary!.last) };
  });
}

/**
 * The recount over every cluster of the election: each cluster's ballots are those of its own shards, so
 * the counts add up. One REPEATABLE READ snapshot per cluster; after closeHeadOnClusters nothing moves.
 */
export async function computeTallyOnClusters(clusters: LedgerClusters, electionId: string): Promise<TallyResult> {
  const shards = await electionShardCount(clusters.home, electionId);
  const parts = await Promise.all(clusters.clustersOf(shards).map((sql) => computeTally(sql, electionId)));
  if (parts.length === 1) return parts[0]!;
  const [first, ...rest] = parts as [TallyResult, ...TallyResult[]];
  const sum: TallyResult = structuredClone(first);
  for (const p of rest) {
    sum.totalBallots += p.totalBallots;
    for (const [c, choices] of Object.entries(p.tally))
      for (const [k, n] of Object.entries(choices)) sum.tally[c]![k]! += n;
    for (const [c, counts] of Object.entries(p.contests)) {
      sum.contests[c]!.ballotsCounted += counts.ballotsCounted;
      sum.contests[c]!.blank += counts.blank;
    }
  }
  sum.asOfSeq = sum.totalBallots - 1;
  return sum;
}

/** resultHash = H(JCS({"electionId","tally","totalBallots"})), lowercase hex. */
export function resultHash(result: Pick<TallyResult, 'electionId' | 'tally' | 'totalBallots'>): string {
  return sha256Hex(jcs({ electionId: result.electionId, tally: result.tally, totalBallots: result.totalBallots }));
}

/**
 * Committed ballots of an election with afterSeq < seq <= throughSeq, in seq order, at most `limit`: the
 * live tally reads them page by page (keyset on the primary key), never recounting.
 */
export async function ballotsAfter(
  sql: Sql,
  electionId: string,
  afterSeq: number,
  throughSeq: number,
  limit: number,
  shard = 0,
): Promise<{ seq: number; ballotJcs: string }[]> {
  const rows = await sql`SELECT seq, ballot FROM ballots
                         WHERE election_id = ${electionId} AND shard = ${shard} AND seq > ${afterSeq} AND seq <= ${throughSeq}
                         ORDER BY seq LIMIT ${limit}`;
  return rows.map((r) => ({ seq: Number(r.seq), ballotJcs: r.ballot as string }));
}

/**
 * Ballots whose root is on chain, all shards together: a shard's windows are contiguous from seq 0 and
 * anchored in order, so they are those below the end of its last anchored window (one index probe per
 * shard, not a sum over every window).
 */
export async function anchoredBallotCount(sql: Sql, electionId: string): Promise<number> {
  const [a] = await sql`SELECT coalesce(sum(a.n), 0)::bigint AS n FROM election_heads h,
                        LATERAL (SELECT first_seq + count AS n FROM windows w
                                 WHERE w.election_id = h.election_id AND w.shard = h.shard AND w.anchor_tx IS NOT NULL
                                 ORDER BY w.window_index DESC LIMIT 1) a
                        WHERE h.election_id = ${electionId}`;
  return Number(a?.n ?? 0);
}
