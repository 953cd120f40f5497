// What a client sees when something inside fails: a database that refuses connections or drops them is a
// 503 `unavailable` with a fixed message (the database's own words stay in the server log), and a
// SyntaxError thrown while handling a request is a 500, not the client's malformed JSON.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import postgres, { type Sql } from 'postgres';
import { ballotFor, voters } from '../../test/support/fixtures.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.js';
import { DATABASE_UNAVAILABLE, toApiError } from '../src/errors.js';
import { buildApp } from '../src/app.js';
import { build, request, testLedgerKey, type TestApi } from './helper.js';

/** Words of PostgreSQL, postgres.js and node:net that must never reach a client. */
const INTERNAL = /ECONNREFUSED|127\.0\.0\.1|postgres|terminat|shutting down|connect|administrator|tallyproof_app|57P/i;

function expectUnavailable(r: { status: number; body: any; text: string }, what: string) {
  expect(r.status, `${what}: ${r.text}`).toBe(503);
  expect(r.body.error.code, what).toBe('unavailable');
  expect(r.text, what).not.toMatch(INTERNAL);
}

describe('a database that refuses connections', () => {
  let closedPort: number;
  let sql: Sql;
  let api: TestApi;
  let db: TestDatabase;

  beforeAll(async () => {
    // A port that was just free and is closed again: connections to it are refused.
    const probe: Server = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    closedPort = (probe.address() as { port: number }).port;
    probe.close();
    await once(probe, 'close');
    db = await createTestDatabase();
    sql = postgres(`postgres://tallyproof_app:secret@127.0.0.1:${closedPort}/tallyproof`, {
      max: 2,
      connect_timeout: 5,
      onnotice: () => {},
    });
    api = await build({ db, sql });
  });

  afterAll(async () => {
    await api?.close();
    await sql?.end({ timeout: 1 });
    await db?.drop();
  });

  it('answers 503 unavailable with no database text on reads, ballots and health', async () => {
    expectUnavailable(await api.request('GET', '/api/v1/elections/some-election'), 'election');
    expectUnavailable(await api.request('GET', '/api/v1/elections/some-election/windows'), 'windows');
    expectUnavailable(await api.request('GET', '/api/v1/elections/some-election/results'), 'results');
    expectUnavailable(await api.request('GET', `/api/v1/receipts/${'ab'.repeat(32)}`), 'receipt');
    const [v] = voters(1, 'outage-');
    expectUnavailable(
      await api.request('POST', '/api/v1/elections/some-election/ballots', { json: ballotFor(v!, 'some-election') }),
      'ballot',
    );
    const health = await api.request('GET', '/api/v1/health');
    expect(health.status).toBe(503);
    expect(health.body.database).toBe('down');
    expect(health.text).not.toMatch(INTERNAL);
  });
});

describe('a database that drops the connections in use', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await build();
    await api.election('dropped', 3);
  });

  afterAll(async () => {
    await api?.close();
  });

  it('answers a request whose queries are cut off with 503 unavailable and no database text', async () => {
    // The request waits on the database (a lock held by the owner), then its backend is terminated.
    const lock = await api.db.admin.reserve();
    try {
      await lock`BEGIN`;
      await lock`LOCK TABLE election_heads IN ACCESS EXCLUSIVE MODE`;
      const [v] = voters(1, 'dropped-');
      const pending = api.request('POST', '/api/v1/elections/dropped/ballots', { json: ballotFor(v!, 'dropped') });
      const pendingRead = api.request('GET', '/api/v1/elections/dropped/results');
      // Wait until the app's queries are blocked on the lock, then terminate those backends.
      for (;;) {
        const app = await api.db.admin`
          SELECT pid FROM pg_stat_activity WHERE usename = 'tallyproof_app' AND wait_event_type = 'Lock'`;
        if (app.length >= 1) {
          for (const row of app) await api.db.admin`SELECT pg_terminate_backend(${row.pid})`;
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      await lock`ROLLBACK`;
      for (const [what, r] of [
        ['ballot', await pending],
        ['results', await pendingRead],
      ] as const) {
        if (r.status === 503) expectUnavailable(r, what);
        else expect(r.status, `${what}: ${r.text}`).toBeLessThan(500); // served on a fresh connection
        expect(r.text, what).not.toMatch(INTERNAL);
      }
    } finally {
      lock.release();
    }
  });
});

describe('a SyntaxError thrown while handling a request', () => {
  it('is a 500 internal, not 400 malformed-json; the parser’s own errors stay 400', async () => {
    const db = await createTestDatabase();
    const app = await buildApp({ sql: db.app, ledgerKey: testLedgerKey, verifyThreads: 1, processMetrics: false });
    const logged: string[] = [];
    app.addHook('onError', async (_req, _reply, err) => {
      logged.push(err.message);
    });
    // A route with a bug: it parses something of its own, not the client's body.
    app.get('/test/bug', async () => JSON.parse('{"unterminated'));
    app.post('/test/echo', async (req) => ({ got: req.body }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    try {
      const bug = await request(url, 'GET', '/test/bug');
      expect(bug.status).toBe(500);
      expect(bug.body.error).toEqual({ code: 'internal', message: 'internal error' });
      expect(logged.length).toBe(1);
      const bad = await request(url, 'POST', '/test/echo', {
        body: '{"a":',
        headers: { 'content-type': 'application/json' },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('malformed-json');
      expect(toApiError(new SyntaxError('Unexpected token'))).toMatchObject({ status: 500, code: 'internal' });
      expect(
        toApiError(Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' })),
      ).toEqual({ status: 503, code: 'unavailable', message: DATABASE_UNAVAILABLE });
    } finally {
      await app.close();
      await db.drop();
    }
  });
});
