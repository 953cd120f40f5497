// POST /api/v1/elections/{id}/ballots over HTTP: every status and error code of docs/protocol.md's table, the exact
// bodies, and "nothing stored but an audit row" for every refusal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { ballotFor, voter, type Voter } from '../../test/support/fixtures.js';
import { ballotHash, verifyReceipt } from '../../ledger/src/protocol/protocol.js';
import { jcs } from '../../ledger/src/protocol/jcs.js';
import { ERROR_CODES } from '../../ledger/src/protocol/errors.js';
import { build, ledgerCounts, request, testLedgerKey, type TestApi } from './helper.js';

let api: TestApi;
let vs: Voter[];
const E = 'ballots';
const url = `/api/v1/elections/${E}/ballots`;
const ledgerPub = Buffer.from(testLedgerKey.publicKeyHex, 'hex');

beforeAll(async () => {
  api = await build();
  ({ voters: vs } = await api.election(E, 20));
});

afterAll(async () => {
  await api?.close();
});

/** Post and check that exactly one audit row and no ballot were added. */
async function refused(
  path: string,
  init: { json?: unknown; body?: string; headers?: Record<string, string> },
  status: number,
  code: string,
) {
  const before = await ledgerCounts(api.db, E);
  const r = await api.request('POST', path, init);
  expect(r.status, r.text).toBe(status);
  expect(r.body).toEqual({ error: { code, message: expect.any(String) } });
  expect(Object.keys(r.body)).toEqual(['error']);
  expect(ERROR_CODES[code as keyof typeof ERROR_CODES].status).toBe(status);
  const after = await ledgerCounts(api.db, E);
  expect(after.ballots).toBe(before.ballots);
  expect(after.nextSeq).toBe(before.nextSeq);
  expect(after.rejected - before.rejected, `audit rows for ${code}`).toBe(1);
  const [last] = await api.db.admin`SELECT reason FROM rejected_attempt_counts ORDER BY last_at DESC LIMIT 1`;
  expect(last!.reason).toBe(code);
  return r;
}

