// Rate limits out of the box: honest traffic (thousands of valid ballots a minute from one NAT address)
// never meets them; refused submissions and costly reads are throttled per client address far harder.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ballotFor, selectionsFor, voter, type Voter } from '../../test/support/fixtures.js';
import { ConfigError } from '../../ledger/src/config.js';
import { loadApiConfig } from '../src/config.js';
import {
  DEFAULT_RATE_LIMITS,
  EXPORT_ROUTES,
  READ_ROUTES,
  RefusalBudget,
  clientAddress,
} from '../src/services/rate-limits.js';
import { build, ledgerCounts, type TestApi } from './helper.js';

const E = 'limits';
const ballots = `/api/v1/elections/${E}/ballots`;
let api: TestApi;
let vs: Voter[];

beforeAll(async () => {
  // Default limits; X-Forwarded-For from the test plays the client addresses (one proxy hop trusted).
  api = await build({ trustProxy: 1, verifyThreads: 2 });
  ({ voters: vs } = await api.election(E, 2100));
});

afterAll(async () => {
  await api?.close();
});

const from = (address: string) => ({ 'x-forwarded-for': address });

/** Send `n` requests with at most 32 in flight; the statuses in order. */
async function statuses(n: number, send: (i: number) => Promise<{ status: number }>): Promise<number[]> {
  const out: number[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = (await send(i)).status;
      }
    }),
  );
  return out;
}

function tally(xs: number[]): Record<number, number> {
  const m: Record<number, number> = {};
  for (const s of xs) m[s] = (m[s] ?? 0) + 1;
  return m;
}

