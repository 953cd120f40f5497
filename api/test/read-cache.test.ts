// Cached reads (#18): results (JSON and CSV), the election view and the window list answered from the
// process's snapshots with a strong ETag of the bytes, 304 on revalidation, a short Cache-Control while the
// election may change and a long one once nothing can; errors never cached; one serialized event for every
// results stream. Real PostgreSQL, real HTTP; the closed election on the whole stack (worker, anvil).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { ballotFor, testManifest, voters, type Voter } from '../../test/support/fixtures.js';
import { startStack, type Stack } from '../../test/support/stack.js';
import { until } from '../../test/support/wait.js';
import {
  ERROR_CACHE_CONTROL,
  FINAL_CACHE_CONTROL,
  LIVE_CACHE_CONTROL,
  ReadSnapshots,
  type Built,
} from '../src/services/read-snapshots.js';
import { build, request, type HttpResult, type TestApi } from './helper.js';

/** The ETag the API promises: base64url of the first 18 bytes of SHA-256 of the body, quoted. */
function etagOf(text: string): string {
  return `"${createHash('sha256').update(Buffer.from(text)).digest().subarray(0, 18).toString('base64url')}"`;
}

/** A 200 whose ETag is its bytes', then the revalidations that must answer 304 without a body. */
async function expectRevalidates(get: (h?: Record<string, string>) => Promise<HttpResult>, cacheControl: string) {
  const r = await get();
  expect(r.status, r.text).toBe(200);
  const etag = r.headers.get('etag')!;
  expect(etag).toBe(etagOf(r.text));
  expect(r.headers.get('cache-control')).toBe(cacheControl);
  for (const inm of [etag, `"nope", ${etag}`, `W/${etag}`, '*']) {
    const again = await get({ 'if-none-match': inm });
    expect(again.status, inm).toBe(304);
    expect(again.text).toBe('');
    expect(again.headers.get('etag')).toBe(etag);
    expect(again.headers.get('cache-control')).toBe(cacheControl);
  }
  const other = await get({ 'if-none-match': '"something-else"' });
  expect(other.status).toBe(200);
  expect(other.text).toBe(r.text);
  return r;
}

