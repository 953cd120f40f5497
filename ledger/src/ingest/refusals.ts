// Audit of refused submissions, counted rather than stored one row per request (migration 0007): every
// refusal adds one to its key's row in rejected_attempt_counts, written by the Ingestor for what it
// refuses (in its batch's transaction) and by recordRefusal for what the API refuses before the Ingestor
// sees it (a body over 16 KiB, not JSON, a Content-Type other than JSON, an election id that cannot exist).
// A key is (election, credential, reason) for a credential on the election's roll, else (election if it
// exists, client address, reason): rows grow with the roll and the clients' addresses, never with requests.
import type { Sql, TransactionSql } from 'postgres';
import type { ErrorCode } from '../protocol/errors.js';

/** A refused submission, as counted. */
export interface Refusal {
  /** As named in the URL; counted under it only when the election exists. */
  electionId: string | null;
  /** Set only for a credential found on the election's roll (then the key; `client` is ignored). */
  credHex: string | null;
  /** The client's address (clientAddress in api/), the key when credHex is null; null when unknown. */
  client: string | null;
  hashHex: string | null;
  code: ErrorCode;
  detail: string;
}

/**
 * Client text made fit for an audit row: truncated to `max` characters, NUL replaced (PostgreSQL text
 * cannot hold it, and one bad row would fail a whole batch's transaction: a 503 for every ballot in it).
 */
export function auditText(s: string, max: number): string {
  const t = s.length > max ? s.slice(0, max) + '…' : s;
  return t.replaceAll('\u0000', '\uFFFD');
}

/**
 * Count refusals: one upsert, on the pool or inside a transaction. Refusals of one key in the list are
 * summed first (an upsert may touch a row once), the election id is kept only when it names an election,
 * and rows are taken in key order, so concurrent batches lock shared rows in the same order (no deadlock).
 */
export function insertRefusals(sql: Sql | TransactionSql, refusals: readonly Refusal[]) {
  const client = (r: Refusal) => (r.credHex === null ? r.client && auditText(r.client, 64) : null);
  return sql`
    INSERT INTO rejected_attempt_counts AS rc
      (election_id, credential, client, reason, count, first_at, last_at, last_detail, last_ballot_hash)
    SELECT el.election_id, decode(t.c, 'hex'), t.cl, t.r, count(*), clock_timestamp(), clock_timestamp(),
           (array_agg(t.d ORDER BY t.i DESC))[1], decode((array_agg(t.h ORDER BY t.i DESC))[1], 'hex')
    FROM unnest(${refusals.map((r) => r.electionId)}::text[], ${refusals.map((r) => r.credHex)}::text[],
                ${refusals.map(client)}::text[], ${refusals.map((r) => r.code)}::text[],
                ${refusals.map((r) => r.detail)}::text[], ${refusals.map((r) => r.hashHex)}::text[])
         WITH ORDINALITY AS t(e, c, cl, r, d, h, i)
    LEFT JOIN elections el ON el.election_id = t.e
    GROUP BY el.election_id, t.c, t.cl, t.r
    ORDER BY el.election_id, t.c, t.cl, t.r
    ON CONFLICT ON CONSTRAINT rejected_attempt_counts_key DO UPDATE SET
      count = rc.count + excluded.count,
      last_at = greatest(rc.last_at, excluded.last_at),
      last_detail = excluded.last_detail,
      last_ballot_hash = coalesce(excluded.last_ballot_hash, rc.last_ballot_hash)`;
}

/** Count a submission refused before it reached the Ingestor; resolves once the count is committed. */
export async function recordRefusal(
  sql: Sql,
  electionId: string,
  code: ErrorCode,
  detail: string,
  client: string | null = null,
): Promise<void> {
  await insertRefusals(sql, [
    {
      electionId: auditText(electionId, 128),
      credHex: null,
      client,
      hashHex: null,
      code,
      detail: auditText(detail, 300),
    },
  ]);
}

/** What pruneAudit removed. */
export interface PruneResult {
  counts: number;
  legacyRows: number;
}

/**
 * The owner's retention policy (`tallyproof prune-audit`): deletes refusal counts last seen before
 * `before` and rows of the old per-request table created before it, in one transaction. `sql` must
 * connect as the owner: the application role holds no DELETE grant on either table. The counts of
 * credentials of elections that are not closed are kept whatever their age, so that a voter's running
 * duplicate count never restarts during the election.
 */
export async function pruneAudit(sql: Sql, before: Date): Promise<PruneResult> {
  return sql.begin(async (tx) => {
    const counts = await tx`
      DELETE FROM rejected_attempt_counts rc
      WHERE rc.last_at < ${before}
        AND (rc.credential IS NULL
             OR EXISTS (SELECT 1 FROM election_heads h WHERE h.election_id = rc.election_id AND h.closed))`;
    const legacy = await tx`DELETE FROM rejected_attempts WHERE created_at < ${before}`;
    return { counts: counts.count, legacyRows: legacy.count };
  });
}
