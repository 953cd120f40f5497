// Reading sealed windows back, and inclusion proofs for single ballots (docs/protocol.md, proof bundles),
// computed from the windows' tiles.
import type { Sql } from 'postgres';
import type { TileProofCounters } from '../protocol/tiles.js';
import { rowToWindow, type SealedWindow } from './rows.js';
import { windowInclusionPath } from './tiles.js';

/** Sealed windows of an election in index order, with their anchors once recorded. */
export async function listWindows(
  sql: Sql,
  electionId: string,
  opts: { fromIndex?: number; limit?: number; shard?: number } = {},
): Promise<SealedWindow[]> {
  const rows = await sql`
    SELECT * FROM windows WHERE election_id = ${electionId} AND shard = ${opts.shard ?? 0}
      AND window_index >= ${opts.fromIndex ?? 0}
    ORDER BY window_index LIMIT ${opts.limit ?? 1_000_000}`;
  return rows.map(rowToWindow);
}

/** The window holding ballot `seq`, or null while that ballot is not sealed (or does not exist). */
export async function windowForSeq(sql: Sql, electionId: string, seq: number, shard = 0): Promise<SealedWindow | null> {
  const [row] = await sql`
    SELECT * FROM windows WHERE election_id = ${electionId} AND shard = ${shard} AND first_seq <= ${seq}
    ORDER BY first_seq DESC LIMIT 1`;
  if (!row) return null;
  const w = rowToWindow(row);
  return seq < w.firstSeq + w.count ? w : null;
}

export interface InclusionProof {
  window: SealedWindow;
  /** seq - window.firstSeq */
  leafIndex: number;
  /** RFC 6962 audit path, leaf-most sibling first, lowercase hex. */
  auditPath: string[];
}

/**
 * The inclusion proof of ballot `seq` in its window, or null while the ballot is not sealed: computed from
 * the window's stored tiles (O(log n) tile reads, tiles.ts), never by rebuilding the window's tree.
 */
export async function auditPathFor(
  sql: Sql,
  electionId: string,
  seq: number,
  opts: { shard?: number; counters?: TileProofCounters } = {},
): Promise<InclusionProof | null> {
  const window = await windowForSeq(sql, electionId, seq, opts.shard ?? 0);
  if (!window) return null;
  const leafIndex = seq - window.firstSeq;
  return {
    window,
    leafIndex,
    auditPath: await windowInclusionPath(sql, window, leafIndex, opts.counters ? { counters: opts.counters } : {}),
  };
}
