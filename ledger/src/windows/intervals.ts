// Anchor intervals of sharded elections (docs/protocol.md 13.4): each anchor pass gathers the shard windows
// sealed since the previous interval into one RFC 6962 tree of 60-byte records and anchors its root in one
// transaction, whatever the number of shards. An interval is formed once (its records fixed by the
// windows' interval_index, set once) and anchored once; a ballot's proof is its window's path, then its
// window record's path in the interval.
import type { Sql } from 'postgres';
import { intervalAuditPath, intervalRoot, sortShardWindowRecords, type ShardWindowRecord } from '../protocol/shards.js';
import type { RecordedTx } from '../anchoring.js';
import type { SealedWindow } from './rows.js';

export interface AnchorInterval {
  electionId: string;
  index: number;
  windowCount: number;
  ballotCount: number;
  /** Lowercase hex. */
  root: string;
  anchorTx: string | null;
  anchorBlock: number | null;
}

function rowToInterval(r: Record<string, unknown>): AnchorInterval {
  return {
    electionId: r.election_id as string,
    index: Number(r.interval_index),
    windowCount: Number(r.window_count),
    ballotCount: Number(r.ballot_count),
    root: (r.root as Buffer).toString('hex'),
    anchorTx: (r.anchor_tx as string | null) ?? null,
    anchorBlock: r.anchor_block == null ? null : Number(r.anchor_block),
  };
}

/** Where a shard's windows are: the election's home database for all shards unless told otherwise. */
export type ShardSql = (shard: number) => Sql;

/**
 * Form the next interval from every sealed window not yet in one: resolves with it, or null when no window
 * waits. The interval and its records are written in one transaction of the election's home database
 * (`home`), under a transaction-scoped advisory lock of the election, so two anchorers cannot form
 * overlapping intervals; the windows are read from the database holding each shard (`shardSql`). A shard's
 * windows enter intervals in window order, each exactly once (interval_windows' primary key).
 */
