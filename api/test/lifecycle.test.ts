// The lifecycle as GET /api/v1/elections/{id} and the ballot refusals tell it (#15 item 2): closedAt is the
// actual close (an early admin close, else the scheduled closesAt), the result and the close transaction
// appear once they exist, and a late ballot's error names the actual close time, never a scheduled one
// that has not come yet.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonRpcProvider } from 'ethers';
import { ballotFor, testManifest, voters } from '../../test/support/fixtures.js';
import { startStack, type Stack } from '../../test/support/stack.js';
import { until } from '../../test/support/wait.js';
import { electionKey, tallyAnchor } from '../../contracts/index.js';
import { build, request, type TestApi } from './helper.js';

const hour = 3600_000;

describe('the election view and refusals along the lifecycle (API, no chain)', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await build();
  });
  afterAll(async () => {
    await api?.close();
  });

  it('an early admin close: closedAt is the close, not closesAt; the result appears; a late ballot names the close', async () => {
    const { manifest, voters: vs } = await api.election('early', 4);
    const open = (await api.request('GET', '/api/v1/elections/early')).body;
    expect(open).toMatchObject({ status: 'open', closedAt: null, result: null, closeTx: null });

    for (const v of vs.slice(0, 2))
      expect(
        (await api.request('POST', '/api/v1/elections/early/ballots', { json: ballotFor(v, 'early') })).status,
      ).toBe(201);
    const closed = await api.request('POST', '/api/v1/elections/early/close', { admin: true });
    expect(closed.status).toBe(202);
    const closedAt: string = closed.body.closedAt;
    expect(closedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // The scheduled close is a day ahead (testManifest): the actual close came long before it.
    expect(Date.parse(closedAt)).toBeLessThan(Date.parse(manifest.closesAt) - hour);

    const view = (await api.request('GET', '/api/v1/elections/early')).body;
    expect(view).toMatchObject({
      status: 'closed',
      closedAt,
      result: { resultHash: closed.body.resultHash, totalBallots: 2 },
      closeTx: null, // the fake queue sends nothing to a chain
    });
    // The fields of v1 are unchanged, in their order, with the new ones after them.
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

    const late = await api.request('POST', '/api/v1/elections/early/ballots', { json: ballotFor(vs[2]!, 'early') });
    expect(late.status).toBe(403);
    expect(late.body.error).toEqual({ code: 'election-closed', message: `the election closed at ${closedAt}` });

    // Closing again changes nothing: the same close time, the same result.
    const again = await api.request('POST', '/api/v1/elections/early/close', { admin: true });
    expect(again.body).toMatchObject({ closedAt, resultHash: closed.body.resultHash });
  });

  it('a scheduled close: closedAt is closesAt, no result until the admin close, and a later close keeps closesAt', async () => {
    const { manifest, voters: vs } = await api.election('lapsed', 2, {
      opensAt: new Date(Date.now() - 2 * hour).toISOString(),
      closesAt: new Date(Date.now() - hour).toISOString(),
    });
    expect((await api.request('GET', '/api/v1/elections/lapsed')).body).toMatchObject({
      status: 'closed',
      closedAt: manifest.closesAt,
      result: null,
      closeTx: null,
    });
    const late = await api.request('POST', '/api/v1/elections/lapsed/ballots', { json: ballotFor(vs[0]!, 'lapsed') });
    expect(late.body.error).toEqual({
      code: 'election-closed',
      message: `the election closed at ${manifest.closesAt}`,
    });
    // Ballots stopped at closesAt; the close taken afterwards does not move that.
    const closed = await api.request('POST', '/api/v1/elections/lapsed/close', { admin: true });
    expect(closed.body).toMatchObject({ closedAt: manifest.closesAt, totalBallots: 0 });
    expect((await api.request('GET', '/api/v1/elections/lapsed')).body).toMatchObject({
      closedAt: manifest.closesAt,
      result: { resultHash: closed.body.resultHash, totalBallots: 0 },
    });
  });

  it('closed by another API process: the refusal under the head lock names the close time too', async () => {
    // Two processes on one ledger: `other` caches the election as open (its cache lives a second), then
    // `api` closes it. The ballot `other` takes next passes its cached checks and is refused under the lock.
    const other = await build({ db: api.db });
    try {
      const { voters: vs } = await api.election('replicas', 3);
      const cast = (t: TestApi, i: number) =>
        t.request('POST', '/api/v1/elections/replicas/ballots', { json: ballotFor(vs[i]!, 'replicas') });
      expect((await cast(other, 0)).status).toBe(201);
      const closed = await api.request('POST', '/api/v1/elections/replicas/close', { admin: true });
      const late = await cast(other, 1);
      expect(late.body.error).toEqual({
        code: 'election-closed',
        message: `the election closed at ${closed.body.closedAt}`,
      });
    } finally {
      await other.close();
    }
  });

  it('a scheduled election: not closed, nothing to show yet', async () => {
    await api.election('later', 1, {
      opensAt: new Date(Date.now() + hour).toISOString(),
      closesAt: new Date(Date.now() + 2 * hour).toISOString(),
    });
    expect((await api.request('GET', '/api/v1/elections/later')).body).toMatchObject({
      status: 'scheduled',
      closedAt: null,
      result: null,
      closeTx: null,
    });
  });

  it('the OpenAPI document describes the new fields', async () => {
    const spec = (await api.request('GET', '/docs/json')).body;
    const schema = spec.paths['/api/v1/elections/{electionId}'].get.responses['200'].content['application/json'].schema;
    expect(schema.required).toEqual(expect.arrayContaining(['closedAt', 'result', 'closeTx']));
    expect(schema.properties.result.properties).toHaveProperty('resultHash');
    expect(schema.properties.closeTx.properties).toHaveProperty('blockNumber');
    const close = spec.paths['/api/v1/elections/{electionId}/close'].post.responses['202'].content['application/json'];
    expect(close.schema.properties).toHaveProperty('closedAt');
  });
});

