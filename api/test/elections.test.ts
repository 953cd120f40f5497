// Elections over HTTP: creation (admin token, validation, idempotent retry, registration request), reading,
// the streamed roll (upload, finalize) and the close.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ballotFor, selectionsFor, testManifest, voter, voters } from '../../test/support/fixtures.js';
import { jcs } from '../../ledger/src/protocol/jcs.js';
import { sha256 } from '../../ledger/src/protocol/hash.js';
import { manifestHash, rollRoot } from '../../ledger/src/protocol/protocol.js';
import { until } from '../../test/support/wait.js';
import { ADMIN_TOKEN, build, ledgerCounts, testLedgerKey, type TestApi } from './helper.js';

let api: TestApi;
const key = testLedgerKey.publicKeyHex;
const SMALL_ORDER = '0000000000000000000000000000000000000000000000000000000000000000';
// y = 2 is not the y of a curve point: canonical but off the curve
const OFF_CURVE = '0200000000000000000000000000000000000000000000000000000000000000';
const NON_CANONICAL = 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f';

beforeAll(async () => {
  api = await build();
});

afterAll(async () => {
  await api?.close();
});

const sortedRoot = (creds: string[]) =>
  rollRoot(creds.map((c) => Buffer.from(c, 'hex')).sort(Buffer.compare)).toString('hex');

