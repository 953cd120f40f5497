// The anchor worker's view of the ledger and the records it writes (anchor-worker/README.md). Every chain
// write is recorded once: the columns are set from null to a value, and the schema's triggers
// (0002_append_only.sql) refuse any later change, so a repeated step can only confirm what is there.
import type { Sql } from 'postgres';
import { rowToElection, type ElectionRecord } from './elections/read.js';

/**
 * One election as the anchor worker sees it: the election record, the close request and the heads'
 * numbers, summed over the shards (one shard: its head's).
 */
export interface AnchoringState extends ElectionRecord {
  closeRequested: boolean;
  nextSeq: number;
  sealedThrough: number;
  /** Windows sealed: the heads' next_window_index. */
  sealedWindows: number;
}

/** A confirmed chain transaction (or the event that records one), as the ledger keeps it. */
export interface RecordedTx {
  txHash: string;
  blockNumber: number;
}

/** A sealed window's range and root, and its anchor transaction once recorded. */
export interface WindowRange {
  index: number;
  firstSeq: number;
  count: number;
  /** Lowercase hex. */
  root: string;
  anchorTx: string | null;
}

/** Reads the election's anchoring state in one statement (no lock); throws for an unknown election. */
export async function anchoringState(sql: Sql, electionId: string): Promise<AnchoringState> {
  const [r] = await sql`
    SELECT e.*, e.close_requested_at IS NOT NULL AS close_requested,
           h.closed, h.next_seq, h.sealed_through, h.next_window_index, k.public_key
    FROM elections e
    JOIN (SELECT election_id, bool_and(closed) AS closed, sum(next_seq) AS next_seq,
                 sum(sealed_through) AS sealed_through, sum(next_window_index) AS next_window_index
          FROM election_heads WHERE election_id = ${electionId} GROUP BY election_id) h USING (election_id)
    LEFT JOIN election_keys k USING (election_id)
    WHERE e.election_id = ${electionId}`;
  if (!r) throw new Error(`no election ${electionId}`);
  return {
    ...rowToElection(r),
    closeRequested: Boolean(r.close_requested),
    nextSeq: Number(r.next_seq),
    sealedThrough: Number(r.sealed_through),
    sealedWindows: Number(r.next_window_index),
  };
}

/** Resolves once the registration is durable; the first one recorded stays (a repeat changes nothing). */
export async function recordRegistration(sql: Sql, electionId: string, tx: RecordedTx): Promise<void> {
  await sql`UPDATE elections SET registration_tx = ${tx.txHash}, registration_block = ${tx.blockNumber}
            WHERE election_id = ${electionId} AND registration_tx IS NULL`;
}

/**
 * Resolves once the window's anchor is durable; refuses (throws) when another anchor is recorded. An
 * election of one shard: its windows are anchored one by one (a sharded one's, by recordIntervalAnchor).
 */
export async function recordAnchor(sql: Sql, electionId: string, index: number, tx: RecordedTx): Promise<void> {
  const rows = await sql`
    UPDATE windows SET anchor_tx = ${tx.txHash}, anchor_block = ${tx.blockNumber}, anchored_at = clock_timestamp()
    WHERE election_id = ${electionId} AND shard = 0 AND window_index = ${index} AND anchor_tx IS NULL RETURNING 1`;
  if (rows.count === 0) {
    const [w] =
      await sql`SELECT anchor_tx FROM windows WHERE election_id = ${electionId} AND shard = 0 AND window_index = ${index}`;
    if (w?.anchor_tx !== tx.txHash) {
      throw new Error(
        `election ${electionId}: window ${index} is recorded with anchor ${w?.anchor_tx ?? 'none'}, not ${tx.txHash}`,
      );
    }
  }
}

/** Resolves once the chain close is durable; the first one recorded stays (a repeat changes nothing). */
export async function recordClose(sql: Sql, electionId: string, tx: RecordedTx): Promise<void> {
  await sql`UPDATE elections SET close_tx = ${tx.txHash}, close_block = ${tx.blockNumber}
            WHERE election_id = ${electionId} AND close_tx IS NULL`;
}

/**
 * Null when every sealed window is anchored; else, with one shard, the highest sealed window (which is not
 * anchored: windows are anchored in order), and with several, the number of windows sealed in all shards
 * minus one — a number that grows with every window sealed, which the seal job's follow-up is keyed by.
 */
export async function lastUnanchoredWindow(sql: Sql, electionId: string): Promise<number | null> {
  const { sealed, waiting } = await sealedWindows(sql, electionId);
  return waiting ? sealed - 1 : null;
}

/**
 * The windows sealed in all the election's shards on this database, and whether any of them waits for its
 * anchor (a shard's windows are anchored in order: one probe of its newest window per shard).
 */
export async function sealedWindows(sql: Sql, electionId: string): Promise<{ sealed: number; waiting: boolean }> {
  const [r] = await sql`
    SELECT coalesce(sum(h.next_window_index), 0)::int AS sealed, coalesce(bool_or(w.unanchored), false) AS waiting
    FROM election_heads h
    LEFT JOIN LATERAL (SELECT w.anchor_tx IS NULL AS unanchored FROM windows w
                       WHERE w.election_id = h.election_id AND w.shard = h.shard
                       ORDER BY w.window_index DESC LIMIT 1) w ON true
    WHERE h.election_id = ${electionId}`;
  return { sealed: r!.sealed as number, waiting: Boolean(r!.waiting) };
}

/**
 * Windows whose anchor is recorded, of shard 0 (the anchorer records them in index order, so they are a
 * prefix): an election of one shard's anchored windows.
 */
