// The voter page's tile code (web/src/tiles.ts) under Node: paths and tiles against docs/test-vectors/tiles.json,
// every audit path for tree sizes 1..300 against RFC 6962's PATH written straight from section 2.1.1, at most two
// tiles read per level, and a tile changed anywhere the proof depends on caught by the check the page makes
// (the leaf in the level-0 tile, then the root the path leads to).
import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { bytesToHex, leafHash, nodeHash, rootFromInclusionProof } from '../src/protocol.js';
import {
  TILE_WIDTH,
  TileError,
  entryBundlePath,
  proofFromTiles,
  tileHoldsLeaf,
  tilePath,
  tileReadsFor,
  tileUrl,
  tileWidthAt,
  type TileId,
  type TileReader,
} from '../src/tiles.js';
import { chooseTilesBase } from '../src/tiles-url.js';

interface TileVectors {
  leafPrefix: string;
  paths: { level: number | 'entries'; index: number; width: number; path: string }[];
  trees: {
    size: number;
    root: string;
    tiles: { path: string; sha256: string }[];
    entryBundles: { path: string; sha256: string }[];
    proofs: { leafIndex: number; leaf: string; auditPath: string[]; tileReads: string[] }[];
  }[];
}

const vectors = JSON.parse(
  readFileSync(new URL('../../docs/test-vectors/tiles.json', import.meta.url), 'utf8'),
) as TileVectors;

const leafOf = (i: number) => sha256(utf8ToBytes(`${vectors.leafPrefix}${i}`));
/** Leaf i of every tree (the vectors' leaves), up to the largest tree used here. */
const BIG = 70_000; // three tile levels, partial tiles at each
const LEAVES = Array.from({ length: Math.max(...vectors.trees.map((t) => t.size), BIG) }, (_, i) => leafOf(i));

/** Hashes up a full tile's 256 hashes to their subtree root. */
function fullTileHash(hashes: Uint8Array[]): Uint8Array {
  let level = hashes;
  while (level.length > 1)
    level = Array.from({ length: level.length / 2 }, (_, i) => nodeHash(level[2 * i]!, level[2 * i + 1]!));
  return level[0]!;
}

/**
 * The tiles of the tree of `leaves`, built the plain way (level 0 the leaf hashes, each level above the hash of
 * every full tile below), as `level/index` → bytes; and a reader over them that records what it is asked.
 */
function tilesOfTree(leaves: Uint8Array[]) {
  const levels: Uint8Array[][] = [leaves.map(leafHash)];
  while (levels.at(-1)!.length >= TILE_WIDTH) {
    const below = levels.at(-1)!;
    const up: Uint8Array[] = [];
    for (let i = 0; i + TILE_WIDTH <= below.length; i += TILE_WIDTH)
      up.push(fullTileHash(below.slice(i, i + TILE_WIDTH)));
    levels.push(up);
  }
  const tiles = new Map<string, { id: TileId; data: Uint8Array }>();
  levels.forEach((hashes, level) => {
    for (let index = 0; index * TILE_WIDTH < hashes.length; index++) {
      const slice = hashes.slice(index * TILE_WIDTH, (index + 1) * TILE_WIDTH);
      tiles.set(`${level}/${index}`, { id: { level, index, width: slice.length }, data: concatBytes(...slice) });
    }
  });
  const reads: TileId[] = [];
  const read: TileReader = async (t) => {
    reads.push(t);
    const tile = tiles.get(`${t.level}/${t.index}`);
    if (!tile || tile.id.width !== t.width) throw new TileError('unreadable', `no tile ${tilePath(t)}`);
    return tile.data;
  };
  return { tiles, read, reads };
}

// RFC 6962 2.1.1, recursive, with MTH(D[lo:hi]) memoised (the same leaves for every size, so every range is too).
const mthMemo = new Map<string, Uint8Array>();
function mth(lo: number, hi: number): Uint8Array {
  if (hi - lo === 1) return leafHash(LEAVES[lo]!);
  const key = `${lo}:${hi}`;
  let h = mthMemo.get(key);
  if (!h) {
    const k = largestPowerBelow(hi - lo);
    h = nodeHash(mth(lo, lo + k), mth(lo + k, hi));
    mthMemo.set(key, h);
  }
  return h;
}
function largestPowerBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
/** PATH(m, D[lo:hi]), leaf-most first. */
function rfcPath(m: number, lo: number, hi: number): Uint8Array[] {
  if (hi - lo <= 1) return [];
  const k = largestPowerBelow(hi - lo);
  return m < k ? [...rfcPath(m, lo, lo + k), mth(lo + k, hi)] : [...rfcPath(m - k, lo + k, hi), mth(lo, lo + k)];
}

