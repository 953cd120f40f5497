// Sealed windows as rows and as leaves: the shape every window reader shares, and the gap-checked
// stream of a seq range's ballot hashes that sealing and proofs hash.
import type { Sql } from 'postgres';

export interface WindowAnchor {
  txHash: string;
  blockNumber: number;
  /** When the ledger recorded the confirmed anchor (an upper bound of when it was mined). */
  anchoredAt: string;
}

export interface SealedWindow {
  electionId: string;
  /** The shard whose sequence the window covers (0 in an election of one shard). */
  shard: number;
  index: number;
  firstSeq: number;
  count: number;
  /** MTH of the window's ballot hashes in seq order, lowercase hex. */
  root: string;
  sealedAt: string;
  anchor: WindowAnchor | null;
}

/** The one mapper of a `windows` row. */
export function rowToWindow(r: Record<string, unknown>): SealedWindow {
  return {
    electionId: r.election_id as string,
    shard: r.shard == null ? 0 : Number(r.shard),
    index: Number(r.window_index),
    firstSeq: Number(r.first_seq),
    count: Number(r.count),
    root: (r.root as Buffer).toString('hex'),
    sealedAt: (r.sealed_at as Date).toISOString(),
    anchor:
      r.anchor_tx == null
        ? null
        : {
            txHash: r.anchor_tx as string,
            blockNumber: Number(r.anchor_block),
            anchoredAt: (r.anchored_at as Date).toISOString(),
          },
  };
}

/**
 * Stream the ballot hashes of seqs [from, to) in seq order, `chunk` seqs per query, each chunk one
 * Buffer of concatenated 32-byte hashes (string_agg: far less per-row work than a row cursor). Checks
 * that no seq is missing: (election_id, seq) is the primary key, so count = range size with the range's
 * min and max means gap-free; a gap means the database was changed around the application.
 */
export async function forEachLeafChunk(
  sql: Sql,
  electionId: string,
  shard: number,
  from: number,
  to: number,
  chunk: number,
  onChunk: (ballotHashes: Buffer) => void,
): Promise<void> {
  for (let lo = from; lo < to; lo += chunk) {
    const hi = Math.min(lo + chunk, to);
    const [r] = await sql`
      SELECT count(*)::int AS n, min(seq) AS lo, max(seq) AS hi, string_agg(ballot_hash, ''::bytea ORDER BY seq) AS hashes
      FROM ballots WHERE election_id = ${electionId} AND shard = ${shard} AND seq >= ${lo} AND seq < ${hi}`;
    if (r!.n !== hi - lo || Number(r!.lo) !== lo || Number(r!.hi) !== hi - 1) {
      const where = shard === 0 ? '' : ` shard ${shard}`;
      throw new Error(`election ${electionId}${where}: ledger gap, seqs ${lo}..${hi - 1} hold ${r!.n} ballots`);
    }
    onChunk(r!.hashes as Buffer);
  }
}