export async function anchoredWindowCount(sql: Sql, electionId: string): Promise<number> {
  const [r] = await sql`SELECT count(*)::int AS n FROM windows
                        WHERE election_id = ${electionId} AND shard = 0 AND anchor_tx IS NOT NULL`;
  return r!.n as number;
}

function rowToRange(r: Record<string, unknown>): WindowRange {
  return {
    index: Number(r.window_index),
    firstSeq: Number(r.first_seq),
    count: Number(r.count),
    root: r.root as string,
    anchorTx: (r.anchor_tx as string | null) ?? null,
  };
}

/** Sealed windows of shard 0 from `fromIndex` on, in index order. */
export async function windowsFrom(sql: Sql, electionId: string, fromIndex: number): Promise<WindowRange[]> {
  const rows = await sql`
    SELECT window_index, first_seq, count, encode(root, 'hex') AS root, anchor_tx FROM windows
    WHERE election_id = ${electionId} AND shard = 0 AND window_index >= ${fromIndex} ORDER BY window_index`;
  return rows.map(rowToRange);
}

/** Sealed window `index` of shard 0, or null when it is not sealed. */
export async function windowAt(sql: Sql, electionId: string, index: number): Promise<WindowRange | null> {
  const [r] = await sql`
    SELECT window_index, first_seq, count, encode(root, 'hex') AS root, anchor_tx FROM windows
    WHERE election_id = ${electionId} AND shard = 0 AND window_index = ${index}`;
  return r ? rowToRange(r) : null;
}

/** An election the reconcile pass looks at, with what is left to do for it. */
export interface ElectionToReconcile {
  electionId: string;
  windowSeconds: number;
  /** Shards of the ledger: more than one anchor by intervals (docs/protocol.md 13.4). */
  shards: number;
  registered: boolean;
  /** Due for the close step: closed by an admin, or its closesAt has passed. */
  closeRequested: boolean;
  /** Some sealed window has no anchor recorded. */
  unanchored: boolean;
  /** The oldest unsealed ballot waited more than two windows: the seal ticks are not coming. */
  overdue: boolean;
}

/**
 * Elections whose roll is frozen and whose close is not yet recorded, in id order: everything the anchor
 * worker may still have to register, seal, anchor or close. An encrypted election whose aggregate is
 * published is left out until its trustees' decryption is stored (then its close goes on at the next
 * pass). A few index probes per election.
 */
export async function electionsToReconcile(sql: Sql): Promise<ElectionToReconcile[]> {
  const rows = await sql`
    SELECT e.election_id, e.window_seconds, e.shards, e.registration_tx IS NOT NULL AS registered,
           -- Due for the close step: an admin close, or closesAt passed (the API already refuses ballots then;
           -- the worker takes the result and sends closeElection without anyone asking).
           e.close_requested_at IS NOT NULL OR e.closes_at <= clock_timestamp() AS close_requested,
           -- A shard's windows are anchored in order: some window of it is unanchored exactly when its
           -- newest one is (one probe per shard).
           EXISTS (SELECT 1 FROM election_heads h WHERE h.election_id = e.election_id
                   AND (SELECT w.anchor_tx IS NULL FROM windows w WHERE w.election_id = h.election_id
                        AND w.shard = h.shard ORDER BY w.window_index DESC LIMIT 1)) AS unanchored,
           EXISTS (SELECT 1 FROM election_heads h JOIN ballots b
                     ON b.election_id = h.election_id AND b.shard = h.shard AND b.seq = h.sealed_through
                   WHERE h.election_id = e.election_id
                     AND b.received_at < clock_timestamp() - make_interval(secs => 2 * e.window_seconds)) AS overdue
    FROM elections e
    WHERE e.roll_root IS NOT NULL AND e.close_tx IS NULL
      -- An encrypted election whose aggregate is published waits for its trustees: nothing to do until
      -- their decryption is stored, and then the close step goes on (closeEncryptedElection).
      AND NOT EXISTS (SELECT 1 FROM aggregates a WHERE a.election_id = e.election_id
                      AND NOT EXISTS (SELECT 1 FROM decryptions d WHERE d.election_id = e.election_id))
    ORDER BY e.election_id`;
  return rows.map((r) => ({
    electionId: r.election_id as string,
    windowSeconds: Number(r.window_seconds),
    shards: Number(r.shards),
    registered: Boolean(r.registered),
    closeRequested: Boolean(r.close_requested),
    unanchored: Boolean(r.unanchored),
    overdue: Boolean(r.overdue),
  }));
}

/** A session advisory lock: pg_try_advisory_lock(classId, hashtext(name)). */
export interface AdvisoryLock {
  classId: number;
  name: string;
}

export type LockedRun<T> = { held: true; value: T } | { held: false; busyLock: string };

/**
 * Runs `fn` holding every lock, taken in order without waiting, as session locks on one reserved
 * connection: they vanish with the connection if the process dies. When one is held elsewhere, resolves
 * to { held: false } without running `fn`. The locks are released (and the connection returned) after.
 */
export async function withAdvisoryLocks<T>(
  sql: Sql,
  locks: readonly AdvisoryLock[],
  fn: () => Promise<T>,
): Promise<LockedRun<T>> {
  const conn = await sql.reserve();
  const held: AdvisoryLock[] = [];
  try {
    for (const lock of locks) {
      const [{ ok }] = await conn`SELECT pg_try_advisory_lock(${lock.classId}::int, hashtext(${lock.name})) AS ok`;
      if (!ok) return { held: false, busyLock: lock.name };
      held.push(lock);
    }
    return { held: true, value: await fn() };
  } finally {
    for (const lock of held.reverse()) {
      await conn`SELECT pg_advisory_unlock(${lock.classId}::int, hashtext(${lock.name}))`.catch(() => undefined);
    }
    conn.release();
  }
}
