// lookupRollKey: one key on one roll, in one statement of index probes whatever the roll's size, and
// without reading the ballots (the answer must not depend on, nor the plan touch, whether the key voted).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.js';
import { testManifest, voter, voters } from '../../test/support/fixtures.js';
import { ledgerKeyFromSeed } from '../src/ledger-key.js';
import { ROLL_KEY_LOOKUP_SQL, createElection, finalizeRoll, lookupRollKey, validateRoll } from '../src/index.js';

let db: TestDatabase;
const ledgerKey = ledgerKeyFromSeed(Buffer.alloc(32, 5));
const vs = voters(30, 'lookup-');
const key = (hex: string) => Buffer.from(hex, 'hex');

beforeAll(async () => {
  db = await createTestDatabase();
  await createElection(
    db.app,
    testManifest('lookup', ledgerKey.publicKeyHex),
    await validateRoll(vs.map((v) => v.credential)),
  );
});

afterAll(async () => {
  await db?.drop();
});

describe('lookupRollKey', () => {
  it('answers on-roll for every key of the roll and not-on-roll for any other', async () => {
    for (const v of vs) expect(await lookupRollKey(db.app, 'lookup', key(v.credential))).toBe('on-roll');
    expect(await lookupRollKey(db.app, 'lookup', key(voter('outsider').credential))).toBe('not-on-roll');
    expect(await lookupRollKey(db.app, 'lookup', Buffer.alloc(32))).toBe('not-on-roll');
  });

  it('is per election: a key on another roll is not on this one', async () => {
    const other = voters(2, 'lookup-other-');
    await createElection(
      db.app,
      testManifest('lookup-other', ledgerKey.publicKeyHex),
      await validateRoll(other.map((v) => v.credential)),
    );
    expect(await lookupRollKey(db.app, 'lookup-other', key(other[0]!.credential))).toBe('on-roll');
    expect(await lookupRollKey(db.app, 'lookup-other', key(vs[0]!.credential))).toBe('not-on-roll');
    expect(await lookupRollKey(db.app, 'lookup', key(other[0]!.credential))).toBe('not-on-roll');
  });

  it('unknown-election for no such election; roll-pending until the roll is finalized', async () => {
    expect(await lookupRollKey(db.app, 'no-such-election', key(vs[0]!.credential))).toBe('unknown-election');
    const pending = voters(3, 'lookup-pending-');
    await createElection(
      db.app,
      testManifest('lookup-pending', ledgerKey.publicKeyHex),
      await validateRoll(pending.map((v) => v.credential)),
      { pending: true },
    );
    expect(await lookupRollKey(db.app, 'lookup-pending', key(pending[0]!.credential))).toBe('roll-pending');
    expect(await lookupRollKey(db.app, 'lookup-pending', key(vs[0]!.credential))).toBe('roll-pending');
    await finalizeRoll(db.app, 'lookup-pending');
    expect(await lookupRollKey(db.app, 'lookup-pending', key(pending[0]!.credential))).toBe('on-roll');
    expect(await lookupRollKey(db.app, 'lookup-pending', key(vs[0]!.credential))).toBe('not-on-roll');
  });

  it('probes the primary keys and reads no ballot, whatever the planner would prefer', async () => {
    // A roll big enough that reading it whole is a real alternative for the planner, and ballots of its keys.
    const n = 5000;
    await createElection(db.app, testManifest('lookup-big', ledgerKey.publicKeyHex), [], { pending: true });
    const prefix = randomBytes(24);
    await db.admin`
      INSERT INTO credentials (election_id, credential)
      SELECT 'lookup-big', ${prefix}::bytea || int8send(i) FROM generate_series(0, ${n - 1}) AS i`;
    await finalizeRoll(db.app, 'lookup-big');
    await db.admin`ANALYZE`;
    const plan = await db.admin.begin(async (tx) => {
      await tx`SET LOCAL enable_seqscan = off`;
      const rows = await tx.unsafe(`EXPLAIN ${ROLL_KEY_LOOKUP_SQL}`, ['lookup-big', randomBytes(32)], {
        prepare: false,
      });
      return rows.map((r) => r['QUERY PLAN'] as string).join('\n');
    });
    expect(plan).not.toMatch(/Seq Scan|Hash|Merge|ballots/);
    expect(plan).toMatch(/Index (Only )?Scan using credentials_pkey on credentials/);
    expect(plan).toMatch(/Index Scan using elections_pkey on elections/);
  });
});
