// The credential lookup of every ingest transaction must stay one index probe per credential. Written as
// a plain join it was planned as hash joins over the whole roll and ledger, which made each transaction's
// cost grow with the election. Here the planner is told to avoid nested loops and sequential scans, so if
// a whole-table strategy were open to it, it would take it; the lookup must leave it none.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.js';
import { ballotFor, testManifest, voters } from '../../test/support/fixtures.js';
import { ledgerKeyFromSeed } from '../src/ledger-key.js';

import { VerifyPool } from '../src/verify-pool.js';
import { CREDENTIAL_LOOKUP_SQL, Ingestor, createElection, validateRoll } from '../src/index.js';

let db: TestDatabase;
const ledgerKey = ledgerKeyFromSeed(Buffer.alloc(32, 4));
const vs = voters(40, 'plan-');

beforeAll(async () => {
  db = await createTestDatabase();
  await createElection(
    db.app,
    testManifest('plan', ledgerKey.publicKeyHex),
    await validateRoll(vs.map((v) => v.credential)),
  );
});

afterAll(async () => {
  await db?.drop();
});

/** The plan PostgreSQL makes for the lookup of these credentials: a custom plan, as the ingest transaction forces. */
async function lookupPlan(credentials: string[]): Promise<string> {
  return db.admin.begin(async (tx) => {
    await tx`SET LOCAL enable_nestloop = off`;
    await tx`SET LOCAL enable_seqscan = off`;
    const rows = await tx.unsafe(`EXPLAIN ${CREDENTIAL_LOOKUP_SQL}`, [credentials.map(() => 'plan'), credentials], {
      prepare: false,
    });
    return rows.map((r) => r['QUERY PLAN'] as string).join('\n');
  });
}

describe('credential lookup', () => {
  it('probes the roll, the ballots and the refusals by index, whatever the planner would prefer', async () => {
    // A ledger big enough that reading it whole is a real alternative for the planner.
    const n = 5000;
    await db.admin`
      INSERT INTO ballots (election_id, seq, ballot_hash, credential, ballot, signature, received_at)
      SELECT 'plan', i, ${randomBytes(24)}::bytea || int8send(i), ${randomBytes(24)}::bytea || int8send(i), '{}', ${Buffer.alloc(64)}, now()
      FROM generate_series(0, ${n - 1}) AS i`;
    await db.admin`UPDATE election_heads SET next_seq = ${n} WHERE election_id = 'plan'`;
    await db.admin`ANALYZE`;
    const plan = await lookupPlan(vs.map((v) => v.credential));
    expect(plan).not.toMatch(/Hash|Merge|Materialize|Seq Scan on (credentials|ballots)/);
    expect(plan).toMatch(
      /Index (Only )?Scan using credentials_pkey on credentials|Bitmap Index Scan on credentials_pkey/,
    );
    expect(plan).toMatch(
      /Index Scan using ballots_election_id_credential_key on ballots|Bitmap Index Scan on ballots_election_id_credential_key/,
    );
    expect(plan).toMatch(/Index Scan using rejected_attempt_counts_key on rejected_attempt_counts/);
  });

  it('gives the ingest path what it needs: on the roll, the stored ballot, the refused attempts', async () => {
    const pool = new VerifyPool({ threads: 1 });
    try {
      const ingestor = new Ingestor({ sql: db.app, ledgerKey, verifier: pool });
      const first = await ingestor.submit('plan', ballotFor(vs[0]!, 'plan'));
      expect(first.kind).toBe('accepted');
      const again = await ingestor.submit('plan', ballotFor(vs[0]!, 'plan', { q1: ['non'], council: [] }));
      expect(again.kind).toBe('duplicate');
    } finally {
      await pool.close();
    }
    const rows = await db.app.unsafe(
      CREDENTIAL_LOOKUP_SQL,
      [
        ['plan', 'plan', 'plan'],
        [vs[0]!.credential, vs[1]!.credential, 'ab'.repeat(32)],
      ],
      { prepare: false },
    );
    expect(rows.map((r) => ({ c: r.c, onRoll: r.on_roll, stored: r.seq !== null, attempts: r.attempts }))).toEqual([
      { c: vs[0]!.credential, onRoll: true, stored: true, attempts: 1 },
      { c: vs[1]!.credential, onRoll: true, stored: false, attempts: null },
      { c: 'ab'.repeat(32), onRoll: false, stored: false, attempts: null },
    ]);
  });
});