describe('cached reads on one API process', () => {
  let api: TestApi;
  let vs: Voter[];
  const E = 'cached';
  const paths = {
    results: `/api/v1/elections/${E}/results`,
    csv: `/api/v1/elections/${E}/results?format=csv`,
    view: `/api/v1/elections/${E}`,
    windows: `/api/v1/elections/${E}/windows`,
  };

  beforeAll(async () => {
    api = await build({ resultsStreams: { perClient: 100, total: 100 } });
    ({ voters: vs } = await api.election(E, 80));
    for (let i = 0; i < 3; i++)
      expect((await api.request('POST', `/api/v1/elections/${E}/ballots`, { json: ballotFor(vs[i]!, E) })).status).toBe(
        201,
      );
    // A window as the anchor worker writes it (the route lists what is sealed).
    await api.db.admin`INSERT INTO windows (election_id, window_index, first_seq, count, root)
      VALUES (${E}, 0, 0, 2, ${Buffer.alloc(32, 1)})`;
  });

  afterAll(async () => {
    await api?.close();
  });

  const get = (path: string) => (headers?: Record<string, string>) => api.request('GET', path, { headers });

  it('ETag of the bytes, 304 on If-None-Match (one tag, a list, a weak tag, *), the live Cache-Control', async () => {
    const results = await expectRevalidates(get(paths.results), LIVE_CACHE_CONTROL);
    expect(results.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(results.body).toMatchObject({ electionId: E, totalBallots: 3, asOfSeq: 2 });
    const csv = await expectRevalidates(get(paths.csv), LIVE_CACHE_CONTROL);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('x-total-ballots')).toBe('3');
    expect(csv.headers.get('etag')).not.toBe(results.headers.get('etag'));
    const view = await expectRevalidates(get(paths.view), LIVE_CACHE_CONTROL);
    expect(view.body).toMatchObject({ status: 'open', result: null });
    const windows = await expectRevalidates(get(paths.windows), LIVE_CACHE_CONTROL);
    expect(windows.body).toMatchObject({ electionId: E, windows: [{ index: 0, count: 2, anchor: null }] });
    // A page is a snapshot of its own, Link header included; a HEAD answers the same validators.
    const page = await expectRevalidates(get(`${paths.windows}?limit=1&from=0`), LIVE_CACHE_CONTROL);
    expect(page.body.windows).toHaveLength(1);
    const head = await api.request('HEAD', paths.results);
    expect(head.status).toBe(200);
    expect(head.headers.get('etag')).toBe(results.headers.get('etag'));
  });

  it("a ballot this process commits changes the ETags at once; another process's, once its snapshot is rebuilt", async () => {
    const before = await api.request('GET', paths.results);
    const csvBefore = await api.request('GET', paths.csv);
    const p = await api.request('POST', `/api/v1/elections/${E}/ballots`, { json: ballotFor(vs[3]!, E) });
    expect(p.status).toBe(201);
    // This process's own write invalidated the snapshot before the 201 left: no wait.
    const after = await api.request('GET', paths.results, {
      headers: { 'if-none-match': before.headers.get('etag')! },
    });
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ totalBallots: before.body.totalBallots + 1, asOfSeq: before.body.asOfSeq + 1 });
    expect(after.headers.get('etag')).toBe(etagOf(after.text));
    const csvAfter = await api.request('GET', paths.csv);
    expect(csvAfter.headers.get('etag')).not.toBe(csvBefore.headers.get('etag'));
    expect(csvAfter.headers.get('x-as-of-seq')).toBe(String(after.body.asOfSeq));

    // Another API process on the same ledger: its ballots show here once the snapshot is refreshed.
    const other = await build({ db: api.db });
    try {
      const seqs: number[] = [];
      for (let i = 4; i < 8; i++) {
        expect(
          (await other.request('POST', `/api/v1/elections/${E}/ballots`, { json: ballotFor(vs[i]!, E) })).status,
        ).toBe(201);
        seqs.push((await api.request('GET', paths.results)).body.asOfSeq);
      }
      const last = await until('the other process’s ballots in the results', async () => {
        const r = await api.request('GET', paths.results);
        seqs.push(r.body.asOfSeq);
        return r.body.asOfSeq === 7 ? r : null;
      });
      expect(last.headers.get('etag')).not.toBe(after.headers.get('etag'));
      // Never backwards, whatever the snapshot's age.
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    } finally {
      await other.app.close();
    }
  });

  it('the view and the window list change their ETags when the ledger does', async () => {
    const view = await api.request('GET', paths.view);
    const windows = await api.request('GET', paths.windows);
    // The anchor worker (another process) records an anchor: shown once the snapshot is rebuilt.
    await api.db.admin`UPDATE windows SET anchor_tx = ${`0x${'ab'.repeat(32)}`}, anchor_block = 9, anchored_at = now()
      WHERE election_id = ${E} AND window_index = 0`;
    const anchored = await until('the anchor in the window list', async () => {
      const r = await api.request('GET', paths.windows);
      return r.body.windows[0].anchor ? r : null;
    });
    expect(anchored.headers.get('etag')).not.toBe(windows.headers.get('etag'));
    expect(anchored.headers.get('etag')).toBe(etagOf(anchored.text));
    // A close through this process: the view shows it at once.
    expect((await api.request('POST', `/api/v1/elections/${E}/close`, { admin: true })).status).toBe(202);
    const closed = await api.request('GET', paths.view, { headers: { 'if-none-match': view.headers.get('etag')! } });
    expect(closed.status).toBe(200);
    expect(closed.body.status).toBe('closed');
    expect(closed.headers.get('etag')).not.toBe(view.headers.get('etag'));
    // Closed, but not every window anchored and no close transaction: still the live Cache-Control.
    expect(closed.headers.get('cache-control')).toBe(LIVE_CACHE_CONTROL);
    expect((await api.request('GET', paths.results)).headers.get('cache-control')).toBe(LIVE_CACHE_CONTROL);
  });

  it('errors keep their bodies and are never cached', async () => {
    for (const path of ['/api/v1/elections/nope', '/api/v1/elections/nope/results', '/api/v1/elections/nope/windows']) {
      const r = await api.request('GET', path);
      expect(r.status, path).toBe(404);
      expect(r.text).toBe('{"error":{"code":"unknown-election","message":"no election nope"}}');
      expect(r.headers.get('cache-control')).toBe(ERROR_CACHE_CONTROL);
      expect(r.headers.get('etag')).toBeNull();
    }
    const bad = await api.request('GET', `${paths.results}?format=xml`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('cache-control')).toBe(ERROR_CACHE_CONTROL);
    const noShard = await api.request('GET', `${paths.windows}?shard=3`);
    expect(noShard.status).toBe(400);
    expect(noShard.headers.get('cache-control')).toBe(ERROR_CACHE_CONTROL);
    // Refused before the handler (the rate limit's 429): not cached either.
    const limited = await build({ db: api.db, rateLimits: { reads: 1 } });
    try {
      expect((await limited.request('GET', paths.windows)).status).toBe(200);
      const r = await limited.request('GET', paths.windows);
      expect(r.status).toBe(429);
      expect(r.headers.get('cache-control')).toBe(ERROR_CACHE_CONTROL);
    } finally {
      await limited.app.close();
    }
  });
});

