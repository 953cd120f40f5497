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

/**
 * Anchored windows, per election and shard, kept by a reader of one ledger (an API app): an anchored window never changes again (its
 * anchor columns are write-once), so once the polls close every receipt's window is found without a query.
 * Windows still waiting for their anchor are always read from the ledger (their status will change).
 */
export class AnchoredWindowCache {
  private readonly byShard = new Map<string, SealedWindow[]>();
  private size = 0;

  constructor(readonly maxWindows = 100_000) {}

  find(electionId: string, shard: number, seq: number): SealedWindow | null {
    const list = this.byShard.get(`${electionId}/${shard}`);
    if (!list) return null;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const w = list[mid]!;
      if (seq < w.firstSeq) hi = mid - 1;
      else if (seq >= w.firstSeq + w.count) lo = mid + 1;
      else return w;
    }
    return null;
  }

  keep(w: SealedWindow): void {
    if (!w.anchor) return;
    const key = `${w.electionId}/${w.shard}`;
    let list = this.byShard.get(key);
    if (!list) {
      if (this.size >= this.maxWindows) this.clear();
      list = [];
      this.byShard.set(key, list);
    }
    let at = list.length;
    while (at > 0 && list[at - 1]!.firstSeq > w.firstSeq) at--;
    if (list[at - 1]?.firstSeq === w.firstSeq) return;
    if (this.size >= this.maxWindows) return;
    list.splice(at, 0, w);
    this.size++;
  }

  clear(): void {
    this.byShard.clear();
    this.size = 0;
  }
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
  opts: { shard?: number; counters?: TileProofCounters; windows?: AnchoredWindowCache } = {},
): Promise<InclusionProof | null> {
  const shard = opts.shard ?? 0;
  let window = opts.windows?.find(electionId, shard, seq) ?? null;
  if (!window) {
    window = await windowForSeq(sql, electionId, seq, shard);
    if (!window) return null;
    opts.windows?.keep(window);
  }
  const leafIndex = seq - window.firstSeq;
  return { window, leafIndex, auditPath: await windowInclusionPath(sql, window, leafIndex, opts.counters) };
}