describe('rate limits are on by default', () => {
  it('thousands of valid ballots and their retries from one address all pass', async () => {
    const n = 2000;
    const subs = vs.slice(0, n).map((v, i) => ballotFor(v, E, selectionsFor(i)));
    const cast = await statuses(n, (i) => api.request('POST', ballots, { json: subs[i] }));
    expect(tally(cast)).toEqual({ 201: n });
    // a polling station retrying (byte-identical resubmissions: 200) is not refused either
    const again = await statuses(n, (i) => api.request('POST', ballots, { json: subs[i] }));
    expect(tally(again)).toEqual({ 200: n });
  }, 180_000);

  it('refused submissions use up a per-address budget; then every submission is 429 before any work', async () => {
    const budget = DEFAULT_RATE_LIMITS.refusedBallots;
    const abuser = from('192.0.2.66');
    const codes = await statuses(budget, (i) =>
      api.request('POST', ballots, { json: ballotFor(voter(`outsider-${i}`), E), headers: abuser }),
    );
    expect(tally(codes)).toEqual({ 403: budget });
    const before = await ledgerCounts(api.db, E);
    const received = await metric('tallyproof_ballots_received_total');
    // even a valid ballot is now refused unchecked, and refused submissions are no longer counted
    const valid = await api.request('POST', ballots, { json: ballotFor(vs[2050]!, E), headers: abuser });
    expect(valid.status).toBe(429);
    expect(valid.body).toEqual({ error: { code: 'rate-limited', message: expect.any(String) } });
    expect(Number(valid.headers.get('retry-after'))).toBeGreaterThan(0);
    const more = await statuses(50, (i) =>
      api.request('POST', ballots, {
        body: `{"junk":${i}}`,
        headers: { ...abuser, 'content-type': 'application/json' },
      }),
    );
    expect(tally(more)).toEqual({ 429: 50 });
    expect(await ledgerCounts(api.db, E)).toEqual(before);
    expect(await metric('tallyproof_ballots_received_total')).toBe(received);
    expect(await metric('tallyproof_rate_limited_total{limit="refused-ballots"}')).toBeGreaterThanOrEqual(51);
    // another address behind the same server is not affected
    const other = await api.request('POST', ballots, { json: ballotFor(vs[2051]!, E), headers: from('192.0.2.67') });
    expect(other.status).toBe(201);
  });

  it('bulk exports and costly reads have their own, far smaller budgets', async () => {
    const reader = from('192.0.2.80');
    const exportsDone = await statuses(DEFAULT_RATE_LIMITS.exports, (i) =>
      api.request('GET', `/api/v1/elections/${E}/${i % 2 ? 'ledger' : 'roll'}`, { headers: reader }),
    );
    expect(tally(exportsDone)).toEqual({ 200: DEFAULT_RATE_LIMITS.exports });
    for (const path of ['ledger', 'roll']) {
      const r = await api.request('GET', `/api/v1/elections/${E}/${path}`, { headers: reader });
      expect(r.status).toBe(429);
      expect(r.body.error.code).toBe('rate-limited');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // the cheap routes of the same address still answer
    expect((await api.request('GET', `/api/v1/elections/${E}`, { headers: reader })).status).toBe(200);
    // another address still exports
    expect((await api.request('GET', `/api/v1/elections/${E}/ledger`, { headers: from('192.0.2.81') })).status).toBe(
      200,
    );
  });

  it('every route the limits name as costly exists', () => {
    for (const url of [...READ_ROUTES, ...EXPORT_ROUTES])
      expect(api.app.hasRoute({ method: 'GET', url }), url).toBe(true);
  });
});

describe('rate limit settings', () => {
  it('reads share one budget; the window passing lifts a refusal block', async () => {
    const limited = await build({
      db: api.db,
      trustProxy: 1,
      rateLimits: { reads: 4, refusedBallots: 2, windowMs: 1000 },
    });
    try {
      const reader = from('198.51.100.5');
      const reads = await statuses(5, (i) =>
        limited.request('GET', i % 2 ? `/api/v1/elections/${E}/windows` : `/api/v1/receipts/${'ab'.repeat(32)}`, {
          headers: reader,
        }),
      );
      expect(reads.filter((s) => s === 429).length).toBe(1);
      const client = from('198.51.100.6');
      for (let i = 0; i < 2; i++)
        expect((await limited.request('POST', ballots, { json: {}, headers: client })).status).toBe(400);
      expect((await limited.request('POST', ballots, { json: ballotFor(vs[2060]!, E), headers: client })).status).toBe(
        429,
      );
      // wait for the condition (the window has passed), not for a fixed time
      let status = 429;
      for (let tries = 0; status === 429 && tries < 600; tries++) {
        await new Promise((r) => setTimeout(r, 50));
        status = (await limited.request('POST', ballots, { json: ballotFor(vs[2060]!, E), headers: client })).status;
      }
      expect(status).toBe(201);
    } finally {
      await limited.app.close();
    }
  });

  it('rateLimits: false (RATE_LIMITS=off) turns every limit off', async () => {
    const open = await build({ db: api.db, rateLimits: false });
    try {
      const codes = await statuses(DEFAULT_RATE_LIMITS.exports + 20, () =>
        open.request('GET', `/api/v1/elections/${E}/ledger`),
      );
      expect(tally(codes)).toEqual({ 200: DEFAULT_RATE_LIMITS.exports + 20 });
      const refused = await statuses(DEFAULT_RATE_LIMITS.refusedBallots + 20, () =>
        open.request('POST', ballots, { json: {} }),
      );
      expect(tally(refused)).toEqual({ 400: DEFAULT_RATE_LIMITS.refusedBallots + 20 });
    } finally {
      await open.app.close();
    }
  });

  it('configuration: on by default, RATE_LIMITS=off, each limit from its variable', () => {
    expect(loadApiConfig({}).rateLimits).toEqual(DEFAULT_RATE_LIMITS);
    expect(loadApiConfig({ RATE_LIMITS: 'off' }).rateLimits).toBe(false);
    expect(
      loadApiConfig({
        BALLOT_RATE_LIMIT: '100',
        REFUSED_BALLOT_LIMIT: '0',
        READ_RATE_LIMIT: '7',
        EXPORT_RATE_LIMIT: '3',
        RATE_LIMIT: '9',
      }).rateLimits,
    ).toEqual({ ballots: 100, refusedBallots: 0, reads: 7, exports: 3, other: 9, windowMs: 60_000 });
    for (const [name, value] of [
      ['RATE_LIMITS', 'maybe'],
      ['REFUSED_BALLOT_LIMIT', '-1'],
      ['READ_RATE_LIMIT', 'lots'],
      ['EXPORT_RATE_LIMIT', '1.5'],
    ] as const) {
      let err: unknown;
      try {
        loadApiConfig({ [name]: value });
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).variable).toBe(name);
    }
  });

  it('clients are counted by IPv4 address or IPv6 /64', () => {
    expect(clientAddress('203.0.113.9')).toBe('203.0.113.9');
    expect(clientAddress('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(clientAddress('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(clientAddress('2001:db8:1:2::9')).toBe('2001:db8:1:2::/64');
    expect(clientAddress('2001:0db8:0001:0002:ffff::1')).toBe('2001:db8:1:2::/64');
    expect(clientAddress('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientAddress('::1')).toBe('0:0:0:0::/64');
    expect(clientAddress('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientAddress('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    expect(clientAddress('not an address')).toBe('invalid');
    expect(clientAddress('x'.repeat(10_000))).toBe('invalid');
  });

  it('the refusal budget forgets the least recently refused address first, and expired windows', () => {
    let now = 0;
    const b = new RefusalBudget(2, 1000, 3, () => now);
    for (const c of ['a', 'a', 'b', 'b', 'c', 'c']) b.add(c);
    expect(['a', 'b', 'c'].map((c) => b.blocked(c) > 0)).toEqual([true, true, true]);
    b.add('d'); // a fourth address: "a" is forgotten
    expect(b.blocked('a')).toBe(0);
    now = 1000;
    expect(b.blocked('b')).toBe(0);
  });
});

async function metric(name: string): Promise<number> {
  const text = (await api.request('GET', '/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}
