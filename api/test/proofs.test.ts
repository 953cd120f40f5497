// Receipts and proof bundles, windows, the NDJSON ledger export and the results (JSON, CSV, SSE).
// Windows are sealed and anchored here the way the anchor worker does it: rows in `windows`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ballotFor, selectionsFor, type Voter } from '../../test/support/fixtures.js';
import { merkleRoot, verifyInclusion } from '../../ledger/src/protocol/merkle.js';
import { jcs } from '../../ledger/src/protocol/jcs.js';
import { build, type TestApi } from './helper.js';

let api: TestApi;
let vs: Voter[];
const E = 'proofs';
const receipts: any[] = [];

/** Seal ballots [firstSeq, firstSeq + count) as window `index`, as the anchor worker would. */
async function seal(index: number, firstSeq: number, count: number) {
  const rows = await api.db
    .admin`SELECT ballot_hash FROM ballots WHERE election_id = ${E} AND seq >= ${firstSeq} AND seq < ${firstSeq + count} ORDER BY seq`;
  const root = merkleRoot(rows.map((r) => r.ballot_hash as Buffer));
  await api.db
    .app`INSERT INTO windows (election_id, window_index, first_seq, count, root) VALUES (${E}, ${index}, ${firstSeq}, ${count}, ${root})`;
  await api.db
    .app`UPDATE election_heads SET sealed_through = ${firstSeq + count}, next_window_index = ${index + 1} WHERE election_id = ${E}`;
  return root.toString('hex');
}

async function anchor(index: number, tx: string, block: number) {
  await api.db
    .app`UPDATE windows SET anchor_tx = ${tx}, anchor_block = ${block}, anchored_at = now() WHERE election_id = ${E} AND window_index = ${index}`;
}

beforeAll(async () => {
  api = await build();
  ({ voters: vs } = await api.election(E, 30));
  for (let i = 0; i < 7; i++) {
    const r = await api.request('POST', `/api/v1/elections/${E}/ballots`, {
      json: ballotFor(vs[i]!, E, selectionsFor(i)),
    });
    receipts.push(r.body.receipt);
  }
});

afterAll(async () => {
  await api?.close();
});

