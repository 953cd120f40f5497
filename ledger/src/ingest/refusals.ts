// Audit rows of refused submissions: every refused submission leaves exactly one row, written by the
// Ingestor for what it refuses (in its batch's transaction) and by recordRefusal for what the API refuses
// before the Ingestor sees it (a body over 16 KiB, not JSON, a Content-Type other than JSON, an election
// id that cannot exist).
import type { Sql, TransactionSql } from 'postgres';
import type { ErrorCode } from '../protocol/errors.js';

/** An audit row of a refused submission. */
export interface Refusal {
  electionId: string | null;
  credHex: string | null;
  hashHex: string | null;
  code: ErrorCode;
  detail: string;
  /** For duplicates: the credential's refused attempts so far. */
  attemptCount: number | null;
}

/**
 * Client text made fit for an audit row: truncated to `max` characters, NUL replaced (PostgreSQL text
 * cannot hold it, and one bad row would fail a whole batch's transaction: a 503 for every ballot in it).
 */
export function auditText(s: string, max: number): string {
  const t = s.length > max ? s.slice(0, max) + '…' : s;
  return t.replaceAll('\u0000', '\uFFFD');
}

/** The audit rows of refused submissions: one statement, on the pool or inside a transaction. */
export function insertRefusals(sql: Sql | TransactionSql, refusals: readonly Refusal[]) {
  return sql`
    INSERT INTO rejected_attempts (election_id, credential, ballot_hash, reason, detail, attempt_count)
    SELECT e, decode(c, 'hex'), decode(h, 'hex'), r, d, a
    FROM unnest(${refusals.map((r) => r.electionId)}::text[], ${refusals.map((r) => r.credHex)}::text[],
                ${refusals.map((r) => r.hashHex)}::text[], ${refusals.map((r) => r.code)}::text[],
                ${refusals.map((r) => r.detail)}::text[], ${refusals.map((r) => r.attemptCount)}::int[])
         AS t(e, c, h, r, d, a)`;
}

/** Record a submission refused before it reached the Ingestor; resolves once the row is committed. */
export async function recordRefusal(sql: Sql, electionId: string, code: ErrorCode, detail: string): Promise<void> {
  await sql`INSERT INTO rejected_attempts (election_id, reason, detail)
            VALUES (${auditText(electionId, 128)}, ${code}, ${auditText(detail, 300)})`;
}
