// The ledger as the public reads it: the NDJSON export of an election's ballots (docs/protocol.md,
// "GET …/ledger"), and liveness of the database.
import type { Sql } from 'postgres';

/** Ballots per query of the export. */
const EXPORT_PAGE = 1000;

/** Each shard's next_seq, by shard (one entry for an election of one shard); [] for no election. */
export async function shardCommittedCounts(sql: Sql, electionId: string): Promise<number[]> {
  const rows = await sql`SELECT next_seq FROM election_heads WHERE election_id = ${electionId} ORDER BY shard`;
  return rows.map((r) => Number(r.next_seq));
}

/**
 * The export of seqs [from, end) as NDJSON text, one page of lines at a time:
 * {"seq","ballotHash","ballot","signature","receivedAt"} per line, `ballot` being the stored JCS text
 * embedded as is (byte-exact, never re-serialised). Keyset pagination on (election_id, seq) rather than a
 * server-side cursor: a slow or stalled reader then holds no database connection between pages, so
 * exports cannot starve the ingest path of connections, and memory stays at one page. With `end` read
 * from shardCommittedCounts when the export starts, it is a consistent prefix of the ledger.
 */
export async function* ledgerPages(
  sql: Sql,
  electionId: string,
  from: number,
  end: number,
  /** A sharded election's shard (docs/protocol.md 13.3): its lines start with "shard". Absent: shard 0, unnamed. */
  shard?: number,
): AsyncGenerator<string> {
  let next = from;
  const lineStart = shard === undefined ? '{' : `{"shard":${shard},`;
  while (next < end) {
    const rows = await sql`SELECT seq, ballot_hash, ballot, signature, received_at FROM ballots
                           WHERE election_id = ${electionId} AND shard = ${shard ?? 0} AND seq >= ${next} AND seq < ${end}
                           ORDER BY seq LIMIT ${EXPORT_PAGE}`;
    if (rows.length === 0) return;
    let out = '';
    for (const r of rows) {
      out +=
        `${lineStart}"seq":${Number(r.seq)},"ballotHash":"${(r.ballot_hash as Buffer).toString('hex')}",` +
        `"ballot":${r.ballot as string},"signature":"${(r.signature as Buffer).toString('hex')}",` +
        `"receivedAt":"${(r.received_at as Date).toISOString()}"}\n`;
    }
    yield out;
    next = Number(rows[rows.length - 1]!.seq) + 1;
  }
}

/** Resolves when the database answers a trivial query; rejects otherwise. */
export async function pingDatabase(sql: Sql): Promise<void> {
  await sql`SELECT 1`;
}
