// Sealing: the ballots committed since the last window become window `next_window_index`, with the RFC
// 6962 root of their ballot hashes. Three numbers per election stay apart (ledger/README.md):
// election_heads.next_seq (ballots committed), election_heads.sealed_through (first seq not yet in a
// window), and the anchored prefix of `windows` (rows whose anchor_tx is set), which only the anchor
// worker advances.
import type { Sql } from 'postgres';
import { leafHashAt } from '../protocol/merkle.js';
import { TileBuilder } from '../protocol/tiles.js';
import { forEachLeafChunk, rowToWindow, type SealedWindow } from './rows.js';
import { insertWindowTiles } from './tiles.js';

export interface SealOptions {
  /** The shard to seal (docs/protocol.md 13.2); 0, the only one of an election of one shard, by default. */
  shard?: number;
  /**
   * Called inside the sealing transaction after the window row is written and before COMMIT. The anchor
   * worker's crash tests kill the process here; a throw rolls the seal back.
   */
  beforeCommit?: (window: SealedWindow) => void | Promise<void>;
  /** Ballots read per query while hashing. */
  fetchSize?: number;
  /** Reports, for a sealed window, the time spent reading and hashing (no lock) and in the locked commit. */
  onTimings?: (t: { hashMs: number; tilesMs: number; lockedMs: number }) => void;
}

/**
 * Sealers that keep losing the race to a concurrent sealer give up after this many rounds. Two sealers
 * racing while ingest goes on each lose about half the rounds, so 5 rounds failed about 3 % of the time on
 * a busy machine (seen in windows.test.ts under load); 20 makes that about one in a million. A lost round
 * costs one more hashing of the new range, and each round only starts once another window is committed.
 */
const SEAL_ROUNDS = 20;

/**
 * Seal every ballot committed since the last window into window `next_window_index`. Returns the new
 * window, or null when no ballot is waiting ("empty intervals seal nothing").
 *
 * Correctness without holding the ingest lock while hashing:
 *  1. Read the head without a lock. Ingest advances next_seq in the same transaction that inserts the
 *     ballots below it, so every seq below a committed next_seq is committed, and ballots never change
 *     (triggers). The range [sealed_through, next_seq) read here is therefore final.
 *  2. Hash that range outside any transaction, streamed in chunks into a tile builder (32 bytes a ballot:
 *     the window's tiles, section 14 of docs/protocol.md), and insert the tiles in the sealing transaction
 *     before any lock is taken.
 *  3. Under `SELECT … FOR UPDATE` on the head row (the lock ingest takes), check that sealed_through and
 *     next_window_index have not moved since step 1; if so insert the window and advance both. The head
 *     lock is held only for this check and two small writes, so ingest is never stalled by hashing.
 *     If a concurrent sealer got there first, start over from its end.
 * The primary key (election_id, window_index), UNIQUE (election_id, first_seq) and the check
 * sealed_through <= next_seq back this up in the schema.
 */
export async function sealWindow(sql: Sql, electionId: string, opts: SealOptions = {}): Promise<SealedWindow | null> {
  const fetchSize = opts.fetchSize ?? 10_000;
  const shard = opts.shard ?? 0;
  for (let round = 0; round < SEAL_ROUNDS; round++) {
    const [head] = await sql`SELECT next_seq, sealed_through, next_window_index FROM election_heads
                             WHERE election_id = ${electionId} AND shard = ${shard}`;
    if (!head) throw new Error(`sealWindow: no election ${electionId} (shard ${shard})`);
    const firstSeq = Number(head.sealed_through);
    const end = Number(head.next_seq);
    const index = Number(head.next_window_index);
    if (end === firstSeq) return null;

    const started = performance.now();
    const builder = new TileBuilder();
    await forEachLeafChunk(sql, electionId, shard, firstSeq, end, fetchSize, (hashes) => {
      for (let off = 0; off < hashes.length; off += 32) builder.pushLeafHash(leafHashAt(hashes, off));
    });
    const { root, tiles } = builder.finish();
    const hashed = performance.now();
    let tilesStored = hashed;

    const sealed = await sql.begin(async (tx) => {
      // The tiles go in before the head lock is taken: ingest waits only for the check and two small writes.
      await insertWindowTiles(tx, { electionId, shard, index }, tiles);
      tilesStored = performance.now();
      const [locked] = await tx`SELECT sealed_through, next_window_index FROM election_heads
                                WHERE election_id = ${electionId} AND shard = ${shard} FOR UPDATE`;
      if (Number(locked!.sealed_through) !== firstSeq || Number(locked!.next_window_index) !== index) return null;
      const [row] = await tx`
        INSERT INTO windows (election_id, shard, window_index, first_seq, count, root)
        VALUES (${electionId}, ${shard}, ${index}, ${firstSeq}, ${end - firstSeq}, ${root})
        RETURNING *`;
      await tx`UPDATE election_heads SET sealed_through = ${end}, next_window_index = ${index + 1}
               WHERE election_id = ${electionId} AND shard = ${shard}`;
      const window = rowToWindow(row!);
      await opts.beforeCommit?.(window);
      return window;
    });
    if (sealed) {
      opts.onTimings?.({
        hashMs: hashed - started,
        tilesMs: tilesStored - hashed,
        lockedMs: performance.now() - tilesStored,
      });
      return sealed;
    }
    // Another sealer committed a window over this range first; read the head again.
  }
  throw new Error(`sealWindow: election ${electionId} kept being sealed concurrently for ${SEAL_ROUNDS} rounds`);
}