describe('POST ballots', () => {
  it('201 with a valid signed receipt, committed before the reply', async () => {
    const sub = ballotFor(vs[0]!, E);
    const r = await api.request('POST', url, { json: sub });
    expect(r.status).toBe(201);
    expect(Object.keys(r.body)).toEqual(['receipt']);
    const receipt = r.body.receipt;
    expect(receipt).toMatchObject({ version: 1, electionId: E, seq: 0, ballotHash: ballotHash(sub).toString('hex') });
    expect(verifyReceipt(ledgerPub, receipt)).toBe(true);
    const [row] = await api.db
      .admin`SELECT ballot FROM ballots WHERE ballot_hash = decode(${receipt.ballotHash}, 'hex')`;
    expect(row!.ballot).toBe(jcs(sub.ballot));
  });

  it('200 with the original receipt for a byte-identical resubmission, also with another key order and spacing', async () => {
    const sub = ballotFor(vs[1]!, E);
    const first = await api.request('POST', url, { json: sub });
    expect(first.status).toBe(201);
    const before = await ledgerCounts(api.db, E);
    const again = await api.request('POST', url, { json: sub });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    // Same JSON value, other bytes: the same ballotHash (JCS), so the same receipt.
    const reordered = `{ "signature" : "${sub.signature}", "ballot": ${JSON.stringify({ selections: sub.ballot.selections, credential: sub.ballot.credential, version: 1, electionId: E }, null, 2)} }`;
    const third = await api.request('POST', url, {
      body: reordered,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(third.status).toBe(200);
    expect(third.body).toEqual(first.body);
    expect(await ledgerCounts(api.db, E)).toEqual(before);
  });

  it('409 for another ballot of the same credential: exact body, original receipt, running attemptCount', async () => {
    const first = await api.request('POST', url, { json: ballotFor(vs[2]!, E, { q1: ['oui'], council: [] }) });
    expect(first.status).toBe(201);
    for (const n of [1, 2]) {
      const before = await ledgerCounts(api.db, E);
      const r = await api.request('POST', url, {
        json: ballotFor(vs[2]!, E, { q1: ['non'], council: n === 1 ? ['bo'] : [] }),
      });
      expect(r.status).toBe(409);
      expect(Object.keys(r.body)).toEqual(['error', 'status', 'attemptCount', 'receipt']);
      expect(r.body).toEqual({
        error: { code: 'duplicate', message: expect.any(String) },
        status: 'duplicate',
        attemptCount: n,
        receipt: first.body.receipt,
      });
      expect(r.text.startsWith('{"error":{"code":"duplicate","message":')).toBe(true);
      const after = await ledgerCounts(api.db, E);
      expect(after.ballots).toBe(before.ballots);
      expect(after.rejected - before.rejected).toBe(1);
    }
  });

  it('400 malformed-json, recorded', async () => {
    await refused(
      url,
      { body: '{"ballot": {', headers: { 'content-type': 'application/json' } },
      400,
      'malformed-json',
    );
    await refused(url, { body: '', headers: { 'content-type': 'application/json' } }, 400, 'malformed-json');
  });

  it('400 invalid-body: schema problems are refused, never coerced or stripped', async () => {
    const good = ballotFor(vs[3]!, E);
    await refused(url, { json: { ballot: good.ballot } }, 400, 'invalid-body');
    await refused(url, { json: { ...good, extra: 1 } }, 400, 'invalid-body');
    await refused(url, { json: { ...good, ballot: { ...good.ballot, version: '1' } } }, 400, 'invalid-body');
    await refused(url, { json: { ...good, ballot: { ...good.ballot, comment: 'x' } } }, 400, 'invalid-body');
    await refused(url, { json: [good] }, 400, 'invalid-body');
    await refused(
      url,
      {
        body: `{"__proto__":{"polluted":1},"ballot":${JSON.stringify(good.ballot)},"signature":"${good.signature}"}`,
        headers: { 'content-type': 'application/json' },
      },
      400,
      'invalid-body',
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // after all that, the genuine ballot still goes in
    expect((await api.request('POST', url, { json: good })).status).toBe(201);
  });

  it('400 invalid-hex, wrong-election, bad-signature', async () => {
    const good = ballotFor(vs[4]!, E);
    await refused(url, { json: { ...good, signature: good.signature.toUpperCase() } }, 400, 'invalid-hex');
    await refused(
      url,
      { json: { ...good, ballot: { ...good.ballot, credential: good.ballot.credential.slice(2) } } },
      400,
      'invalid-hex',
    );
    await refused(url, { json: ballotFor(vs[4]!, 'other-election') }, 400, 'wrong-election');
    const flipped = good.signature.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    await refused(url, { json: { ...good, signature: flipped } }, 400, 'bad-signature');
    // a signature of another ballot
    await refused(
      url,
      { json: { ...good, signature: ballotFor(vs[4]!, E, { q1: ['non'], council: [] }).signature } },
      400,
      'bad-signature',
    );
  });

  it('403 credential-not-on-roll, election-not-open', async () => {
    await refused(url, { json: ballotFor(voter('outsider'), E) }, 403, 'credential-not-on-roll');
    const later = await api.election('later', 1, {
      opensAt: new Date(Date.now() + 3600_000).toISOString(),
      closesAt: new Date(Date.now() + 7200_000).toISOString(),
    });
    const r = await api.request('POST', '/api/v1/elections/later/ballots', {
      json: ballotFor(later.voters[0]!, 'later'),
    });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('election-not-open');
  });

  it('403 election-closed after the admin close', async () => {
    const { voters: cv } = await api.election('closing', 3);
    expect(
      (await api.request('POST', '/api/v1/elections/closing/ballots', { json: ballotFor(cv[0]!, 'closing') })).status,
    ).toBe(201);
    expect((await api.request('POST', '/api/v1/elections/closing/close', { admin: true })).status).toBe(202);
    const r = await api.request('POST', '/api/v1/elections/closing/ballots', { json: ballotFor(cv[1]!, 'closing') });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('election-closed');
  });

  it('404 unknown-election, also for an id that cannot exist (recorded, NUL-safe)', async () => {
    await refused(
      '/api/v1/elections/no-such-election/ballots',
      { json: ballotFor(vs[5]!, 'no-such-election') },
      404,
      'unknown-election',
    );
    await refused('/api/v1/elections/Not%20An%20Id/ballots', { json: ballotFor(vs[5]!, E) }, 404, 'unknown-election');
    await refused('/api/v1/elections/a%00b/ballots', { json: ballotFor(vs[5]!, E) }, 404, 'unknown-election');
  });

  it('413 body-too-large over 16 KiB, recorded; 16 KiB itself is read', async () => {
    const good = ballotFor(vs[6]!, E);
    const big = JSON.stringify({ ...good, pad: 'x'.repeat(17 * 1024) });
    await refused(url, { body: big, headers: { 'content-type': 'application/json' } }, 413, 'body-too-large');
    // exactly at the limit: parsed, then refused on its content (not 413)
    const padded = JSON.stringify({ ...good, pad: '' });
    const atLimit = padded.replace('"pad":""', `"pad":"${'y'.repeat(16 * 1024 - padded.length)}"`);
    expect(Buffer.byteLength(atLimit)).toBe(16 * 1024);
    await refused(url, { body: atLimit, headers: { 'content-type': 'application/json' } }, 400, 'invalid-body');
  });

  it('415 unsupported-media-type for a body that is not sent as JSON, recorded', async () => {
    const good = ballotFor(vs[7]!, E);
    await refused(
      url,
      { body: JSON.stringify(good), headers: { 'content-type': 'text/plain' } },
      415,
      'unsupported-media-type',
    );
    await refused(
      url,
      { body: JSON.stringify(good), headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      415,
      'unsupported-media-type',
    );
  });

  it('422 invalid-selections', async () => {
    await refused(url, { json: ballotFor(vs[8]!, E, { q1: ['oui', 'non'], council: [] }) }, 422, 'invalid-selections');
    await refused(url, { json: ballotFor(vs[8]!, E, { q1: ['maybe'], council: [] }) }, 422, 'invalid-selections');
    await refused(url, { json: ballotFor(vs[8]!, E, { q1: ['oui'] }) }, 422, 'invalid-selections');
    await refused(
      url,
      { json: ballotFor(vs[8]!, E, { q1: ['oui'], council: ['ana', 'ana'] }) },
      422,
      'invalid-selections',
    );
  });
});

describe('overload and outages', () => {
  it('503 overloaded with Retry-After when the ingest queue is full; nothing stored', async () => {
    const busy = await build({ db: api.db, ingest: { maxQueue: 0 } });
    try {
      const before = await ledgerCounts(api.db, E);
      const r = await busy.request('POST', url, { json: ballotFor(vs[9]!, E) });
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('1');
      expect(r.body).toEqual({ error: { code: 'overloaded', message: expect.any(String) } });
      expect((await ledgerCounts(api.db, E)).ballots).toBe(before.ballots);
    } finally {
      await busy.close();
    }
    // the ballot is accepted once the client retries on a healthy server
    expect((await api.request('POST', url, { json: ballotFor(vs[9]!, E) })).status).toBe(201);
  });

  it('503 unavailable with Retry-After when the database is down', async () => {
    const dead = postgres('postgres://nobody@127.0.0.1:1/none', { max: 1, connect_timeout: 2, onnotice: () => {} });
    const down = await build({ db: { ...api.db, app: dead }, rollCheckThreads: 1 });
    try {
      const r = await down.request('POST', '/api/v1/elections/any/ballots', { json: ballotFor(vs[10]!, 'any') });
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('5');
      expect(r.body.error.code).toBe('unavailable');
      const g = await down.request('GET', '/api/v1/elections/any');
      expect(g.status).toBe(503);
      expect(g.body.error.code).toBe('unavailable');
    } finally {
      await down.app.close();
      await dead.end({ timeout: 1 });
    }
  });
});

describe('rate limits', () => {
  it('BALLOT_RATE_LIMIT and RATE_LIMIT limit per IP and answer 429 rate-limited', async () => {
    const limited = await build({ db: api.db, rateLimits: { ballots: 3, other: 2 } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 3; i++)
        codes.push((await limited.request('POST', url, { json: ballotFor(vs[11]!, E) })).status);
      expect(codes).toEqual([201, 200, 200]);
      const r = await limited.request('POST', url, { json: ballotFor(vs[11]!, E) });
      expect(r.status).toBe(429);
      expect(r.body).toEqual({ error: { code: 'rate-limited', message: expect.any(String) } });
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      // the other routes have their own budget
      expect((await limited.request('GET', `/api/v1/elections/${E}`)).status).toBe(200);
      expect((await limited.request('GET', `/api/v1/elections/${E}`)).status).toBe(200);
      expect((await limited.request('GET', `/api/v1/elections/${E}`)).status).toBe(429);
    } finally {
      await limited.app.close();
    }
  });

  it('is on by default, shaped for honest traffic (more in rate-limits.test.ts)', async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, () => request(api.url, 'GET', `/api/v1/elections/${E}`)),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
  });
});
