import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.js';
import { ballotFor, testManifest, voters } from '../../test/support/fixtures.js';
import { VerifyPool } from '../src/verify-pool.js';
import { ledgerKeyFromSeed } from '../src/ledger-key.js';
import { Ingestor, createElection, computeTally, resultHash, validateRoll } from '../src/index.js';

const ledgerKey = ledgerKeyFromSeed(Buffer.alloc(32, 5));

let db: TestDatabase;
let pool: VerifyPool;
let ingestor: Ingestor;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new VerifyPool({ threads: 1 });
  ingestor = new Ingestor({ sql: db.app, ledgerKey, verifier: pool });
});

afterAll(async () => {
  await pool?.close();
  await db?.drop();
});

describe('computeTally', () => {
  it('lists every choice, zeros too, and asOfSeq -1 when no ballot is cast', async () => {
    const vs = voters(3, 'empty-');
    await createElection(
      db.app,
      testManifest('empty', ledgerKey.publicKeyHex),
      await validateRoll(vs.map((v) => v.credential)),
    );
    expect(await computeTally(db.app, 'empty')).toEqual({
      electionId: 'empty',
      tally: { q1: { oui: 0, non: 0 }, council: { ana: 0, bo: 0, chloe: 0 } },
      totalBallots: 0,
      asOfSeq: -1,
    });
  });

  it('counts each selection, blank contests included, as of a seq', async () => {
    const vs = voters(4, 'count-');
    await createElection(
      db.app,
      testManifest('count', ledgerKey.publicKeyHex),
      await validateRoll(vs.map((v) => v.credential)),
    );
    const selections = [
      { q1: ['oui'], council: ['ana', 'bo'] },
      { q1: ['non'], council: [] },
      { q1: ['oui'], council: ['bo'] },
      { q1: ['oui'], council: ['bo', 'chloe'] },
    ];
    for (let i = 0; i < vs.length; i++)
      expect((await ingestor.submit('count', ballotFor(vs[i]!, 'count', selections[i]))).kind).toBe('accepted');
    const all = await computeTally(db.app, 'count');
    expect(all).toEqual({
      electionId: 'count',
      tally: { q1: { oui: 3, non: 1 }, council: { ana: 1, bo: 3, chloe: 1 } },
      totalBallots: 4,
      asOfSeq: 3,
    });
    const firstTwo = await computeTally(db.app, 'count', { throughSeq: 1 });
    expect(firstTwo).toEqual({
      electionId: 'count',
      tally: { q1: { oui: 1, non: 1 }, council: { ana: 1, bo: 1, chloe: 0 } },
      totalBallots: 2,
      asOfSeq: 1,
    });
    expect((await computeTally(db.app, 'count', { throughSeq: -1 })).asOfSeq).toBe(-1);
    await expect(computeTally(db.app, 'nope')).rejects.toThrow(/no election nope/);
  });

  it('resultHash is H(JCS({"electionId","tally","totalBallots"}))', () => {
    const result = { electionId: 'e', tally: { q1: { oui: 2, non: 0 } }, totalBallots: 2, asOfSeq: 1 };
    const expected = createHash('sha256')
      .update('{"electionId":"e","tally":{"q1":{"non":0,"oui":2}},"totalBallots":2}')
      .digest('hex');
    expect(resultHash(result)).toBe(expected);
  });
});
