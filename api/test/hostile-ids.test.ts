// Contest and choice ids that are JavaScript's own names (test/support/hostile-ids.ts) over real HTTP:
// the election is created, legal ballots get 201, a ballot that leaves out the `constructor` contest (and
// the other hostile cases) gets 422 invalid-selections, counted in the audit table, instead of a 500, and the
// results routes (JSON and CSV) list every contest and choice with the right counts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ballotFor, voters, type Voter } from '../../test/support/fixtures.js';
import {
  HOSTILE_BALLOTS,
  HOSTILE_CONTESTS,
  HOSTILE_INVALID_SELECTIONS,
  hostileManifestInput,
  hostileTally,
} from '../../test/support/hostile-ids.js';
import { build, ledgerCounts, type TestApi } from './helper.js';

const E = 'constructor';
let api: TestApi;
let good: Voter[];
let bad: Voter[];

beforeAll(async () => {
  api = await build();
  good = voters(HOSTILE_BALLOTS.length, 'hostile-api-good-');
  bad = voters(HOSTILE_INVALID_SELECTIONS.length, 'hostile-api-bad-');
  const r = await api.request('POST', '/api/v1/elections', {
    admin: true,
    json: { manifest: hostileManifestInput(E), roll: [...good, ...bad].map((v) => v.credential) },
  });
  expect(r.status, r.text).toBe(201);
});

afterAll(async () => {
  await api?.close();
});

describe('ids that are JavaScript names, over HTTP', () => {
  it('serves the election whose id and contests are such names', async () => {
    const r = await api.request('GET', `/api/v1/elections/${E}`);
    expect(r.status, r.text).toBe(200);
    expect(r.body.manifest.contests.map((c: { id: string }) => c.id)).toEqual(HOSTILE_CONTESTS.map((c) => c.id));
  });

  it('answers 201 to each legal ballot, 422 invalid-selections (counted) to each bad one', async () => {
    for (const [i, selections] of HOSTILE_BALLOTS.entries()) {
      const r = await api.request('POST', `/api/v1/elections/${E}/ballots`, {
        json: ballotFor(good[i]!, E, selections),
      });
      expect(r.status, r.text).toBe(201);
    }
    for (const [i, c] of HOSTILE_INVALID_SELECTIONS.entries()) {
      const before = await ledgerCounts(api.db, E);
      const r = await api.request('POST', `/api/v1/elections/${E}/ballots`, {
        json: ballotFor(bad[i]!, E, c.selections()),
      });
      expect(r.status, `${c.name}: ${r.text}`).toBe(422);
      expect(r.body).toEqual({ error: { code: 'invalid-selections', message: expect.any(String) } });
      const after = await ledgerCounts(api.db, E);
      expect(after.ballots, c.name).toBe(before.ballots);
      expect(after.nextSeq, c.name).toBe(before.nextSeq);
      expect(after.rejected - before.rejected, `audit count for ${c.name}`).toBe(1);
    }
    const missing = await api.request('POST', `/api/v1/elections/${E}/ballots`, {
      json: ballotFor(bad[0]!, E, HOSTILE_INVALID_SELECTIONS[0]!.selections()),
    });
    expect(missing.body.error.message).toContain('contest constructor is missing');
  });

  it('publishes the tally with every contest and choice, in JSON and CSV', async () => {
    const expected = hostileTally();
    const r = await api.request('GET', `/api/v1/elections/${E}/results`);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ electionId: E, totalBallots: HOSTILE_BALLOTS.length, tally: expected });
    expect(r.body.tally).toEqual(expected);

    const csv = await api.request('GET', `/api/v1/elections/${E}/results?format=csv`);
    expect(csv.status, csv.text).toBe(200);
    const rows = csv.text.trim().split('\r\n').slice(1).sort();
    // Per contest, blank ballots and ballots counted too: own properties whatever the id.
    const blank = (id: string) => HOSTILE_BALLOTS.filter((s) => s[id]!.length === 0).length;
    for (const c of HOSTILE_CONTESTS) {
      expect(Object.hasOwn(r.body.contests, c.id), c.id).toBe(true);
      expect(r.body.contests[c.id], c.id).toEqual({ ballotsCounted: HOSTILE_BALLOTS.length, blank: blank(c.id) });
    }
    const want = HOSTILE_CONTESTS.flatMap((c) => [
      ...c.choices.map((k) => `${c.id},${k.id},${expected[c.id]![k.id]}`),
      `${c.id},(blank),${blank(c.id)}`,
      `${c.id},(ballots counted),${HOSTILE_BALLOTS.length}`,
    ]);
    expect(rows).toEqual(want.sort());
  });
});
