import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ballotFor, testManifest, voters } from '../../test/support/fixtures.js';
import { ledgerKeyFromSeed } from '../src/ledger-key.js';
import { createElection, computeTally, resultHash, validateRoll } from '../src/index.js';
import { useTestLedger } from './helpers/test-ledger.js';

const ledgerKey = ledgerKeyFromSeed(Buffer.alloc(32, 5));

const ledger = useTestLedger(ledgerKey);

describe('computeTally', () => {
  it('lists every choice, zeros too, and asOfSeq -1 when no ballot is cast', async () => {
    const vs = voters(3, 'empty-');
    await createElection(
      ledger.db.app,
      testManifest('empty', ledgerKey.publicKeyHex),
      await validateRoll(vs.map((v) => v.credential)),
    );
    expect(await computeTally(ledger.db.app, 'empty')).toEqual({
      electionId: 'empty',
      tally: { q1: { oui: 0, non: 0 }, council: { ana: 0, bo: 0, chloe: 0 } },
      contests: { q1: { ballotsCounted: 0, blank: 0 }, council: { ballotsCounted: 0, blank: 0 } },
      totalBallots: 0,
      asOfSeq: -1,
    });
  });

  it('counts each selection, blank contests included, as of a seq', async () => {
    const vs = voters(4, 'count-');
    await createElection(
      ledger.db.app,
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
      expect((await ledger.ingestor.submit('count', ballotFor(vs[i]!, 'count', selections[i]))).kind).toBe('accepted');
    const all = await computeTally(ledger.db.app, 'count');
    expect(all).toEqual({
      electionId: 'count',
      tally: { q1: { oui: 3, non: 1 }, council: { ana: 1, bo: 3, chloe: 1 } },
      // The second ballot leaves the council blank.
      contests: { q1: { ballotsCounted: 4, blank: 0 }, council: { ballotsCounted: 4, blank: 1 } },
      totalBallots: 4,
      asOfSeq: 3,
    });
    const firstTwo = await computeTally(ledger.db.app, 'count', { throughSeq: 1 });
    expect(firstTwo).toEqual({
      electionId: 'count',
      tally: { q1: { oui: 1, non: 1 }, council: { ana: 1, bo: 1, chloe: 0 } },
      contests: { q1: { ballotsCounted: 2, blank: 0 }, council: { ballotsCounted: 2, blank: 1 } },
      totalBallots: 2,
      asOfSeq: 1,
    });
    expect((await computeTally(ledger.db.app, 'count', { throughSeq: -1 })).asOfSeq).toBe(-1);
    await expect(computeTally(ledger.db.app, 'nope')).rejects.toThrow(/no election nope/);
  });

  it('resultHash is H(JCS({"electionId","tally","totalBallots"}))', () => {
    const result = { electionId: 'e', tally: { q1: { oui: 2, non: 0 } }, totalBallots: 2, asOfSeq: 1 };
    const expected = createHash('sha256')
      .update('{"electionId":"e","tally":{"q1":{"non":0,"oui":2}},"totalBallots":2}')
      .digest('hex');
    expect(resultHash(result)).toBe(expected);
  });
});