describe('GET /api/v1/receipts/{ballotHash}', () => {
  it('pending: the receipt alone', async () => {
    const r = await api.request('GET', `/api/v1/receipts/${receipts[0].ballotHash}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ receipt: receipts[0], status: 'pending' });
    expect(Object.keys(r.body)).toEqual(['receipt', 'status']);
  });

  it('sealed: window and inclusion proof that verify against the root; anchored: the anchor too', async () => {
    const root0 = await seal(0, 0, 5);
    for (let seq = 0; seq < 5; seq++) {
      const r = await api.request('GET', `/api/v1/receipts/${receipts[seq].ballotHash}`);
      expect(r.body.status).toBe('sealed');
      expect(Object.keys(r.body)).toEqual(['receipt', 'status', 'window', 'inclusion']);
      expect(r.body.window).toEqual({ index: 0, firstSeq: 0, count: 5, root: root0 });
      expect(r.body.inclusion.leafIndex).toBe(seq);
      const ok = verifyInclusion(
        Buffer.from(receipts[seq].ballotHash, 'hex'),
        seq,
        5,
        r.body.inclusion.auditPath.map((h: string) => Buffer.from(h, 'hex')),
        Buffer.from(root0, 'hex'),
      );
      expect(ok).toBe(true);
    }
    // seq 5 and 6 are still pending
    expect((await api.request('GET', `/api/v1/receipts/${receipts[5].ballotHash}`)).body.status).toBe('pending');

    await anchor(0, '0x' + 'ab'.repeat(32), 77);
    const root1 = await seal(1, 5, 2);
    const a = await api.request('GET', `/api/v1/receipts/${receipts[2].ballotHash}`);
    expect(a.body).toEqual({
      receipt: receipts[2],
      status: 'anchored',
      window: { index: 0, firstSeq: 0, count: 5, root: root0 },
      inclusion: { leafIndex: 2, auditPath: expect.any(Array) },
      anchor: {
        chainId: 31337,
        contract: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
        txHash: '0x' + 'ab'.repeat(32),
        blockNumber: 77,
      },
    });
    const s = await api.request('GET', `/api/v1/receipts/${receipts[6].ballotHash}`);
    expect(s.body.status).toBe('sealed');
    expect(s.body.window).toEqual({ index: 1, firstSeq: 5, count: 2, root: root1 });
    expect(
      verifyInclusion(
        Buffer.from(receipts[6].ballotHash, 'hex'),
        1,
        2,
        s.body.inclusion.auditPath.map((h: string) => Buffer.from(h, 'hex')),
        Buffer.from(root1, 'hex'),
      ),
    ).toBe(true);
  });

  it('404 not-found for an unknown hash, 400 invalid-hex for a malformed one', async () => {
    const r = await api.request('GET', `/api/v1/receipts/${'0'.repeat(64)}`);
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('not-found');
    for (const h of ['xyz', 'AB'.repeat(32), '0'.repeat(63)]) {
      const b = await api.request('GET', `/api/v1/receipts/${h}`);
      expect(b.status).toBe(400);
      expect(b.body.error.code).toBe('invalid-hex');
    }
  });
});

describe('GET /api/v1/elections/{id}/windows', () => {
  it('lists windows with roots and anchors', async () => {
    const r = await api.request('GET', `/api/v1/elections/${E}/windows`);
    expect(r.status).toBe(200);
    expect(r.body.electionId).toBe(E);
    expect(r.body.windows).toHaveLength(2);
    expect(r.body.windows[0]).toMatchObject({
      index: 0,
      firstSeq: 0,
      count: 5,
      anchor: { chainId: 31337, txHash: '0x' + 'ab'.repeat(32), blockNumber: 77, anchoredAt: expect.any(String) },
    });
    expect(r.body.windows[1]).toMatchObject({
      index: 1,
      firstSeq: 5,
      count: 2,
      anchor: null,
      sealedAt: expect.any(String),
    });
    expect((await api.request('GET', '/api/v1/elections/nope/windows')).status).toBe(404);
  });
});

describe('GET /api/v1/elections/{id}/ledger', () => {
  it('streams NDJSON lines in seq order with the stored JCS ballot, from ?from=', async () => {
    const res = await fetch(`${api.url}/api/v1/elections/${E}/ledger`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const text = await res.text();
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(7);
    const rows = await api.db.admin`SELECT seq, ballot FROM ballots WHERE election_id = ${E} ORDER BY seq`;
    lines.forEach((line, i) => {
      const o = JSON.parse(line);
      expect(Object.keys(o)).toEqual(['seq', 'ballotHash', 'ballot', 'signature', 'receivedAt']);
      expect(o.seq).toBe(i);
      expect(o.ballotHash).toBe(receipts[i].ballotHash);
      expect(o.receivedAt).toBe(receipts[i].receivedAt);
      // byte-exact: the stored JCS text appears verbatim in the line
      expect(line).toContain(`"ballot":${rows[i]!.ballot}`);
      expect(jcs(o.ballot)).toBe(rows[i]!.ballot);
    });
    const from = await (await fetch(`${api.url}/api/v1/elections/${E}/ledger?from=5`)).text();
    expect(
      from
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).seq),
    ).toEqual([5, 6]);
    expect(await (await fetch(`${api.url}/api/v1/elections/${E}/ledger?from=100`)).text()).toBe('');
  });

  it('400 invalid-query for a malformed from, 404 for an unknown election', async () => {
    for (const q of ['from=-1', 'from=abc', 'from=1.5', 'other=1']) {
      const r = await api.request('GET', `/api/v1/elections/${E}/ledger?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.code).toBe('invalid-query');
    }
    expect((await api.request('GET', '/api/v1/elections/nope/ledger')).status).toBe(404);
  });
});