const hexAll = (hashes: Uint8Array[]) => hashes.map(bytesToHex);

describe('tile paths (tiles.json)', () => {
  it('writes every path of the vectors', () => {
    for (const c of vectors.paths) {
      const made = c.level === 'entries' ? entryBundlePath(c.index, c.width) : tilePath(c as TileId);
      expect(made, JSON.stringify(c)).toBe(c.path);
    }
  });

  it('refuses coordinates no path has', () => {
    for (const t of [
      { level: 64, index: 0, width: 256 },
      { level: 0, index: -1, width: 256 },
      { level: 0, index: 0, width: 0 },
      { level: 0, index: 0, width: 257 },
      { level: 0, index: 2 ** 53, width: 1 },
    ])
      expect(() => tilePath(t), JSON.stringify(t)).toThrow(RangeError);
  });

  it('places a window’s tiles under the base as the API serves them, with or without a shard', () => {
    const t = { level: 0, index: 1234067, width: 8 };
    expect(tileUrl('https://cdn.example/tp/', 'e-1', 3, null, t)).toBe(
      'https://cdn.example/tp/e-1/windows/3/tile/0/x001/x234/067.p/8',
    );
    expect(tileUrl('http://127.0.0.1:8080/api/v1/elections', 'e-1', 0, 2, { level: 1, index: 0, width: 256 })).toBe(
      'http://127.0.0.1:8080/api/v1/elections/e-1/shards/2/windows/0/tile/1/000',
    );
  });
});

describe('where the page reads tiles (tiles-url.ts)', () => {
  const page = 'https://vote.example/?election=e-1&receipt=ab';
  it('the field (or ?tiles=), else the saved base, else this origin’s API; always absolute and ending in /', () => {
    expect(chooseTilesBase('', '', page)).toBe('https://vote.example/api/v1/elections/');
    expect(chooseTilesBase(null, 'https://cdn.example/tp', page)).toBe('https://cdn.example/tp/');
    expect(chooseTilesBase(' https://mirror.example/x/?q=1#h ', 'https://cdn.example/tp', page)).toBe(
      'https://mirror.example/x/',
    );
    expect(chooseTilesBase('/mirror', null, page)).toBe('https://vote.example/mirror/');
  });

  it('ignores what is not an http(s) URL', () => {
    expect(chooseTilesBase('javascript:alert(1)', 'data:text/plain,x', page)).toBe(
      'https://vote.example/api/v1/elections/',
    );
    expect(chooseTilesBase('http://[bad', null, page)).toBe('https://vote.example/api/v1/elections/');
  });
});

describe('proofs from tiles against tiles.json', () => {
  for (const tree of vectors.trees) {
    it(`tree of ${tree.size}: the tiles, and every proof, its tile reads and its root`, async () => {
      const { tiles, read, reads } = tilesOfTree(LEAVES.slice(0, tree.size));
      // The plain builder gives the vectors' tiles (so the reader serves the real ones) and bundles.
      const listed = [...tiles.values()].map(({ id, data }) => ({
        path: tilePath(id),
        sha256: bytesToHex(sha256(data)),
      }));
      expect(listed).toEqual(tree.tiles);
      expect(
        tree.entryBundles.map((b) => b.path),
        'entry bundles sit beside the level-0 tiles',
      ).toEqual(
        [...tiles.values()].filter(({ id }) => id.level === 0).map(({ id }) => entryBundlePath(id.index, id.width)),
      );
      for (const p of tree.proofs) {
        expect(tileReadsFor(p.leafIndex, tree.size).map(tilePath)).toEqual(p.tileReads);
        reads.length = 0;
        const proof = await proofFromTiles(p.leafIndex, tree.size, read);
        expect(hexAll(proof.auditPath), `leaf ${p.leafIndex}`).toEqual(p.auditPath);
        expect(tileHoldsLeaf(proof, LEAVES[p.leafIndex]!)).toBe(true);
        expect(bytesToHex(LEAVES[p.leafIndex]!)).toBe(p.leaf);
        const root = rootFromInclusionProof(LEAVES[p.leafIndex]!, p.leafIndex, tree.size, proof.auditPath);
        expect(bytesToHex(root)).toBe(tree.root);
        // Each tile once: the proof's, plus the leaf's own level-0 tile when the path does not read it.
        const keys = reads.map((t) => `${t.level}/${t.index}`);
        expect(new Set(keys).size).toBe(keys.length);
        expect(keys.length - p.tileReads.length).toBeLessThanOrEqual(1);
      }
    });
  }
});

