// GET /api/v1/elections/{id}/roll/{credential} over real HTTP and a real PostgreSQL: one key looked up on
// the frozen roll (200 on it, 404 not-on-roll off it, 409 roll-pending, 400 invalid-hex, 404
// unknown-election), the same answer whether or not the key has voted, beside GET …/roll and POST
// …/roll/finalize without taking their URLs, in the reads rate-limit budget, in the OpenAPI document.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ballotFor, testManifest, voter, type Voter } from '../../test/support/fixtures.js';
import { rateTier } from '../src/services/rate-limits.js';
import { BALLOTS_URL } from '../src/routes/ballots.js';
import { build, ledgerCounts, type TestApi } from './helper.js';
import { validKeys } from './helpers/keys.js';

const E = 'lookup';
const path = (credential: string, election = E) => `/api/v1/elections/${election}/roll/${credential}`;
let api: TestApi;

const headerNames = (headers: Headers) => {
  const names: string[] = [];
  headers.forEach((_value, name) => {
    names.push(name);
  });
  return names.sort();
};
let vs: Voter[];

beforeAll(async () => {
  api = await build();
  ({ voters: vs } = await api.election(E, 12));
}, 60_000);

afterAll(async () => {
  await api?.close();
});

describe('GET /api/v1/elections/{id}/roll/{credential}', () => {
  it('200 {electionId, credential, onRoll: true} for each key on the roll', async () => {
    for (const v of vs) {
      const r = await api.request('GET', path(v.credential));
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(r.body).toEqual({ electionId: E, credential: v.credential, onRoll: true });
    }
  });

  it('404 not-on-roll for a valid key that is not on this roll (nor on it through another election)', async () => {
    const { voters: others } = await api.election('lookup-other', 2);
    for (const k of [voter('outsider').credential, others[0]!.credential, '00'.repeat(32)]) {
      const r = await api.request('GET', path(k));
      expect(r.status, k).toBe(404);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(r.body.error.code).toBe('not-on-roll');
      expect(typeof r.body.error.message).toBe('string');
    }
    expect((await api.request('GET', path(others[0]!.credential, 'lookup-other'))).status).toBe(200);
    expect((await api.request('GET', path(vs[0]!.credential, 'lookup-other'))).body.error.code).toBe('not-on-roll');
  });

  it('says nothing about ballots: a key that voted gets the same answer as one that did not', async () => {
    const cast = await api.request('POST', `/api/v1/elections/${E}/ballots`, { json: ballotFor(vs[0]!, E) });
    expect(cast.status).toBe(201);
    const voted = await api.request('GET', path(vs[0]!.credential));
    const notVoted = await api.request('GET', path(vs[1]!.credential));
    expect(voted.status).toBe(notVoted.status);
    expect(voted.text).toBe(notVoted.text.replace(vs[1]!.credential, vs[0]!.credential));
    expect(headerNames(voted.headers)).toEqual(headerNames(notVoted.headers));
  });

  it('looks up without counting a refusal or changing the ledger', async () => {
    const before = await ledgerCounts(api.db, E);
    await api.request('GET', path(voter('outsider-2').credential));
    await api.request('GET', path(vs[2]!.credential));
    await api.request('GET', path('XYZ'));
    expect(await ledgerCounts(api.db, E)).toEqual(before);
  });

  it('400 invalid-hex for a key that is not 64 lowercase hex', async () => {
    const good = vs[0]!.credential;
    for (const bad of [good.toUpperCase(), good.slice(0, 62), `${good}00`, `0x${good.slice(2)}`, 'zz'.repeat(32)]) {
      const r = await api.request('GET', path(bad));
      expect(r.status, bad).toBe(400);
      expect(r.body.error.code, bad).toBe('invalid-hex');
    }
  });

  it('404 unknown-election for an unknown election or an id that cannot exist', async () => {
    for (const id of ['no-such-election', 'Not_An_Id']) {
      const r = await api.request('GET', path(vs[0]!.credential, id));
      expect(r.status, id).toBe(404);
      expect(r.body.error.code, id).toBe('unknown-election');
    }
  });

  it('409 roll-pending while the roll is being uploaded; answers once it is finalized', async () => {
    const P = 'lookup-pending';
    const keys = validKeys(3, P).map((k) => k.toString('hex'));
    const created = await api.request('POST', '/api/v1/elections', {
      admin: true,
      json: { manifest: testManifest(P, api.ledgerKey.publicKeyHex), rollPending: true, roll: keys },
    });
    expect(created.status, created.text).toBe(201);
    for (const k of [keys[0]!, vs[0]!.credential]) {
      const r = await api.request('GET', path(k, P));
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('roll-pending');
    }
    expect((await api.request('POST', `/api/v1/elections/${P}/roll/finalize`, { admin: true })).status).toBe(200);
    expect((await api.request('GET', path(keys[0]!, P))).status).toBe(200);
    expect((await api.request('GET', path(vs[0]!.credential, P))).body.error.code).toBe('not-on-roll');
  });

  it('HEAD answers the same status without a body', async () => {
    const on = await fetch(api.url + path(vs[3]!.credential), { method: 'HEAD' });
    expect(on.status).toBe(200);
    expect(await on.text()).toBe('');
    const off = await fetch(api.url + path(voter('outsider').credential), { method: 'HEAD' });
    expect(off.status).toBe(404);
  });

  it('leaves GET …/roll (the whole roll) and POST …/roll/finalize where they were', async () => {
    const whole = await api.request('GET', `/api/v1/elections/${E}/roll`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(whole.text.trim().split('\n')).toHaveLength(vs.length);
    // finalize is POST only: as a GET it is a malformed key, not the admin route
    const get = await api.request('GET', `/api/v1/elections/${E}/roll/finalize`);
    expect(get.status).toBe(400);
    expect(get.body.error.code).toBe('invalid-hex');
    expect((await api.request('POST', `/api/v1/elections/${E}/roll/finalize`)).status).toBe(401);
  });

  it('counts against the reads budget, like the other per-voter reads', async () => {
    expect(rateTier(BALLOTS_URL, 'GET', '/api/v1/elections/:electionId/roll/:credential')).toBe('reads');
    expect(rateTier(BALLOTS_URL, 'HEAD', '/api/v1/elections/:electionId/roll/:credential')).toBe('reads');
    const limited = await build({ db: api.db, trustProxy: 1, rateLimits: { reads: 3 } });
    try {
      const headers = { 'x-forwarded-for': '192.0.2.91' };
      const got: number[] = [];
      for (let i = 0; i < 4; i++) got.push((await limited.request('GET', path(vs[i]!.credential), { headers })).status);
      expect(got).toEqual([200, 200, 200, 429]);
      // other routes of the same address, and the same route from another address, still answer
      expect((await limited.request('GET', `/api/v1/elections/${E}`, { headers })).status).toBe(200);
      const other = { 'x-forwarded-for': '192.0.2.92' };
      expect((await limited.request('GET', path(vs[0]!.credential), { headers: other })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('is in the OpenAPI document with its parameters and its 200 body', async () => {
    const spec = (await api.request('GET', '/docs/json')).body;
    const op = spec.paths['/api/v1/elections/{electionId}/roll/{credential}']?.get;
    expect(op).toBeDefined();
    expect(op.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`).sort()).toEqual([
      'path:credential',
      'path:electionId',
    ]);
    const body = op.responses['200'].content['application/json'].schema;
    expect(body.required).toEqual(['electionId', 'credential', 'onRoll']);
    // the whole-roll route is still there too
    expect(spec.paths['/api/v1/elections/{electionId}/roll'].get).toBeDefined();
  });
});