describe('results', () => {
  it('JSON: every choice (zeros too), totals, anchoredBallots and asOfSeq', async () => {
    const r = await api.request('GET', `/api/v1/elections/${E}/results`);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual([
      'electionId',
      'tally',
      'totalBallots',
      'anchoredBallots',
      'asOfSeq',
      'contests',
    ]);
    const expected = { q1: { oui: 0, non: 0 }, council: { ana: 0, bo: 0, chloe: 0 } } as Record<
      string,
      Record<string, number>
    >;
    const contests = { q1: { ballotsCounted: 7, blank: 0 }, council: { ballotsCounted: 7, blank: 0 } } as Record<
      string,
      { ballotsCounted: number; blank: number }
    >;
    for (let i = 0; i < 7; i++) {
      for (const [c, ks] of Object.entries(selectionsFor(i))) {
        for (const k of ks) expected[c]![k]!++;
        if (ks.length === 0) contests[c]!.blank++;
      }
    }
    expect(contests.council!.blank).toBeGreaterThan(0);
    expect(r.body).toEqual({
      electionId: E,
      tally: expected,
      totalBallots: 7,
      anchoredBallots: 5,
      asOfSeq: 6,
      contests,
    });
    const empty = await api.election('empty-results', 1);
    void empty;
    expect((await api.request('GET', '/api/v1/elections/empty-results/results')).body).toEqual({
      electionId: 'empty-results',
      tally: { q1: { oui: 0, non: 0 }, council: { ana: 0, bo: 0, chloe: 0 } },
      totalBallots: 0,
      anchoredBallots: 0,
      asOfSeq: -1,
      contests: { q1: { ballotsCounted: 0, blank: 0 }, council: { ballotsCounted: 0, blank: 0 } },
    });
  });

  it('CSV with ?format=csv; 400 for another format; 404 unknown election', async () => {
    const r = await api.request('GET', `/api/v1/elections/${E}/results?format=csv`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(r.headers.get('x-total-ballots')).toBe('7');
    const lines = r.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('contest,choice,votes');
    expect(lines).toHaveLength(10);
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 2).join(','))).toEqual([
      'q1,oui',
      'q1,non',
      'q1,(blank)',
      'q1,(ballots counted)',
      'council,ana',
      'council,bo',
      'council,chloe',
      'council,(blank)',
      'council,(ballots counted)',
    ]);
    expect((await api.request('GET', `/api/v1/elections/${E}/results?format=xml`)).body.error.code).toBe(
      'invalid-query',
    );
    expect((await api.request('GET', '/api/v1/elections/nope/results')).status).toBe(404);
  });

  // No wall-clock bound here (the suite must hold on a busy machine): an event that is never pushed hangs
  // nextEvent() until the test times out.
  it('SSE: the results now, then pushed after each commit (this process’s or another’s) and each anchoring', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${api.url}/api/v1/elections/${E}/results/stream`, { signal: ctrl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    const nextEvent = async (): Promise<any> => {
      for (;;) {
        const end = buf.indexOf('\n\n');
        if (end >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (data) return JSON.parse(data.slice(6));
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buf += decoder.decode(value, { stream: true });
      }
    };
    const first = await nextEvent();
    expect(first).toMatchObject({ electionId: E, totalBallots: 7, asOfSeq: 6 });
    for (let i = 7; i < 9; i++) {
      const p = await api.request('POST', `/api/v1/elections/${E}/ballots`, {
        json: ballotFor(vs[i]!, E, selectionsFor(i)),
      });
      expect(p.status).toBe(201);
      const ev = await nextEvent();
      expect(ev.asOfSeq).toBe(i);
      expect(ev.totalBallots).toBe(i + 1);
    }
    // a commit by another process (simulated: straight into the ledger through another app) is picked up by the poll
    const other = await build({ db: api.db });
    try {
      expect(
        (await other.request('POST', `/api/v1/elections/${E}/ballots`, { json: ballotFor(vs[9]!, E) })).status,
      ).toBe(201);
      const ev = await nextEvent();
      expect(ev.asOfSeq).toBe(9);
    } finally {
      await other.app.close();
    }
    await anchor(1, '0x' + 'cd'.repeat(32), 78);
    expect((await nextEvent()).anchoredBallots).toBe(7);
    ctrl.abort();
    const missing = await api.request('GET', '/api/v1/elections/nope/results/stream');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('unknown-election');
  });
});