describe('closeTx with the anchor worker and a chain', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it("GET shows the close transaction once mined: the chain's ElectionClosed event, with the same result", async () => {
    const E = 'closing-tx';
    const api = (method: string, path: string, admin = false) =>
      request(stack.apiUrl, method, path, admin ? { headers: { authorization: `Bearer ${stack.adminToken}` } } : {});
    const vs = voters(2, `${E}-`);
    const manifest = testManifest(E, stack.ledgerKey.publicKeyHex, { windowSeconds: 1 });
    const created = await request(stack.apiUrl, 'POST', '/api/v1/elections', {
      headers: { authorization: `Bearer ${stack.adminToken}` },
      json: { manifest, roll: vs.map((v) => v.credential) },
    });
    expect(created.status).toBe(201);
    await until('registration', async () => (await api('GET', `/api/v1/elections/${E}`)).body.registration);
    expect(
      (await request(stack.apiUrl, 'POST', `/api/v1/elections/${E}/ballots`, { json: ballotFor(vs[0]!, E) })).status,
    ).toBe(201);
    const closed = await api('POST', `/api/v1/elections/${E}/close`, true);
    expect(closed.status).toBe(202);

    const view = await until('closeTx', async () => {
      const body = (await api('GET', `/api/v1/elections/${E}`)).body;
      return body.closeTx ? body : null;
    });
    expect(view).toMatchObject({ closedAt: closed.body.closedAt, result: { resultHash: closed.body.resultHash } });
    const provider = new JsonRpcProvider(stack.rpcUrl, stack.chainId, { staticNetwork: true });
    try {
      const contract = tallyAnchor(stack.contractAddress, provider);
      const [event] = await contract.queryFilter(contract.filters.ElectionClosed!(electionKey(E)));
      expect(view.closeTx).toEqual({ txHash: event!.transactionHash, blockNumber: event!.blockNumber });
      expect((await contract.getElection(electionKey(E))).resultHash).toBe(`0x${closed.body.resultHash}`);
    } finally {
      provider.destroy();
    }
    // The close route answers the recorded transaction too, from then on.
    expect((await api('POST', `/api/v1/elections/${E}/close`, true)).body.closeTx).toBe(view.closeTx.txHash);
  }, 90_000);
});
