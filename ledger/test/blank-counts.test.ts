// Blank ballots in the recount, against docs/test-vectors/results.json: the vector's seven signed ballots go
// through the real ingest path, and computeTally and closeElection give its tally, its per-contest blank
// and ballots-counted figures, and its v1 resultHash (whose bytes leave the blank counts out).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { testManifest } from '../../test/support/fixtures.js';
import { ledgerKeyFromSeed } from '../src/ledger-key.js';
import { closeElection, computeTally, createElection, resultHash, validateRoll } from '../src/index.js';
import { jcs } from '../src/protocol/jcs.js';
import type { Manifest } from '../src/protocol/protocol.js';
import { useTestLedger } from './helpers/test-ledger.js';

interface ResultsVector {
  manifest: Manifest;
  ballots: { seq: number; submission: { ballot: { credential: string; selections: Record<string, string[]> } } }[];
  tally: Record<string, Record<string, number>>;
  totalBallots: number;
  contests: Record<string, { ballotsCounted: number; blank: number }>;
  resultHashInput: string;
  resultHash: string;
}

const v = JSON.parse(
  readFileSync(new URL('../../docs/test-vectors/results.json', import.meta.url), 'utf8'),
) as ResultsVector;
const E = v.manifest.electionId;
const ledgerKey = ledgerKeyFromSeed(Buffer.alloc(32, 11));
const ledger = useTestLedger(ledgerKey);

/** The vector's ballots through seq `through`, counted here by hand: ballots listing each contest, and blank ones. */
function contestsThrough(through: number) {
  const out: Record<string, { ballotsCounted: number; blank: number }> = {};
  for (const c of v.manifest.contests) out[c.id] = { ballotsCounted: 0, blank: 0 };
  for (const b of v.ballots.filter((b) => b.seq <= through)) {
    for (const [c, chosen] of Object.entries(b.submission.ballot.selections)) {
      out[c]!.ballotsCounted++;
      if (chosen.length === 0) out[c]!.blank++;
    }
  }
  return out;
}

describe('blank ballots in the recount (docs/test-vectors/results.json)', () => {
  it('computeTally and closeElection give the vector: tally, blank and ballots counted per contest, v1 resultHash', async () => {
    // The vector's contests and id (the ballots are signed over the id), open now, this ledger's key.
    const manifest = testManifest(E, ledgerKey.publicKeyHex, { contests: v.manifest.contests });
    const roll = await validateRoll(v.ballots.map((b) => b.submission.ballot.credential));
    await createElection(ledger.db.app, manifest, roll);
    for (const b of v.ballots) {
      const o = await ledger.ingestor.submit(E, b.submission);
      expect(o, `seq ${b.seq}`).toMatchObject({ kind: 'accepted' });
    }

    const all = await computeTally(ledger.db.app, E);
    expect(all).toEqual({
      electionId: E,
      tally: v.tally,
      contests: v.contests,
      totalBallots: v.totalBallots,
      asOfSeq: v.totalBallots - 1,
    });
    // Every contest of the manifest, in its order, as own properties.
    expect(Object.keys(all.contests)).toEqual(v.manifest.contests.map((c) => c.id));
    expect(all.contests.referendum).toEqual({ ballotsCounted: 7, blank: 1 });
    // The hashed bytes are v1's: electionId, tally and totalBallots, no blank counts.
    expect(jcs({ electionId: all.electionId, tally: all.tally, totalBallots: all.totalBallots })).toBe(
      v.resultHashInput,
    );
    expect(resultHash(all)).toBe(v.resultHash);

    for (const through of [-1, 0, 2, 4]) {
      const part = await computeTally(ledger.db.app, E, { throughSeq: through });
      expect(part.contests, `through seq ${through}`).toEqual(contestsThrough(through));
    }

    const closed = await closeElection(ledger.db.app, E);
    expect(closed.tally.contests).toEqual(v.contests);
    expect(closed.stored).toEqual({ resultHash: v.resultHash, totalBallots: v.totalBallots });
  });
});
