// Contest and choice ids that are JavaScript's own names (test/support/hostile-ids.ts): the manifest is
// accepted, legal ballots are counted, and a ballot that leaves out the `constructor` contest (or breaks
// the manifest through another inherited name) is refused as invalid-selections and counted in the
// audit table, never a crash. The tally reads ballots by own entries: a choice named after an inherited member that
// the manifest does not offer is a ledger changed around the application.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ballotFor, voters } from '../../test/support/fixtures.js';
import {
  HOSTILE_BALLOTS,
  HOSTILE_INVALID_SELECTIONS,
  hostileManifestInput,
  hostileTally,
} from '../../test/support/hostile-ids.js';
import { ledgerKeyFromSeed } from '../src/ledger-key.js';
import { computeTally, createElection, validateRoll } from '../src/index.js';
import { normalizeManifest, selectionsProblem } from '../src/protocol/protocol.js';
import { useTestLedger } from './helpers/test-ledger.js';

const ledgerKey = ledgerKeyFromSeed(Buffer.alloc(32, 14));
const ledger = useTestLedger(ledgerKey);

describe('ids that are JavaScript names', () => {
  it('accepts the manifest, counts the legal ballots, refuses and counts each invalid one', async () => {
    const id = 'hostile';
    const manifest = normalizeManifest(hostileManifestInput(id), ledgerKey.publicKeyHex);
    expect(manifest.contests.map((c) => c.id)).toEqual(['constructor', 'hasownproperty', 'length', 'then']);
    const good = voters(HOSTILE_BALLOTS.length, `${id}-good-`);
    const bad = voters(HOSTILE_INVALID_SELECTIONS.length, `${id}-bad-`);
    await createElection(ledger.db.app, manifest, await validateRoll([...good, ...bad].map((v) => v.credential)));

    for (const [i, selections] of HOSTILE_BALLOTS.entries()) {
      const o = await ledger.ingestor.submit(id, ballotFor(good[i]!, id, selections));
      expect(o.kind, JSON.stringify(selections)).toBe('accepted');
    }

    // Refusals are counted per (election, reason) in rejected_attempt_counts: each adds one.
    const refusals = async (): Promise<number> => {
      const [r] = await ledger.db.admin`SELECT coalesce(sum(count), 0)::int AS n FROM rejected_attempt_counts
                                        WHERE election_id = ${id} AND reason = 'invalid-selections'`;
      return r!.n as number;
    };
    for (const [i, c] of HOSTILE_INVALID_SELECTIONS.entries()) {
      const before = await refusals();
      const o = await ledger.ingestor.submit(id, ballotFor(bad[i]!, id, c.selections()));
      expect(o, c.name).toMatchObject({ kind: 'rejected', code: 'invalid-selections' });
      expect(await refusals(), c.name).toBe(before + 1);
    }

    const result = await computeTally(ledger.db.app, id);
    expect(result.totalBallots).toBe(HOSTILE_BALLOTS.length);
    expect(result.tally).toEqual(hostileTally());
    for (const c of manifest.contests) {
      expect(Object.hasOwn(result.tally, c.id)).toBe(true);
      expect(Object.keys(result.tally[c.id]!)).toEqual(c.choices.map((k) => k.id));
    }
  });

  it('selectionsProblem names the contest left out, for each inherited name', () => {
    const manifest = normalizeManifest(hostileManifestInput('hostile-pure'), ledgerKey.publicKeyHex);
    expect(selectionsProblem(manifest, HOSTILE_INVALID_SELECTIONS[0]!.selections())).toBe(
      'contest constructor is missing',
    );
    expect(selectionsProblem(manifest, HOSTILE_INVALID_SELECTIONS[1]!.selections())).toBe('contest length is missing');
    expect(selectionsProblem(manifest, HOSTILE_INVALID_SELECTIONS[4]!.selections())).toBe('unknown contest __proto__');
    for (const b of HOSTILE_BALLOTS) expect(selectionsProblem(manifest, b)).toBeNull();
  });

  it('computeTally refuses a stored ballot choosing an inherited name the manifest does not offer', async () => {
    const id = 'hostile-tampered';
    const vs = voters(1, `${id}-`);
    await createElection(
      ledger.db.app,
      normalizeManifest(
        {
          ...hostileManifestInput(id),
          contests: [
            { id: 'q1', title: 'Q', choices: [{ id: 'oui', label: 'Oui' }], minSelections: 0, maxSelections: 1 },
          ],
        },
        ledgerKey.publicKeyHex,
      ),
      await validateRoll(vs.map((v) => v.credential)),
    );
    // Written as the owner, around the application (ingest would refuse it).
    const ballot = JSON.stringify({
      credential: vs[0]!.credential,
      electionId: id,
      selections: { q1: ['constructor'] },
      version: 1,
    });
    await ledger.db
      .admin`INSERT INTO ballots (election_id, seq, ballot_hash, credential, ballot, signature, received_at)
      VALUES (${id}, 0, ${randomBytes(32)}, ${vs[0]!.publicKey}, ${ballot}, ${randomBytes(64)}, now())`;
    await expect(computeTally(ledger.db.app, id)).rejects.toThrow(/choosing q1\/constructor, which its manifest/);
  });
});
