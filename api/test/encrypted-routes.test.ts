// The trustees' routes and the encrypted election's views over real HTTP and a real database, without the
// chain (api/test/helper.ts): the admin check, the body taken as sent (never coerced), the error codes of
// docs/protocol.md 12.9, the election view and the results before the decryption, the admin close's 202,
// and version 1 bodies left as they were.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ceremony, trusteeManifest } from '../../ledger/test/helpers/trustee-ceremony.js';
import * as v2 from '../../ledger/src/protocol/v2/index.js';
import { selectionsFor, voters } from '../../test/support/fixtures.js';
import { build, testLedgerKey, type TestApi } from './helper.js';

let api: TestApi;
const E = 'enc-routes';
const PLAIN = 'plain-routes';
let ceremony: Ceremony;
const url = (id: string, tail: string) => `/api/v1/elections/${id}/${tail}`;

beforeAll(async () => {
  api = await build();
  const manifest = trusteeManifest(E, testLedgerKey.publicKeyHex);
  ceremony = new Ceremony(manifest);
  const created = await api.request('POST', '/api/v1/elections', {
    admin: true,
    json: { manifest, roll: voters(3, `${E}-`).map((v) => v.credential) },
  });
  expect(created.status, created.text).toBe(201);
  await api.election(PLAIN, 2);
});

afterAll(async () => {
  await api?.close();
});

const post = (id: string, body: unknown, opts: { admin?: boolean; headers?: Record<string, string> } = {}) =>
  api.request('POST', url(id, 'trustee-messages'), {
    admin: opts.admin ?? true,
    headers: opts.headers,
    ...(typeof body === 'string' ? { body } : { json: body }),
  });

describe('POST …/trustee-messages', () => {
  it('needs the admin token, a JSON body and an election with trustees', async () => {
    const commit = ceremony.commit('t1');
    expect((await post(E, commit, { admin: false })).status).toBe(401);
    const text = await post(E, JSON.stringify(commit), { headers: { 'content-type': 'text/plain' } });
    expect([text.status, text.body.error.code]).toEqual([415, 'unsupported-media-type']);
    const junk = await post(E, '{"message":', { headers: { 'content-type': 'application/json' } });
    expect([junk.status, junk.body.error.code]).toEqual([400, 'malformed-json']);
    expect((await post('no-such-election', commit)).body.error.code).toBe('unknown-election');
    expect((await post('Not_An_Id', commit)).status).toBe(404);
    const plain = await post(PLAIN, commit);
    expect([plain.status, plain.body.error.code]).toEqual([404, 'not-found']);
    for (const tail of ['trustee-messages', 'aggregate', 'decryption']) {
      expect((await api.request('GET', url(PLAIN, tail))).body.error.code, tail).toBe('not-found');
      expect((await api.request('GET', url('no-such-election', tail))).body.error.code, tail).toBe('unknown-election');
    }
  });

  it('takes the body as sent: nothing is coerced or stripped, a changed message does not verify', async () => {
    const commit = ceremony.commit('t2');
    const asText = { ...commit, message: { ...commit.message, version: '2' } };
    const coerced = await post(E, asText);
    expect([coerced.status, coerced.body.error.code]).toEqual([400, 'invalid-body']);
    const extra = await post(E, { ...commit, note: 'hi' });
    expect([extra.status, extra.body.error.code]).toEqual([400, 'invalid-body']);
    const changed = { ...commit, message: { ...commit.message, shareKey: commit.message.commitments[0] } };
    const bad = await post(E, changed);
    expect([bad.status, bad.body.error.code]).toEqual([400, 'bad-signature']);
    const transcript = await api.request('GET', url(E, 'trustee-messages'));
    expect(transcript.body).toMatchObject({ messages: [], refused: [], publicKey: null, verificationKeys: null });
  });

  it('answers the ceremony’s order and repeat rules with their codes', async () => {
    const ids = ['t1', 't2', 't3'];
    const commits = ids.map((id) => ceremony.commit(id));
    expect((await post(E, commits[0])).status).toBe(201);
    const early = await post(E, ceremony.sharesOf('t1'));
    expect([early.status, early.body.error.code]).toEqual([409, 'ceremony-phase']);
    expect((await post(E, commits[0])).status).toBe(200);
    const second = await post(E, ceremony.commit('t1', 'other'));
    expect([second.status, second.body.error.code]).toEqual([409, 'trustee-message-exists']);
    for (const c of commits.slice(1)) expect((await post(E, c)).status).toBe(201);
    for (const id of ids) expect((await post(E, ceremony.sharesOf(id))).status).toBe(201);
    // A confirm whose key is not the commitments' (t1 confirms another H).
    const confirm = ceremony.confirm('t1').message;
    const otherKey = ceremony.sign('t1', { ...confirm, publicKey: confirm.verificationKeys.t1! });
    const lie = await post(E, otherKey);
    expect([lie.status, lie.body.error.code]).toEqual([422, 'invalid-proof']);
    expect(lie.body.error.message).toMatch(/^t1: /);
    const transcript = (await api.request('GET', url(E, 'trustee-messages'))).body;
    expect(transcript.refused.map((r: { code: string }) => r.code)).toEqual([
      'ceremony-phase',
      'trustee-message-exists',
      'invalid-proof',
    ]);
    expect(transcript.messages).toHaveLength(6);
    const spec = (await api.request('GET', '/docs/json')).body;
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/elections/{electionId}/trustee-messages',
        '/api/v1/elections/{electionId}/aggregate',
        '/api/v1/elections/{electionId}/decryption',
      ]),
    );
    expect(Object.keys(spec.paths['/api/v1/elections/{electionId}/trustee-messages'])).toEqual(['get', 'post']);
  });
});

