// Audit rows for ballot submissions refused before the Ingestor could see them: a body over 16 KiB, a body
// that is not JSON, a Content-Type other than JSON, an election id that cannot exist. The Ingestor writes
// the rows of everything it refuses itself; with these, every refused submission leaves exactly one row.
import type { Sql } from 'postgres';
import type { ErrorCode } from '../errors.js';

/** PostgreSQL text cannot hold NUL; the rest of the client's text is kept, truncated. */
export function auditText(s: string, max: number): string {
  const t = s.length > max ? s.slice(0, max) + '…' : s;
  return t.replace(/\u0000/g, '\uFFFD');
}

export async function recordRejection(sql: Sql, electionId: string, code: ErrorCode, detail: string): Promise<void> {
  await sql`INSERT INTO rejected_attempts (election_id, reason, detail) VALUES (${auditText(electionId, 128)}, ${code}, ${auditText(detail, 300)})`;
}
