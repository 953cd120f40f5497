// Tiles (docs/protocol.md section 14) on the real stack: windows sealed as the anchor worker seals them, their
// tiles served by two API replicas of one ledger, proofs computed from them, revalidation, 404s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ballotFor, selectionsFor, type Voter } from '../../test/support/fixtures.js';
import { verifyInclusion } from '../../ledger/src/protocol/merkle.js';
import {
  TileBuilder,
  entryBundlePath,
  hashTilePath,
  inclusionProofFromTiles,
  parseEntryBundle,
  treeEntryBundleIds,
  treeTileIds,
} from '../../ledger/src/protocol/tiles.js';
import { sealWindow, shardOf } from '../../ledger/src/index.js';
import { referenceLeafHash, referencePath } from '../../ledger/test/helpers/rfc6962.js';
import { build, type TestApi } from './helper.js';

let api: TestApi;
let replica: TestApi;
const E = 'tiles';
const SIZES = [1, 256, 300]; // a lone partial tile; exactly one full tile; a full and a partial tile
const receipts: { ballotHash: string; seq: number }[] = [];
let vs: Voter[];

async function cast(id: string, voters: Voter[]) {
  const out = [];
  for (let i = 0; i < voters.length; i += 50) {
    const batch = voters
      .slice(i, i + 50)
      .map((v, j) =>
        api.request('POST', `/api/v1/elections/${id}/ballots`, { json: ballotFor(v, id, selectionsFor(i + j)) }),
      );
    for (const r of await Promise.all(batch)) {
      expect(r.status).toBe(201);
      out.push(r.body.receipt);
    }
  }
  return out;
}

async function bytes(base: string, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, { headers });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

const tileUrl = (window: number, path: string, id = E) => `/api/v1/elections/${id}/windows/${window}/${path}`;

beforeAll(async () => {
  api = await build();
  replica = await build({ db: api.db });
  ({ voters: vs } = await api.election(
    E,
    SIZES.reduce((a, b) => a + b),
  ));
  let at = 0;
  for (const size of SIZES) {
    receipts.push(...(await cast(E, vs.slice(at, at + size))));
    at += size;
    expect(await sealWindow(api.db.app, E)).not.toBeNull();
  }
}, 120_000);

afterAll(async () => {
  await replica?.close();
  await api?.close();
});