/** A results stream read event by event; `next()` gives the raw text of the next `event: results` block. */
async function openStream(url: string) {
  const ctrl = new AbortController();
  const res = await fetch(url, { signal: ctrl.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  const next = async (): Promise<string> => {
    for (;;) {
      const end = buf.indexOf('\n\n');
      if (end >= 0) {
        const block = buf.slice(0, end + 2);
        buf = buf.slice(end + 2);
        if (block.startsWith('event: results\n')) return block;
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buf += decoder.decode(value, { stream: true });
    }
  };
  const idOf = (block: string) => Number(/\nid: (-?\d+)\n/.exec(block)![1]);
  /** Events until the one of `asOfSeq`, which is returned. */
  const upTo = async (asOfSeq: number): Promise<string> => {
    for (;;) {
      const block = await next();
      if (idOf(block) === asOfSeq) return block;
    }
  };
  return { status: res.status, next, upTo, close: () => ctrl.abort() };
}

describe('results streams: one event for all', () => {
  let api: TestApi;
  let vs: Voter[];
  const E = 'fanout';
  const N = 50;

  beforeAll(async () => {
    api = await build({ resultsStreams: { perClient: 2 * N, total: N } });
    ({ voters: vs } = await api.election(E, 4));
  });

  afterAll(async () => {
    await api?.close();
  });

  it(`${N} subscribers get the same first event and the same bytes for each change, in the SSE format`, async () => {
    expect((await api.request('POST', `/api/v1/elections/${E}/ballots`, { json: ballotFor(vs[0]!, E) })).status).toBe(
      201,
    );
    const streams = await Promise.all(
      Array.from({ length: N }, () => openStream(`${api.url}/api/v1/elections/${E}/results/stream`)),
    );
    try {
      expect(streams.every((s) => s.status === 200)).toBe(true);
      const firsts = await Promise.all(streams.map((s) => s.next()));
      expect(new Set(firsts).size).toBe(1);
      const results = await api.request('GET', `/api/v1/elections/${E}/results`);
      expect(firsts[0]).toBe(`event: results\nid: 0\ndata: ${results.text}\n\n`);
      expect(api.app.tp.streams.size).toBe(N);
      // One subscription to the tracker for all the streams of the election (each change serialized once),
      // not one per stream.
      const tracker = api.app.tp.tally as unknown as {
        elections: Map<string, Promise<{ listeners: Set<unknown> } | null>>;
      };
      expect((await tracker.elections.get(E))!.listeners.size).toBe(1);

      for (let i = 1; i < 3; i++) {
        expect(
          (await api.request('POST', `/api/v1/elections/${E}/ballots`, { json: ballotFor(vs[i]!, E) })).status,
        ).toBe(201);
        const events = await Promise.all(streams.map((s) => s.upTo(i)));
        expect(new Set(events).size).toBe(1);
        const now = await api.request('GET', `/api/v1/elections/${E}/results`);
        expect(events[0]).toBe(`event: results\nid: ${i}\ndata: ${now.text}\n\n`);
      }
      // Past the cap of N streams: 503. A slot frees when a stream closes, and a stream opened then starts
      // from the current results.
      const late = await openStream(`${api.url}/api/v1/elections/${E}/results/stream`);
      expect(late.status).toBe(503);
      late.close();
      streams.pop()!.close();
      await until('a slot', async () => api.app.tp.streams.size < N);
      const joined = await openStream(`${api.url}/api/v1/elections/${E}/results/stream`);
      expect(joined.status).toBe(200);
      expect(await joined.next()).toMatch(/^event: results\nid: 2\n/);
      streams.push(joined);
    } finally {
      for (const s of streams) s.close();
    }
    await until('every stream closed', async () => api.app.tp.streams.size === 0);
  });
});

describe('ReadSnapshots', () => {
  const built = (value: number, over: Partial<Built<number>> = {}): Built<number> => ({
    value,
    content: String(value),
    final: false,
    bytes: 100,
    ...over,
  });

  it('coalesces: one build for any number of concurrent reads, another after an invalidation', async () => {
    const reads = new ReadSnapshots({ refreshMs: 60_000 });
    let builds = 0;
    const make = async () => built(++builds);
    const all = await Promise.all(Array.from({ length: 1000 }, () => reads.get('e', 'k', make)));
    expect(builds).toBe(1);
    expect(new Set(all.map((b) => b!.value))).toEqual(new Set([1]));
    expect((await reads.get('e', 'k', make))!.value).toBe(1);
    reads.invalidate('e');
    const again = await Promise.all(Array.from({ length: 100 }, () => reads.get('e', 'k', make)));
    expect(builds).toBe(2);
    expect(again.every((b) => b!.value === 2)).toBe(true);
    // Another election's writes do not touch it.
    reads.invalidate('f');
    expect((await reads.get('e', 'k', make))!.value).toBe(2);
    expect(builds).toBe(2);
  });

  it('keeps the old value for the same content and never installs a lower order', async () => {
    const reads = new ReadSnapshots({ refreshMs: 60_000 });
    const first = await reads.get('e', 'k', async () => built(1, { content: 'same', order: 5 }));
    reads.invalidate('e');
    const same = await reads.get('e', 'k', async () => built(2, { content: 'same', order: 5 }));
    expect(same).toBe(first);
    reads.invalidate('e');
    const back = await reads.get('e', 'k', async () => built(3, { content: 'older', order: 4 }));
    expect(back).toBe(first);
    reads.invalidate('e');
    const ahead = await reads.get('e', 'k', async () => built(4, { content: 'newer', order: 6 }));
    expect(ahead!.value).toBe(4);
  });

  it('is bounded in entries and bytes, least recently used first out; unknown and failed builds keep nothing', async () => {
    const reads = new ReadSnapshots({ maxEntries: 3, maxBytes: 1000 });
    for (let i = 0; i < 5; i++) await reads.get(`e${i}`, 'k', async () => built(i));
    expect(reads.size).toEqual({ entries: 3, bytes: 300 });
    // 900 bytes more: the two oldest go.
    await reads.get('big', 'k', async () => built(9, { bytes: 900 }));
    expect(reads.size).toEqual({ entries: 2, bytes: 1000 });
    expect(await reads.get('unknown', 'k', async () => null)).toBeNull();
    await expect(
      Promise.resolve(
        reads.get('failing', 'k', async () => {
          throw new Error('database down');
        }),
      ),
    ).rejects.toThrow('database down');
    expect(reads.size).toEqual({ entries: 2, bytes: 1000 });
  });
});

describe('a closed election on the whole stack', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('once closed, anchored and closed on chain: the long Cache-Control, revalidated to 304', async () => {
    const E = 'settled';
    const vs = voters(3, `${E}-`);
    const admin = { authorization: `Bearer ${stack.adminToken}` };
    const manifest = testManifest(E, stack.ledgerKey.publicKeyHex, { windowSeconds: 1 });
    const created = await request(stack.apiUrl, 'POST', '/api/v1/elections', {
      headers: admin,
      json: { manifest, roll: vs.map((v) => v.credential) },
    });
    expect(created.status).toBe(201);
    const path = {
      results: `/api/v1/elections/${E}/results`,
      csv: `/api/v1/elections/${E}/results?format=csv`,
      view: `/api/v1/elections/${E}`,
      windows: `/api/v1/elections/${E}/windows`,
    };
    const get = (p: string) => (headers?: Record<string, string>) => request(stack.apiUrl, 'GET', p, { headers });
    await until('registration', async () => (await get(path.view)()).body.registration);
    for (const v of vs.slice(0, 2))
      expect(
        (await request(stack.apiUrl, 'POST', `/api/v1/elections/${E}/ballots`, { json: ballotFor(v, E) })).status,
      ).toBe(201);
    for (const p of Object.values(path))
      expect((await get(p)()).headers.get('cache-control'), p).toBe(LIVE_CACHE_CONTROL);

    expect((await request(stack.apiUrl, 'POST', `/api/v1/elections/${E}/close`, { headers: admin })).status).toBe(202);
    // The worker seals and anchors the last window, then closes on chain: each read turns final once it can no
    // longer change.
    for (const p of Object.values(path))
      await until(`${p} final`, async () => (await get(p)()).headers.get('cache-control') === FINAL_CACHE_CONTROL);
    const results = await expectRevalidates(get(path.results), FINAL_CACHE_CONTROL);
    expect(results.body).toMatchObject({ totalBallots: 2, anchoredBallots: 2 });
    await expectRevalidates(get(path.csv), FINAL_CACHE_CONTROL);
    const view = await expectRevalidates(get(path.view), FINAL_CACHE_CONTROL);
    expect(view.body).toMatchObject({ status: 'closed', closeTx: { txHash: expect.any(String) } });
    const windows = await expectRevalidates(get(path.windows), FINAL_CACHE_CONTROL);
    expect(windows.body.windows.every((w: { anchor: unknown }) => w.anchor !== null)).toBe(true);
    // A refused ballot writes nothing: the snapshots stay final, with the same ETag.
    expect(
      (await request(stack.apiUrl, 'POST', `/api/v1/elections/${E}/ballots`, { json: ballotFor(vs[2]!, E) })).status,
    ).toBe(403);
    expect((await get(path.results)()).headers.get('etag')).toBe(results.headers.get('etag'));
  }, 120_000);
});