describe('every proof for tree sizes 1..300', () => {
  // In parts of 25 sizes: each proof hashes up to ~255 nodes per tile level with noble, a few seconds a part.
  for (let from = 1; from <= 300; from += 25) {
    const to = from + 24;
    it(`sizes ${from}..${to}: equals the RFC 6962 audit path, reads at most two tiles per level, leads to MTH`, async () => {
      let proofs = 0;
      for (let size = from; size <= to; size++) {
        const { read, reads } = tilesOfTree(LEAVES.slice(0, size));
        const root = bytesToHex(mth(0, size));
        for (let m = 0; m < size; m++) {
          reads.length = 0;
          const proof = await proofFromTiles(m, size, read);
          expect(hexAll(proof.auditPath), `size ${size}, leaf ${m}`).toEqual(hexAll(rfcPath(m, 0, size)));
          expect(tileHoldsLeaf(proof, LEAVES[m]!)).toBe(true);
          expect(bytesToHex(rootFromInclusionProof(LEAVES[m]!, m, size, proof.auditPath))).toBe(root);
          const perLevel = new Map<number, number>();
          for (const t of reads) {
            perLevel.set(t.level, (perLevel.get(t.level) ?? 0) + 1);
            expect(t.width).toBe(tileWidthAt(t.level, t.index, size));
          }
          for (const n of perLevel.values()) expect(n).toBeLessThanOrEqual(2);
          proofs++;
        }
      }
      expect(proofs).toBe(((to - from + 1) * (from + to)) / 2);
    });
  }
});

describe('a tampered tile', () => {
  /** What the page concludes from tiles: the leaf is the tile's, and the path leads to the trusted root. */
  async function verifies(m: number, size: number, read: TileReader, root: string): Promise<boolean> {
    const proof = await proofFromTiles(m, size, read);
    if (!tileHoldsLeaf(proof, LEAVES[m]!)) return false;
    return bytesToHex(rootFromInclusionProof(LEAVES[m]!, m, size, proof.auditPath)) === root;
  }

  it('fails the check wherever the proof depends on it: every hash of every tile read but the leaf’s ancestors', async () => {
    const size = BIG;
    const { tiles, read } = tilesOfTree(LEAVES.slice(0, size));
    const root = bytesToHex(mth(0, size));
    for (const m of [0, 300, 65_535, 65_536, size - 1]) {
      expect(await verifies(m, size, read, root)).toBe(true);
      const proofTiles = (await proofFromTiles(m, size, read)).tiles;
      let caught = 0;
      for (const id of proofTiles) {
        const original = tiles.get(`${id.level}/${id.index}`)!.data;
        for (let p = 0; p < id.width; p++) {
          const tampered = original.slice();
          tampered[p * 32 + 31]! ^= 0x01;
          const reader: TileReader = async (t) => (t.level === id.level && t.index === id.index ? tampered : read(t));
          // A level-L hash (L > 0) over the leaf's own subtree is recomputed from below, never read.
          const first = (id.index * TILE_WIDTH + p) * TILE_WIDTH ** id.level;
          const ancestor = id.level > 0 && m >= first && m < first + TILE_WIDTH ** id.level;
          expect(await verifies(m, size, reader, root), `tile ${tilePath(id)} hash ${p}, leaf ${m}`).toBe(ancestor);
          if (!ancestor) caught++;
        }
      }
      expect(caught).toBeGreaterThan(0);
    }
  });

  it('of the wrong length is malformed; one that cannot be read passes the reader’s error through', async () => {
    const { read } = tilesOfTree(LEAVES.slice(0, 1000));
    const short: TileReader = async (t) => (await read(t)).subarray(32);
    await expect(proofFromTiles(5, 1000, short)).rejects.toMatchObject({ name: 'TileError', kind: 'malformed' });
    const missing: TileReader = async (t) => {
      throw new TileError('unreadable', `404 ${tilePath(t)}`);
    };
    await expect(proofFromTiles(5, 1000, missing)).rejects.toMatchObject({ kind: 'unreadable' });
    expect(() => tileReadsFor(1000, 1000)).toThrow(RangeError);
  });
});