describe('an encrypted election’s views', () => {
  it('opens with the key, shows turnout only, and the admin close answers what is known', async () => {
    const before = (await api.request('GET', `/api/v1/elections/${E}`)).body;
    expect(before).toMatchObject({ status: 'scheduled', encryption: { keyCeremony: 'in-progress', publicKey: null } });
    for (const id of ['t1', 't2', 't3']) expect((await post(E, ceremony.confirm(id))).status).toBe(201);
    const after = (await api.request('GET', `/api/v1/elections/${E}`)).body;
    expect(after).toMatchObject({
      status: 'open',
      encryption: { keyCeremony: 'complete', publicKey: ceremony.publicKey() },
    });
    const ctx = { manifest: ceremony.manifest, manifestHash: ceremony.manifestHash, publicKey: ceremony.publicKey() };
    const vs = voters(3, `${E}-`);
    for (const [i, v] of vs.slice(0, 2).entries()) {
      const r = await api.request('POST', url(E, 'ballots'), {
        json: v2.encryptBallot(ctx, v.seed, selectionsFor(i)).submission,
      });
      expect(r.status, r.text).toBe(201);
    }
    const results = await api.request('GET', url(E, 'results'));
    expect(results.body).toEqual({
      electionId: E,
      tally: null,
      totalBallots: 2,
      anchoredBallots: 0,
      asOfSeq: 1,
      contests: null,
      ballotMode: 'encrypted',
      decryption: null,
    });
    expect((await api.request('GET', url(E, 'results?format=csv'))).text).toBe('contest,choice,votes\r\n');

    const closed = await api.request('POST', url(E, 'close'), { admin: true });
    expect(closed.status, closed.text).toBe(202);
    expect(closed.body).toEqual({
      electionId: E,
      status: 'closed',
      tally: null,
      totalBallots: 2,
      resultHash: null,
      closeTx: null,
      closedAt: expect.stringMatching(/Z$/),
      ballotMode: 'encrypted',
      decryption: null,
    });
    expect(api.anchor.closes).toContain(E);
    // No worker here: the aggregate is not published, so nothing can be decrypted yet.
    expect((await api.request('GET', url(E, 'aggregate'))).body.error.code).toBe('not-closed');
    const late = await api.request('POST', url(E, 'ballots'), {
      json: v2.encryptBallot(ctx, vs[2]!.seed, selectionsFor(2)).submission,
    });
    expect(late.body.error.code).toBe('election-closed');
  });

  it('leaves version 1 bodies as they were: no encryption, no ballotMode', async () => {
    const view = (await api.request('GET', `/api/v1/elections/${PLAIN}`)).body;
    expect(Object.keys(view)).toEqual([
      'manifest',
      'manifestHash',
      'rollRoot',
      'rollSize',
      'status',
      'chainId',
      'contract',
      'chainRpcUrl',
      'registration',
      'closedAt',
      'result',
      'closeTx',
    ]);
    expect(Object.keys(view.manifest)).not.toContain('ballotMode');
    const results = (await api.request('GET', url(PLAIN, 'results'))).body;
    expect(Object.keys(results)).toEqual([
      'electionId',
      'tally',
      'totalBallots',
      'anchoredBallots',
      'asOfSeq',
      'contests',
    ]);
    const closed = (await api.request('POST', url(PLAIN, 'close'), { admin: true })).body;
    expect(Object.keys(closed)).toEqual([
      'electionId',
      'status',
      'tally',
      'totalBallots',
      'resultHash',
      'contests',
      'closeTx',
      'closedAt',
    ]);
    expect(closed.resultHash).toMatch(/^[0-9a-f]{64}$/);
  });
});
