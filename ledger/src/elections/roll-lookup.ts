// One key looked up on a roll, for clients that want to know before a voter fills in a ballot whether
// the key they hold (perhaps derived from a mistyped secret) is on the roll, without downloading it.
import type { Sql } from 'postgres';

/**
 * The whole lookup: the election row by its primary key and, in it, one probe of the credentials
 * primary key (election_id, credential). Nothing else is read: in particular not the ballots, so the
 * answer says nothing about whether the key has voted. `test/roll-lookup.test.ts` holds the plan to
 * index probes. Parameters: $1 election id, $2 the key's 32 raw bytes.
 */
export const ROLL_KEY_LOOKUP_SQL = `
  SELECT e.roll_root IS NOT NULL AS frozen,
         EXISTS (SELECT 1 FROM credentials c WHERE c.election_id = e.election_id AND c.credential = $2) AS on_roll
  FROM elections e
  WHERE e.election_id = $1`;

export type RollKeyLookup = 'unknown-election' | 'roll-pending' | 'on-roll' | 'not-on-roll';

/**
 * Whether `credential` (32 raw bytes) is on the frozen roll of `electionId`: one statement, two index
 * probes, whatever the roll's size. A roll still loading answers 'roll-pending' (keys may yet be added,
 * so "not on it" would not be final). Reads no ballot.
 */
export async function lookupRollKey(sql: Sql, electionId: string, credential: Buffer): Promise<RollKeyLookup> {
  const [r] = await sql.unsafe(ROLL_KEY_LOOKUP_SQL, [electionId, credential]);
  if (!r) return 'unknown-election';
  if (!r.frozen) return 'roll-pending';
  return r.on_roll ? 'on-roll' : 'not-on-roll';
}