describe('admin token', () => {
  it('401 without, with a wrong or a malformed token; constant-time compare of the whole token', async () => {
    const body = { manifest: testManifest('auth', key), roll: [] };
    for (const headers of [
      {} as Record<string, string>,
      { authorization: `Bearer ${ADMIN_TOKEN}x` },
      { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` },
      { authorization: ADMIN_TOKEN },
      { authorization: `Basic ${ADMIN_TOKEN}` },
    ]) {
      const r = await api.request('POST', '/api/v1/elections', { json: body, headers });
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    for (const [method, path] of [
      ['PUT', '/api/v1/elections/auth/roll'],
      ['POST', '/api/v1/elections/auth/roll/finalize'],
      ['POST', '/api/v1/elections/auth/close'],
    ] as const) {
      expect((await api.request(method, path)).status).toBe(401);
    }
    const [{ n }] = (await api.db
      .admin`SELECT count(*)::int AS n FROM elections WHERE election_id = 'auth'`) as unknown as [{ n: number }];
    expect(n).toBe(0);
  });

  it('admin routes are closed when no ADMIN_TOKEN is configured', async () => {
    const open = await build({ db: api.db, adminToken: null });
    try {
      const r = await open.request('POST', '/api/v1/elections', {
        admin: true,
        json: { manifest: testManifest('x', key), roll: [] },
      });
      expect(r.status).toBe(401);
      expect(r.body.error.message).toMatch(/ADMIN_TOKEN/);
    } finally {
      await open.app.close();
    }
  });
});

describe('POST /api/v1/elections', () => {
  it('201 stores manifest and roll, freezes the roll and asks for the registration', async () => {
    const vs = voters(5, 'create-');
    const manifest = testManifest('create', key);
    const { ledgerKey: _omit, windowSeconds: _w, ...given } = manifest;
    const r = await api.request('POST', '/api/v1/elections', {
      admin: true,
      json: { manifest: given, roll: vs.map((v) => v.credential) },
    });
    expect(r.status).toBe(201);
    const expected = {
      electionId: 'create',
      manifestHash: manifestHash(manifest).toString('hex'),
      rollRoot: sortedRoot(vs.map((v) => v.credential)),
      rollSize: 5,
    };
    expect(r.body).toEqual(expected);
    expect(api.anchor.registrations).toContain('create');

    const g = await api.request('GET', '/api/v1/elections/create');
    expect(g.status).toBe(200);
    expect(g.body).toEqual({
      manifest,
      manifestHash: expected.manifestHash,
      rollRoot: expected.rollRoot,
      rollSize: 5,
      status: 'open',
      chainId: 31337,
      contract: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
      chainRpcUrl: null,
      registration: null,
      closedAt: null,
      result: null,
      closeTx: null,
    });
    expect(sha256(jcs(g.body.manifest)).toString('hex')).toBe(g.body.manifestHash);

    // once the worker has registered it (another process's write: the view's snapshot shows it within ~250 ms)
    await api.db
      .admin`UPDATE elections SET registration_tx = '0xabc123', registration_block = 42 WHERE election_id = 'create'`;
    const registered = await until('the registration in the view', async () => {
      const view = (await api.request('GET', '/api/v1/elections/create')).body;
      return view.registration ? view : null;
    });
    expect(registered.registration).toEqual({ txHash: '0xabc123', blockNumber: 42 });
  });

  it('re-sending the same creation answers 200 with the same body; another manifest under that id is 409', async () => {
    const vs = voters(3, 'again-');
    const body = { manifest: testManifest('again', key), roll: vs.map((v) => v.credential) };
    const first = await api.request('POST', '/api/v1/elections', { admin: true, json: body });
    expect(first.status).toBe(201);
    const second = await api.request('POST', '/api/v1/elections', {
      admin: true,
      json: { ...body, roll: [...body.roll].reverse() },
    });
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    const other = await api.request('POST', '/api/v1/elections', {
      admin: true,
      json: { ...body, manifest: { ...body.manifest, title: 'Other' } },
    });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('election-exists');
    const otherRoll = await api.request('POST', '/api/v1/elections', {
      admin: true,
      json: { ...body, roll: body.roll.slice(1) },
    });
    expect(otherRoll.status).toBe(409);
  });

  it('503 when the registration cannot be queued; the same request again succeeds and asks again', async () => {
    const body = { manifest: testManifest('queue-down', key), roll: [voter('q').credential] };
    api.anchor.failing = true;
    const r = await api.request('POST', '/api/v1/elections', { admin: true, json: body });
    api.anchor.failing = false;
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('unavailable');
    expect(r.headers.get('retry-after')).toBeTruthy();
    const again = await api.request('POST', '/api/v1/elections', { admin: true, json: body });
    expect(again.status).toBe(200);
    expect(api.anchor.registrations).toContain('queue-down');
  });

  it('400 invalid-manifest, invalid-roll, invalid-body, malformed-json; nothing stored', async () => {
    const m = testManifest('bad', key);
    const roll = [voter('b1').credential];
    const cases: [unknown, string][] = [
      [{ manifest: { ...m, version: 2 }, roll }, 'invalid-manifest'],
      [{ manifest: { ...m, electionId: 'Bad Id' }, roll }, 'invalid-manifest'],
      [{ manifest: { ...m, ledgerKey: 'ab'.repeat(32) }, roll }, 'invalid-manifest'],
      [{ manifest: { ...m, windowSeconds: 0 }, roll }, 'invalid-manifest'],
      [{ manifest: { ...m, windowSeconds: '60' }, roll }, 'invalid-manifest'],
      [{ manifest: { ...m, closesAt: m.opensAt }, roll }, 'invalid-manifest'],
      [{ manifest: { ...m, extra: true }, roll }, 'invalid-manifest'],
      [{ manifest: 'nope', roll }, 'invalid-manifest'],
      [{ manifest: m, roll: ['zz'] }, 'invalid-roll'],
      [{ manifest: m, roll: [roll[0]!.toUpperCase()] }, 'invalid-roll'],
      [{ manifest: m, roll: [SMALL_ORDER] }, 'invalid-roll'],
      [{ manifest: m, roll: [OFF_CURVE] }, 'invalid-roll'],
      [{ manifest: m, roll: [NON_CANONICAL] }, 'invalid-roll'],
      [{ manifest: m, roll: [roll[0], roll[0]] }, 'invalid-roll'],
      [{ manifest: m, roll: [1] }, 'invalid-roll'],
      [{ manifest: m, roll: 'abc' }, 'invalid-roll'],
      [{ manifest: m }, 'invalid-roll'],
      [{ manifest: m, roll, extra: 1 }, 'invalid-body'],
      [{ manifest: m, roll, rollPending: 'yes' }, 'invalid-body'],
      [{ roll }, 'invalid-body'],
    ];
    for (const [body, code] of cases) {
      const r = await api.request('POST', '/api/v1/elections', { admin: true, json: body });
      expect(r.status, `${code}: ${JSON.stringify(body).slice(0, 120)}`).toBe(400);
      expect(r.body.error.code, JSON.stringify(body).slice(0, 200)).toBe(code);
    }
    const r = await api.request('POST', '/api/v1/elections', {
      admin: true,
      body: '{"manifest":',
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('malformed-json');
    const [{ n }] = (await api.db
      .admin`SELECT count(*)::int AS n FROM elections WHERE election_id = 'bad'`) as unknown as [{ n: number }];
    expect(n).toBe(0);
  });
});

describe('GET /api/v1/elections/{id}', () => {
  it('404 unknown-election for an unknown or impossible id', async () => {
    for (const id of ['nope', 'UPPER', 'a'.repeat(70)]) {
      const r = await api.request('GET', `/api/v1/elections/${id}`);
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('unknown-election');
    }
  });

  it('chainRpcUrl: the public RPC URL given in the chain info, null when none is (never guessed)', async () => {
    // The app of this file is built without one.
    await api.election('no-rpc', 1);
    const none = await api.request('GET', '/api/v1/elections/no-rpc');
    expect(none.status).toBe(200);
    expect(none.body).toHaveProperty('chainRpcUrl', null);

    // Another app on the same database, with the chain info as server.ts gives it (a function, learnt later).
    const publicRpcUrl = 'https://rpc.example.org/tallyproof';
    const other = await build({
      db: api.db,
      chain: () => ({ chainId: 1981, contract: '0x5FbDB2315678afecb367f032d93F642f64180aa3', publicRpcUrl }),
    });
    try {
      const r = await other.request('GET', '/api/v1/elections/no-rpc');
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        chainId: 1981,
        contract: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
        chainRpcUrl: publicRpcUrl,
      });
      // Serialised by the response schema: in the OpenAPI document too.
      const spec = (await other.request('GET', '/docs/json')).body;
      const schema =
        spec.paths['/api/v1/elections/{electionId}'].get.responses['200'].content['application/json'].schema;
      expect(schema.required).toContain('chainRpcUrl');
      expect(schema.properties.chainRpcUrl).toMatchObject({ type: 'string', nullable: true });
    } finally {
      await other.close();
    }
  });

  it('status: scheduled before opensAt, closed after closesAt', async () => {
    await api.election('future', 1, {
      opensAt: new Date(Date.now() + 3600_000).toISOString(),
      closesAt: new Date(Date.now() + 7200_000).toISOString(),
    });
    expect((await api.request('GET', '/api/v1/elections/future')).body.status).toBe('scheduled');
    await api.election('past', 1, {
      opensAt: new Date(Date.now() - 7200_000).toISOString(),
      closesAt: new Date(Date.now() - 3600_000).toISOString(),
    });
    expect((await api.request('GET', '/api/v1/elections/past')).body.status).toBe('closed');
  });
});

const ndjson = (keys: string[]) => keys.map((k) => JSON.stringify(k)).join('\n') + '\n';

describe('streamed roll: rollPending, PUT roll, finalize', () => {
  it('loads a roll in parts, refuses bad parts whole, is idempotent, then freezes it and asks for registration', async () => {
    const vs = voters(40, 'stream-');
    const creds = vs.map((v) => v.credential);
    const created = await api.request('POST', '/api/v1/elections', {
      admin: true,
      json: { manifest: testManifest('stream', key), roll: creds.slice(0, 5), rollPending: true },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ electionId: 'stream', rollRoot: null, rollSize: 5 });
    expect(api.anchor.registrations).not.toContain('stream');
    const view = await api.request('GET', '/api/v1/elections/stream');
    expect(view.body).toMatchObject({ rollRoot: null, rollSize: 5, status: 'scheduled' });
    // no ballots before the roll is frozen
    const early = await api.request('POST', '/api/v1/elections/stream/ballots', { json: ballotFor(vs[0]!, 'stream') });
    expect(early.status).toBe(403);
    expect(early.body.error.code).toBe('election-not-open');

    const put = (body: string, contentType = 'application/x-ndjson') =>
      api.request('PUT', '/api/v1/elections/stream/roll', {
        admin: true,
        body,
        headers: { 'content-type': contentType },
      });
    const a = await put(ndjson(creds.slice(5, 20)));
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ electionId: 'stream', received: 15, added: 15, rollSize: 20 });
    // a retried upload (overlapping what is there) adds only what is new
    const b = await put(ndjson(creds.slice(0, 30)) + '\n\n');
    expect(b.body).toEqual({ electionId: 'stream', received: 30, added: 10, rollSize: 30 });
    // refused whole: a repeat inside one upload, a bad key, a line that is not a JSON string
    for (const [body, re] of [
      [ndjson([creds[30]!, creds[31]!, creds[30]!]), /repeats/],
      [ndjson([creds[32]!, SMALL_ORDER]), /line 2.*key-small-order/],
      [ndjson([creds[33]!, OFF_CURVE]), /key-not-on-curve/],
      [`${JSON.stringify(creds[34])}\n${creds[35]}\n`, /line 2 is not JSON/],
      [`${JSON.stringify(creds[34])}\n123\n`, /line 2 must be/],
    ] as const) {
      const r = await put(body);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('invalid-roll');
      expect(r.body.error.message).toMatch(re);
    }
    const wrongType = await put(JSON.stringify(creds.slice(30)), 'application/json');
    expect(wrongType.status).toBe(415);
    expect((await api.request('GET', '/api/v1/elections/stream')).body.rollSize).toBe(30);
    expect((await put(ndjson(creds.slice(30)))).body).toMatchObject({ added: 10, rollSize: 40 });

    const fin = await api.request('POST', '/api/v1/elections/stream/roll/finalize', { admin: true });
    expect(fin.status).toBe(200);
    expect(fin.body).toEqual({
      electionId: 'stream',
      manifestHash: created.body.manifestHash,
      rollRoot: sortedRoot(creds),
      rollSize: 40,
    });
    expect(api.anchor.registrations).toContain('stream');
    expect((await api.request('POST', '/api/v1/elections/stream/roll/finalize', { admin: true })).body).toEqual(
      fin.body,
    );
    const frozen = await put(ndjson([voter('late').credential]));
    expect(frozen.status).toBe(409);
    expect(frozen.body.error.code).toBe('roll-frozen');
    expect((await api.request('GET', '/api/v1/elections/stream')).body).toMatchObject({
      rollRoot: fin.body.rollRoot,
      rollSize: 40,
      status: 'open',
    });
    expect(
      (await api.request('POST', '/api/v1/elections/stream/ballots', { json: ballotFor(vs[0]!, 'stream') })).status,
    ).toBe(201);
  });

  it('404 for uploads and finalize of an unknown election', async () => {
    const r = await api.request('PUT', '/api/v1/elections/ghost/roll', {
      admin: true,
      body: ndjson([voter('g').credential]),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('unknown-election');
    expect((await api.request('POST', '/api/v1/elections/ghost/roll/finalize', { admin: true })).status).toBe(404);
  });
});

describe('POST /api/v1/elections/{id}/close', () => {
  it('202 with the final tally and resultHash, closes under the head lock, asks the worker, is idempotent', async () => {
    const { voters: vs } = await api.election('final', 12);
    const posts = await Promise.all(
      vs
        .slice(0, 10)
        .map((v, i) =>
          api.request('POST', '/api/v1/elections/final/ballots', { json: ballotFor(v, 'final', selectionsFor(i)) }),
        ),
    );
    expect(posts.every((p) => p.status === 201)).toBe(true);
    // ballots racing the close: each is either in the tally or refused as election-closed
    const racing = vs
      .slice(10)
      .map((v) => api.request('POST', '/api/v1/elections/final/ballots', { json: ballotFor(v, 'final') }));
    const r = await api.request('POST', '/api/v1/elections/final/close', {
      admin: true,
      headers: { 'content-type': 'application/json' },
    });
    const raced = await Promise.all(racing);
    expect(r.status).toBe(202);
    const counted = (await ledgerCounts(api.db, 'final')).ballots;
    expect(raced.every((x) => x.status === 201 || (x.status === 403 && x.body.error.code === 'election-closed'))).toBe(
      true,
    );
    expect(r.body.totalBallots).toBe(counted);
    expect(r.body.status).toBe('closed');
    const tally = r.body.tally;
    expect(Object.keys(tally)).toEqual(['q1', 'council']);
    expect(Object.values(tally.q1 as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(counted);
    expect(r.body.resultHash).toBe(sha256(jcs({ electionId: 'final', tally, totalBallots: counted })).toString('hex'));
    expect(api.anchor.closes).toContain('final');
    const [e] = await api.db
      .admin`SELECT encode(result_hash, 'hex') AS h, total_ballots, close_requested_at FROM elections WHERE election_id = 'final'`;
    expect(e!.h).toBe(r.body.resultHash);
    expect(Number(e!.total_ballots)).toBe(counted);
    expect(e!.close_requested_at).toBeInstanceOf(Date);
    const after = await api.request('POST', '/api/v1/elections/final/ballots', {
      json: ballotFor(voter('final-11'), 'final', { q1: ['non'], council: [] }),
    });
    expect(after.status).toBe(403);
    const again = await api.request('POST', '/api/v1/elections/final/close', { admin: true });
    expect(again.status).toBe(202);
    expect(again.body).toEqual(r.body);
    expect((await api.request('GET', '/api/v1/elections/final')).body.status).toBe('closed');
  });

  it('409 roll-pending before the roll is frozen; 404 for an unknown election', async () => {
    await api.request('POST', '/api/v1/elections', {
      admin: true,
      json: { manifest: testManifest('pending-close', key), rollPending: true },
    });
    const r = await api.request('POST', '/api/v1/elections/pending-close/close', { admin: true });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('roll-pending');
    expect((await api.request('POST', '/api/v1/elections/ghost/close', { admin: true })).status).toBe(404);
  });
});