describe('tiles of sealed windows', () => {
  it('every tile and entry bundle, identical on both replicas, equal to the tiles of the window’s leaves', async () => {
    let first = 0;
    for (const [window, size] of SIZES.entries()) {
      const leaves = receipts.slice(first, first + size).map((r) => Buffer.from(r.ballotHash, 'hex'));
      first += size;
      const builder = new TileBuilder();
      for (const leaf of leaves) builder.pushLeaf(leaf);
      const tree = builder.finish();
      expect(tree.tiles.map((t) => hashTilePath(t))).toEqual(treeTileIds(size).map(hashTilePath));
      for (const t of tree.tiles) {
        const a = await bytes(api.url, tileUrl(window, hashTilePath(t)));
        const b = await bytes(replica.url, tileUrl(window, hashTilePath(t)));
        expect(a.status).toBe(200);
        expect(a.headers.get('content-type')).toBe('application/octet-stream');
        expect(a.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
        expect(a.headers.get('access-control-allow-origin')).toBe('*');
        expect(a.body.equals(t.data)).toBe(true);
        expect(b.body.equals(a.body)).toBe(true);
        expect(b.headers.get('etag')).toBe(a.headers.get('etag'));
      }
      expect(tree.entryBundles!.map(entryBundlePath)).toEqual(treeEntryBundleIds(size).map(entryBundlePath));
      for (const e of tree.entryBundles!) {
        const a = await bytes(api.url, tileUrl(window, entryBundlePath(e)));
        const b = await bytes(replica.url, tileUrl(window, entryBundlePath(e)));
        expect(a.status).toBe(200);
        expect(a.body.equals(e.data)).toBe(true);
        expect(b.body.equals(a.body)).toBe(true);
        expect(parseEntryBundle(a.body, e.width)).toEqual(leaves.slice(e.index * 256, e.index * 256 + e.width));
      }
    }
  });

  it('proofs computed from the served tiles equal the RFC 6962 audit paths and the proof bundles', async () => {
    let first = 0;
    for (const [window, size] of SIZES.entries()) {
      const leaves = receipts.slice(first, first + size).map((r) => Buffer.from(r.ballotHash, 'hex'));
      const reader = async (level: number, index: number, width: number) =>
        (await bytes(api.url, tileUrl(window, hashTilePath({ level, index, width })))).body;
      const { body: windows } = await api.request('GET', `/api/v1/elections/${E}/windows`);
      const root = Buffer.from(windows.windows[window].root, 'hex');
      for (const leafIndex of new Set([0, 1, 127, 255, 256, size - 1].filter((i) => i >= 0 && i < size))) {
        const path = await inclusionProofFromTiles(leafIndex, size, reader);
        expect(path).toEqual(referencePath(leafIndex, leaves.map(referenceLeafHash)));
        expect(verifyInclusion(leaves[leafIndex]!, leafIndex, size, path, root)).toBe(true);
        const bundle = await api.request('GET', `/api/v1/receipts/${receipts[first + leafIndex]!.ballotHash}`);
        expect(bundle.body.inclusion).toEqual({ leafIndex, auditPath: path.map((h) => h.toString('hex')) });
      }
      first += size;
    }
  });

  it('never change once served: revalidation is 304, and sealing more windows leaves them as they were', async () => {
    const path = tileUrl(2, 'tile/0/000');
    const before = await bytes(api.url, path);
    const etag = before.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]{64}-0-0-256"$/);
    for (const base of [api.url, replica.url]) {
      const again = await bytes(base, path, { 'if-none-match': etag });
      expect(again.status).toBe(304);
      expect(again.body.length).toBe(0);
      expect(again.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect((await bytes(base, path, { 'if-none-match': `"x", W/${etag}` })).status).toBe(304);
      expect((await bytes(base, path, { 'if-none-match': '*' })).status).toBe(304);
      expect((await bytes(base, path, { 'if-none-match': '"other"' })).status).toBe(200);
    }
    // More ballots and another window: the earlier tiles are the same bytes.
    const more = await api.election('tiles-more', 40);
    await cast('tiles-more', more.voters.slice(0, 20));
    await sealWindow(api.db.app, 'tiles-more');
    const w0 = await bytes(api.url, tileUrl(0, 'tile/0/000.p/20', 'tiles-more'));
    await cast('tiles-more', more.voters.slice(20));
    await sealWindow(api.db.app, 'tiles-more');
    const w0After = await bytes(replica.url, tileUrl(0, 'tile/0/000.p/20', 'tiles-more'));
    expect(w0After.body.equals(w0.body)).toBe(true);
    expect(w0After.headers.get('etag')).toBe(w0.headers.get('etag'));
    expect((await bytes(api.url, tileUrl(1, 'tile/0/000.p/20', 'tiles-more'))).status).toBe(200);
    // The database refuses to change them.
    await expect(api.db.app`UPDATE window_tiles SET data = data WHERE election_id = 'tiles-more'`).rejects.toThrow();
    await expect(api.db.app`DELETE FROM window_tiles WHERE election_id = 'tiles-more'`).rejects.toThrow();
  });

  it('404 with a short cache for tiles a window does not have, windows not sealed, and non-canonical paths', async () => {
    const missing = [
      tileUrl(0, 'tile/0/000'), // window 0 has one leaf: its tile is 000.p/1
      tileUrl(0, 'tile/0/000.p/2'),
      tileUrl(1, 'tile/1/000.p/2'), // 256 leaves: one hash at level 1 (tile 1/000.p/1)
      tileUrl(2, 'tile/0/001'),
      tileUrl(3, 'tile/0/000.p/1'), // not sealed
      tileUrl(0, 'tile/0/0'),
      tileUrl(0, 'tile/0/000.p/256'),
      tileUrl(0, 'tile/00/000.p/1'),
      tileUrl(0, 'tile/entries/000.p/2'),
      tileUrl(0, 'tile/0/x000/000.p/1'),
      `/api/v1/elections/${E}/shards/1/windows/0/tile/0/000.p/1`, // no shard 1
    ];
    for (const path of missing) {
      const r = await api.request('GET', path);
      expect([path, r.status]).toEqual([path, 404]);
      expect(r.headers.get('cache-control')).toBe('public, max-age=10');
      expect(r.body.error.code).toBe('not-found');
    }
    const unknown = await api.request('GET', tileUrl(0, 'tile/0/000.p/1', 'no-such-election'));
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('unknown-election');
    // The `/shards/0` form names shard 0 of an election of one shard.
    const viaShard = await bytes(api.url, `/api/v1/elections/${E}/shards/0/windows/0/tile/0/000.p/1`);
    expect(viaShard.body.equals((await bytes(api.url, tileUrl(0, 'tile/0/000.p/1'))).body)).toBe(true);
  });
});

describe('tiles of a sharded election', () => {
  it('each shard’s windows under /shards/{s}/, proofs from them verify against the shard window roots', async () => {
    const id = 'tiles-sharded';
    const { voters } = await api.election(id, 60, { shards: 3 });
    const cast60 = await cast(id, voters);
    for (let s = 0; s < 3; s++) await sealWindow(api.db.app, id, { shard: s });
    for (let s = 0; s < 3; s++) {
      const mine = cast60.filter((r) => r.shard === s).sort((a, b) => a.seq - b.seq);
      const inShard = voters.filter((v) => shardOf(Buffer.from(v.credential, 'hex'), 3) === s);
      expect(mine.length).toBe(inShard.length);
      const { body } = await api.request('GET', `/api/v1/elections/${id}/windows?shard=${s}`);
      const w = body.windows[0];
      expect(w.count).toBe(mine.length);
      const reader = async (level: number, index: number, width: number) =>
        (
          await bytes(
            replica.url,
            `/api/v1/elections/${id}/shards/${s}/windows/0/${hashTilePath({ level, index, width })}`,
          )
        ).body;
      for (const [leafIndex, r] of mine.entries()) {
        const path = await inclusionProofFromTiles(leafIndex, mine.length, reader);
        const ok = verifyInclusion(
          Buffer.from(r.ballotHash, 'hex'),
          leafIndex,
          mine.length,
          path,
          Buffer.from(w.root, 'hex'),
        );
        expect(ok).toBe(true);
      }
    }
  });
});