export async function formInterval(
  home: Sql,
  electionId: string,
  opts: { shards?: number; shardSql?: ShardSql } = {},
): Promise<AnchorInterval | null> {
  return home.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext(${`tallyproof:interval:${electionId}`}))`;
    const [election] = await tx`SELECT shards FROM elections WHERE election_id = ${electionId}`;
    if (!election) throw new Error(`formInterval: no election ${electionId}`);
    const shards = opts.shards ?? Number(election.shards);
    const done = await tx`SELECT shard, max(window_index) AS last FROM interval_windows
                          WHERE election_id = ${electionId} GROUP BY shard`;
    const after = new Array<number>(shards).fill(-1);
    for (const r of done) after[Number(r.shard)] = Number(r.last);
    // One query per database: the shards it holds, each from the window after its last one in an interval.
    const byDatabase = new Map<Sql, number[]>();
    for (let shard = 0; shard < shards; shard++) {
      const sql = opts.shardSql?.(shard) ?? home;
      byDatabase.set(sql, [...(byDatabase.get(sql) ?? []), shard]);
    }
    const found: ShardWindowRecord[] = [];
    for (const [sql, list] of byDatabase) {
      const rows = await (sql === home ? tx : sql)`
        SELECT w.shard, w.window_index, w.first_seq, w.count, encode(w.root, 'hex') AS root FROM windows w
        JOIN unnest(${list}::int[], ${list.map((s) => after[s]!)}::int[]) AS q(s, a)
          ON w.shard = q.s AND w.window_index > q.a
        WHERE w.election_id = ${electionId}`;
      found.push(...rows.map(rowToRecord));
    }
    if (found.length === 0) return null;
    const records = sortShardWindowRecords(found);
    // Sealing makes each shard's windows contiguous; an interval must take them on from where the last ended.
    let prev: ShardWindowRecord | null = null;
    for (const r of records) {
      const expected = prev && prev.shard === r.shard ? prev.windowIndex + 1 : after[r.shard]! + 1;
      if (r.windowIndex !== expected)
        throw new Error(
          `election ${electionId} shard ${r.shard}: window ${expected} is missing before ${r.windowIndex}`,
        );
      prev = r;
    }
    const [last] = await tx`SELECT max(interval_index) AS i FROM anchor_intervals WHERE election_id = ${electionId}`;
    const index = last?.i == null ? 0 : Number(last.i) + 1;
    const ballotCount = records.reduce((n, r) => n + r.count, 0);
    const [row] = await tx`
      INSERT INTO anchor_intervals (election_id, interval_index, window_count, ballot_count, root)
      VALUES (${electionId}, ${index}, ${records.length}, ${ballotCount}, ${intervalRoot(records)})
      RETURNING *`;
    await tx`
      INSERT INTO interval_windows (election_id, interval_index, shard, window_index, first_seq, count, root)
      SELECT ${electionId}, ${index}, s, w, f, c, decode(r, 'hex')
      FROM unnest(${records.map((r) => r.shard)}::int[], ${records.map((r) => r.windowIndex)}::int[],
                  ${records.map((r) => r.firstSeq)}::bigint[], ${records.map((r) => r.count)}::bigint[],
                  ${records.map((r) => r.root)}::text[]) AS q(s, w, f, c, r)`;
    return rowToInterval(row!);
  }) as Promise<AnchorInterval | null>;
}

function rowToRecord(r: Record<string, unknown>): ShardWindowRecord {
  return {
    shard: Number(r.shard),
    windowIndex: Number(r.window_index),
    firstSeq: Number(r.first_seq),
    count: Number(r.count),
    root: r.root as string,
  };
}

/** Intervals from `fromIndex` on, in index order, at most `limit`. */
export async function intervalsFrom(
  sql: Sql,
  electionId: string,
  fromIndex = 0,
  limit = 1_000_000,
): Promise<AnchorInterval[]> {
  const rows = await sql`SELECT * FROM anchor_intervals WHERE election_id = ${electionId}
                         AND interval_index >= ${fromIndex} ORDER BY interval_index LIMIT ${limit}`;
  return rows.map(rowToInterval);
}

/** The records of interval `index`, in tree order (shard, then window index). */
export async function intervalRecords(home: Sql, electionId: string, index: number): Promise<ShardWindowRecord[]> {
  const rows = await home`
    SELECT shard, window_index, first_seq, count, encode(root, 'hex') AS root FROM interval_windows
    WHERE election_id = ${electionId} AND interval_index = ${index} ORDER BY shard, window_index`;
  return rows.map(rowToRecord);
}

/**
 * Resolves once the interval's anchor is durable (in the home database) and copied onto its windows (in
 * the databases holding them); refuses (throws) when another anchor is recorded for the interval. A crash
 * between the two leaves windows for propagateIntervalAnchors, which every anchor pass runs first.
 */
export async function recordIntervalAnchor(
  home: Sql,
  electionId: string,
  index: number,
  tx: RecordedTx,
  shardSql?: ShardSql,
): Promise<void> {
  await home.begin(async (t) => {
    const [row] = await t`SELECT anchor_tx FROM anchor_intervals
                          WHERE election_id = ${electionId} AND interval_index = ${index} FOR UPDATE`;
    if (!row) throw new Error(`election ${electionId}: no interval ${index}`);
    if (row.anchor_tx !== null) {
      if (row.anchor_tx !== tx.txHash)
        throw new Error(
          `election ${electionId}: interval ${index} is recorded with anchor ${row.anchor_tx}, not ${tx.txHash}`,
        );
      return;
    }
    await t`UPDATE anchor_intervals SET anchor_tx = ${tx.txHash}, anchor_block = ${tx.blockNumber},
            anchored_at = clock_timestamp() WHERE election_id = ${electionId} AND interval_index = ${index}`;
  });
  await propagateIntervalAnchors(home, electionId, shardSql);
}

/**
 * Copy each anchored interval's transaction onto its windows that do not carry it yet, in the databases
 * holding them: the windows whose anchor is unrecorded are few (a partial index), so this is a handful of
 * probes per pass. Resolves with the number of windows updated.
 */
export async function propagateIntervalAnchors(home: Sql, electionId: string, shardSql?: ShardSql): Promise<number> {
  const [election] = await home`SELECT shards FROM elections WHERE election_id = ${electionId}`;
  if (!election) return 0;
  const databases = new Set<Sql>();
  for (let shard = 0; shard < Number(election.shards); shard++) databases.add(shardSql?.(shard) ?? home);
  let updated = 0;
  for (const sql of databases) {
    const waiting = await sql`SELECT shard, window_index FROM windows
                              WHERE election_id = ${electionId} AND anchor_tx IS NULL`;
    if (waiting.length === 0) continue;
    const anchored = await home`
      SELECT iw.shard, iw.window_index, ai.anchor_tx, ai.anchor_block FROM interval_windows iw
      JOIN anchor_intervals ai ON ai.election_id = iw.election_id AND ai.interval_index = iw.interval_index
      JOIN unnest(${waiting.map((w) => Number(w.shard))}::int[], ${waiting.map((w) => Number(w.window_index))}::int[])
        AS q(s, w) ON iw.shard = q.s AND iw.window_index = q.w
      WHERE iw.election_id = ${electionId} AND ai.anchor_tx IS NOT NULL`;
    for (const a of anchored) {
      const r = await sql`UPDATE windows SET anchor_tx = ${a.anchor_tx as string}, anchor_block = ${a.anchor_block},
                            anchored_at = clock_timestamp()
                          WHERE election_id = ${electionId} AND shard = ${a.shard} AND window_index = ${a.window_index}
                            AND anchor_tx IS NULL`;
      updated += r.count;
    }
  }
  return updated;
}

/** A window's place in its interval: what a two-level proof adds to the window's own path. */
export interface IntervalInclusion {
  interval: AnchorInterval;
  /** The window record's index in the interval tree. */
  recordIndex: number;
  /** The record's RFC 6962 audit path in the interval tree, lowercase hex. */
  auditPath: string[];
}

/** The interval proof of a sealed window of a sharded election, or null while it is in no interval. */
export async function intervalInclusionFor(home: Sql, window: SealedWindow): Promise<IntervalInclusion | null> {
  const [row] = await home`
    SELECT ai.* FROM interval_windows iw
    JOIN anchor_intervals ai ON ai.election_id = iw.election_id AND ai.interval_index = iw.interval_index
    WHERE iw.election_id = ${window.electionId} AND iw.shard = ${window.shard} AND iw.window_index = ${window.index}`;
  if (!row) return null;
  const interval = rowToInterval(row);
  const records = await intervalRecords(home, window.electionId, interval.index);
  const recordIndex = records.findIndex((r) => r.shard === window.shard && r.windowIndex === window.index);
  if (recordIndex < 0) throw new Error(`election ${window.electionId}: interval ${interval.index} lacks its window`);
  const mine = records[recordIndex]!;
  if (mine.root !== window.root || mine.firstSeq !== window.firstSeq || mine.count !== window.count)
    throw new Error(
      `election ${window.electionId} shard ${window.shard} window ${window.index}: the interval's record differs from the window`,
    );
  if (intervalRoot(records).toString('hex') !== interval.root)
    throw new Error(`election ${window.electionId}: interval ${interval.index}'s records no longer hash to its root`);
  return { interval, recordIndex, auditPath: intervalAuditPath(records, recordIndex).map((h) => h.toString('hex')) };
}
