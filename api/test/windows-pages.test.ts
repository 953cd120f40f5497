// GET /api/v1/elections/{id}/windows a page at a time: the v1 body while everything fits one page, then
// `next` and a Link header; the web pages' client (web/src/api.ts) follows the pages to the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, type TestApi } from './helper.js';
import { getWindows } from '../../web/src/api.js';

const PAGE = 3;
const E = 'paged';
const SEALED = 8;
let api: TestApi;

beforeAll(async () => {
  api = await build({ windowsPageLimit: PAGE });
  await api.election(E, 1);
  await api.election('few', 1);
  // Windows as the anchor worker writes them (no ballots needed: the route lists what is sealed).
  for (let i = 0; i < SEALED; i++) {
    await api.db.admin`INSERT INTO windows (election_id, window_index, first_seq, count, root)
      VALUES (${E}, ${i}, ${i}, 1, ${Buffer.alloc(32, i)})`;
  }
  await api.db.admin`INSERT INTO windows (election_id, window_index, first_seq, count, root)
    VALUES ('few', 0, 0, 1, ${Buffer.alloc(32, 9)})`;
});

afterAll(async () => {
  await api?.close();
});

const path = (q = '') => `/api/v1/elections/${E}/windows${q}`;

describe('GET …/windows pages', () => {
  it('keeps the v1 body when everything fits one page', async () => {
    const r = await api.request('GET', '/api/v1/elections/few/windows');
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual(['electionId', 'windows']);
    expect(r.body.windows.map((w: { index: number }) => w.index)).toEqual([0]);
    expect(r.headers.get('link')).toBeNull();
  });

  it('gives the first page with `next` and a Link header, then the rest page by page', async () => {
    const seen: number[] = [];
    let q = '';
    const nexts: number[] = [];
    for (let pages = 0; pages < 10; pages++) {
      const r = await api.request('GET', path(q));
      expect(r.status).toBe(200);
      expect(r.body.electionId).toBe(E);
      expect(r.body.windows.length).toBeLessThanOrEqual(PAGE);
      seen.push(...r.body.windows.map((w: { index: number }) => w.index));
      if (r.body.next === undefined) {
        expect(r.headers.get('link')).toBeNull();
        break;
      }
      nexts.push(r.body.next);
      expect(r.headers.get('link')).toBe(`<${path(`?from=${r.body.next}&limit=${PAGE}`)}>; rel="next"`);
      q = `?from=${r.body.next}`;
    }
    expect(nexts).toEqual([3, 6]);
    expect(seen).toEqual([...Array(SEALED).keys()]);
  });

  it('takes a smaller limit, caps a larger one at the page size, and is empty past the end', async () => {
    const two = await api.request('GET', path('?limit=2&from=1'));
    expect(two.body.windows.map((w: { index: number }) => w.index)).toEqual([1, 2]);
    expect(two.body.next).toBe(3);
    expect(two.headers.get('link')).toContain('from=3&limit=2');
    const big = await api.request('GET', path('?limit=1000'));
    expect(big.body.windows).toHaveLength(PAGE);
    const last = await api.request('GET', path('?from=7'));
    expect(last.body).toMatchObject({ electionId: E, windows: [{ index: 7 }] });
    expect(last.body).not.toHaveProperty('next');
    for (const from of ['8', '9999999999999999']) {
      const past = await api.request('GET', path(`?from=${from}`));
      expect(past.status, from).toBe(200);
      expect(past.body).toEqual({ electionId: E, windows: [] });
    }
  });

  it('refuses malformed paging parameters with 400 invalid-query', async () => {
    for (const q of ['from=-1', 'from=x', 'limit=0', 'limit=-3', 'limit=1.5', 'page=2']) {
      const r = await api.request('GET', path(`?${q}`));
      expect(r.status, q).toBe(400);
      expect(r.body.error.code).toBe('invalid-query');
    }
  });

  it('the web pages read every window, following the pages', async () => {
    // web/src/api.ts calls same-origin paths ("/api/v1/…"); here they go to the test server.
    const realFetch = globalThis.fetch;
    let calls = 0;
    globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
      calls++;
      return realFetch(new URL(String(input), api.url), init);
    }) as typeof fetch;
    try {
      const windows = await getWindows(E);
      expect(windows.map((w) => w.index)).toEqual([...Array(SEALED).keys()]);
      expect(calls).toBe(3);
    } finally {
      globalThis.fetch = realFetch;
    }
  });
});
