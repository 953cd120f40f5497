// How far sealing and anchoring have come, over all elections: for the API's metrics and the worker's
// status.
import type { Sql } from 'postgres';

export interface AnchoringProgress {
  /** Windows sealed, all elections. */
  sealedWindows: number;
  /** Windows whose root is recorded as anchored on chain. */
  anchoredWindows: number;
  /** Ballots committed but not yet in an anchored window. */
  unanchoredBallots: number;
  /** Age of the oldest ballot not yet in an anchored window, in seconds; 0 when all are anchored. */
  lagSeconds: number;
}

/**
 * Sealing and anchoring over all elections and their shards, for metrics and the worker's status, in a few index probes
 * per election whatever the size of the ledger. Windows are contiguous from seq 0 and anchored in order
 * (the anchorer checks both), so an election's sealed windows are its head's next_window_index, its
 * anchored ones end at its last anchored window, and its oldest unanchored ballot is the one at the seq
 * that window ends at.
 */
export async function anchoringProgress(sql: Sql): Promise<AnchoringProgress> {
  const [r] = await sql`
    SELECT coalesce(sum(h.next_window_index), 0) AS sealed, coalesce(sum(coalesce(a.window_index + 1, 0)), 0) AS anchored,
           coalesce(sum(h.next_seq - coalesce(a.through, 0)), 0) AS unanchored,
           coalesce(extract(epoch FROM clock_timestamp() - min(b.received_at)), 0)::float8 AS lag
    FROM election_heads h
    LEFT JOIN LATERAL (SELECT w.window_index, w.first_seq + w.count AS through FROM windows w
                       WHERE w.election_id = h.election_id AND w.shard = h.shard AND w.anchor_tx IS NOT NULL
                       ORDER BY w.window_index DESC LIMIT 1) a ON true
    LEFT JOIN LATERAL (SELECT received_at FROM ballots b WHERE b.election_id = h.election_id AND b.shard = h.shard
                       AND b.seq = coalesce(a.through, 0) LIMIT 1) b ON true`;
  return {
    sealedWindows: Number(r!.sealed),
    anchoredWindows: Number(r!.anchored),
    unanchoredBallots: Number(r!.unanchored),
    lagSeconds: Math.max(0, Number(r!.lag)),
  };
}
