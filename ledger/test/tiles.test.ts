// C2SP tlog-tiles (src/protocol/tiles.ts) against the RFC 6962 tree (src/protocol/merkle.ts), the recursive
// reference (helpers/rfc6962.ts) and docs/test-vectors/tiles.json (generated from the spec's text).
import { hash as cryptoHash, randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_ROOT,
  leafHash,
  leafHashAt,
  MerkleRootBuilder,
  MerkleTree,
  verifyInclusion,
} from '../src/protocol/merkle.js';
import {
  entryBundlePath,
  hashTilePath,
  inclusionProofFromTiles,
  leafHashFromTiles,
  parseEntryBundle,
  parseTilePath,
  rootFromTiles,
  TILE_WIDTH,
  TileBuilder,
  tileNodeAt,
  tileNodeCount,
  tileNodes,
  type TileProofCounters,
  type TileReader,
  tileReadsFor,
  tileWidthAt,
  type TreeTiles,
  treeEntryBundleIds,
  treeTileIds,
} from '../src/protocol/tiles.js';
import { referenceRoot } from './helpers/rfc6962.js';

const vectors = JSON.parse(readFileSync(new URL('../../docs/test-vectors/tiles.json', import.meta.url), 'utf8'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sha256Hex = (b: Uint8Array) => cryptoHash('sha256', b, 'hex');

/** Tiles of the packed 32-byte leaves, fed in chunks of `chunkLeaves` as the ledger reads them. */
function buildTiles(leaves: Buffer, chunkLeaves = 10_000): TreeTiles {
  const builder = new TileBuilder();
  for (let off = 0; off < leaves.length; off += chunkLeaves * 32) {
    builder.pushLeaves(leaves.subarray(off, off + chunkLeaves * 32));
  }
  return builder.finish();
}

function leafHashesOf(leaves: Buffer): Buffer {
  const hashes = Buffer.allocUnsafe(leaves.length);
  for (let off = 0; off < leaves.length; off += 32) leafHashAt(leaves, off).copy(hashes, off);
  return hashes;
}

/** A reader over built tiles that fails a read of a tile the tree does not have at that width. */
function readerOf(tiles: TreeTiles): TileReader {
  const byKey = new Map(tiles.tiles.map((t) => [`${t.level}/${t.index}/${t.width}`, t.data]));
  return async (level, index, width) => {
    const data = byKey.get(`${level}/${index}/${width}`);
    if (!data) throw new Error(`no tile ${hashTilePath({ level, index, width })} in a tree of ${tiles.treeSize}`);
    return data;
  };
}

/** Tile levels of a tree of n leaves: the L with floor(n / 256^L) > 0. */
function tileLevels(n: number): number {
  let levels = 0;
  while (Math.floor(n / 256 ** levels) > 0) levels++;
  return levels;
}

/**
 * The tile proof of leaf i equals MerkleTree.auditPath and verifies; it reads the tiles tileReadsFor lists, at
 * most two per level, and hashes at most 255 per tile read plus the folds of one right-edge node.
 */
async function checkProof(tiles: TreeTiles, tree: MerkleTree, leaves: Buffer, i: number): Promise<TileProofCounters> {
  const n = tiles.treeSize;
  const counters = { tileReads: 0, hashes: 0 };
  const path = await inclusionProofFromTiles(i, n, readerOf(tiles), counters);
  const expected = tree.auditPath(i);
  if (path.length !== expected.length || path.some((h, j) => !h.equals(expected[j]!))) {
    expect.fail(`tree of ${n}: tile proof of leaf ${i} differs from MerkleTree.auditPath`);
  }
  const leaf = leaves.subarray(i * 32, i * 32 + 32);
  if (!verifyInclusion(leaf, i, n, path, tiles.root)) expect.fail(`tree of ${n}: proof of leaf ${i} does not verify`);
  expect(counters.tileReads).toBe(tileReadsFor(i, n).length);
  expect(counters.tileReads).toBeLessThanOrEqual(2 * tileLevels(n));
  expect(counters.hashes).toBeLessThanOrEqual(255 * counters.tileReads + Math.ceil(Math.log2(n + 1)));
  return counters;
}

describe('tile paths', () => {
  it('formats and parses the vectors, both ways', () => {
    for (const c of vectors.paths) {
      const { level, index, width, path } = c as {
        level: number | 'entries';
        index: number;
        width: number;
        path: string;
      };
      if (level === 'entries') {
        expect(entryBundlePath({ index, width })).toBe(path);
        expect(parseTilePath(path)).toEqual({ kind: 'entries', index, width });
      } else {
        expect(hashTilePath({ level, index, width })).toBe(path);
        expect(parseTilePath(path)).toEqual({ kind: 'hash', level, index, width });
      }
    }
    expect(hashTilePath({ level: 0, index: 1234067, width: 256 })).toBe('tile/0/x001/x234/067');
  });

  it('round-trips random tiles and bundles, up to the largest safe index', () => {
    const indexes = [0, 999, 1000, 999_999, 1_000_000, Number.MAX_SAFE_INTEGER];
    for (let k = 0; k < 2000; k++) indexes.push(randomInt(0, 2 ** 47));
    for (const index of indexes) {
      const level = randomInt(0, 64);
      const width = randomInt(1, 257);
      const tile = { level, index, width };
      expect(parseTilePath(hashTilePath(tile))).toEqual({ kind: 'hash', ...tile });
      expect(parseTilePath(entryBundlePath({ index, width }))).toEqual({ kind: 'entries', index, width });
    }
  });

  it('refuses every non-canonical path', () => {
    const refused = [
      ...vectors.invalidPaths,
      'tile/0/9007199254740992', // not 3 digits
      'tile/0/x009/x007/x199/x254/x740/992', // 2^53: beyond a safe index
      'tile/0/x001/x002/x003/x004/x005/x006/007',
      'tile/0/000.p/1.p/2',
      'tile/0/00a',
      'tile/0/x00a/000',
      'tile/0/+01',
      'tile/0/000.p/1 ',
      'tile/1e1/000',
      'tile/entries/000.p/256',
      'tile/entries/x000/000',
      'tile//000',
      '',
    ];
    for (const path of refused) expect(parseTilePath(path), path).toBeNull();
  });

  it('refuses to format an impossible tile', () => {
    for (const tile of [
      { level: 64, index: 0, width: 1 },
      { level: -1, index: 0, width: 1 },
      { level: 0, index: -1, width: 1 },
      { level: 0, index: 1.5, width: 1 },
      { level: 0, index: 2 ** 53, width: 1 },
      { level: 0, index: 0, width: 0 },
      { level: 0, index: 0, width: 257 },
    ]) {
      expect(() => hashTilePath(tile)).toThrow(RangeError);
    }
    expect(() => entryBundlePath({ index: 0, width: 0 })).toThrow(RangeError);
  });
});

describe('tile geometry', () => {
  it("has the spec's example: a tree of 70,000 and one of 256", () => {
    const tiles70k = treeTileIds(70_000);
    const at = (level: number) => tiles70k.filter((t) => t.level === level);
    expect(at(0).filter((t) => t.width === TILE_WIDTH)).toHaveLength(273);
    expect(at(0).filter((t) => t.width < TILE_WIDTH)).toEqual([{ level: 0, index: 273, width: 112 }]);
    expect(at(1)).toEqual([
      { level: 1, index: 0, width: 256 },
      { level: 1, index: 1, width: 17 },
    ]);
    expect(at(2)).toEqual([{ level: 2, index: 0, width: 1 }]);
    expect(tiles70k).toHaveLength(273 + 1 + 2 + 1);
    expect(treeTileIds(256)).toEqual([
      { level: 0, index: 0, width: 256 },
      { level: 1, index: 0, width: 1 },
    ]);
    expect(treeTileIds(0)).toEqual([]);
    expect(treeEntryBundleIds(70_000)).toHaveLength(274);
  });

  it('gives each tile its width, and 0 for a tile the tree does not have', () => {
    for (const n of [1, 255, 256, 257, 65_535, 65_536, 70_000, 1_000_000]) {
      const listed = treeTileIds(n);
      for (const t of listed) expect(tileWidthAt(t.level, t.index, n)).toBe(t.width);
      const lastLevel = listed[listed.length - 1]!.level;
      for (let level = 0; level <= lastLevel; level++) {
        const count = listed.filter((t) => t.level === level).length;
        expect(tileWidthAt(level, count, n)).toBe(0);
      }
      expect(tileWidthAt(lastLevel + 1, 0, n)).toBe(0);
    }
  });
});

describe('TileBuilder', () => {
  it('makes the tiles of a tree of 257 leaves, checked by hand', () => {
    const leaves = randomBytes(257 * 32);
    const hashes = leafHashesOf(leaves);
    const built = buildTiles(leaves, 100);
    const hashList = Array.from({ length: 257 }, (_, i) => hashes.subarray(i * 32, i * 32 + 32));
    expect(built.treeSize).toBe(257);
    expect(built.tiles.map(({ level, index, width }) => ({ level, index, width }))).toEqual([
      { level: 0, index: 0, width: 256 },
      { level: 0, index: 1, width: 1 },
      { level: 1, index: 0, width: 1 },
    ]);
    expect(built.tiles[0]!.data.equals(hashes.subarray(0, 256 * 32))).toBe(true);
    expect(built.tiles[1]!.data.equals(leafHash(leaves.subarray(256 * 32)))).toBe(true);
    // The level-1 tile's one hash is the root of the first 256 leaves.
    expect(built.tiles[2]!.data.equals(referenceRoot(hashList.slice(0, 256)))).toBe(true);
    expect(built.root.equals(referenceRoot(hashList))).toBe(true);

    const bundles = built.entryBundles!;
    expect(bundles.map(({ index, width }) => ({ index, width }))).toEqual([
      { index: 0, width: 256 },
      { index: 1, width: 1 },
    ]);
    expect(bundles[0]!.data).toHaveLength(256 * 34);
    for (let i = 0; i < 256; i++) {
      expect(bundles[0]!.data.readUInt16BE(i * 34)).toBe(32);
      expect(bundles[0]!.data.subarray(i * 34 + 2, i * 34 + 34).equals(leaves.subarray(i * 32, i * 32 + 32))).toBe(
        true,
      );
    }
    expect(bundles[1]!.data.equals(Buffer.concat([Buffer.from([0, 32]), leaves.subarray(256 * 32)]))).toBe(true);
    expect(Buffer.concat(bundles.flatMap((b) => parseEntryBundle(b.data, b.width))).equals(leaves)).toBe(true);
  });

  it('gives the same tiles whether fed one leaf, chunks of leaves, or leaf hashes', () => {
    const leaves = randomBytes(70_000 * 32);
    const chunked = buildTiles(leaves, 7_777);
    const one = new TileBuilder();
    for (let off = 0; off < leaves.length; off += 32) one.pushLeaf(leaves.subarray(off, off + 32));
    const byLeaf = one.finish();
    const fromHashes = new TileBuilder();
    fromHashes.pushLeafHashes(leafHashesOf(leaves).subarray(0, 1000 * 32));
    fromHashes.pushLeafHash(leafHash(leaves.subarray(1000 * 32, 1001 * 32)));
    fromHashes.pushLeafHashes(leafHashesOf(leaves.subarray(1001 * 32)));
    const byHash = fromHashes.finish();
    expect(byHash.entryBundles).toBeNull();
    // Buffer.equals: vitest's deep equality walks buffers byte by byte.
    const same = (a: { data: Buffer }[], b: { data: Buffer }[]) =>
      a.length === b.length && a.every((t, i) => t.data.equals(b[i]!.data));
    const ids = (tiles: { data: Buffer; nodes?: Buffer }[]) => tiles.map(({ data, nodes, ...id }) => id);
    for (const other of [byLeaf, byHash]) {
      expect(other.root.equals(chunked.root)).toBe(true);
      expect(ids(other.tiles)).toEqual(ids(chunked.tiles));
      expect(same(other.tiles, chunked.tiles)).toBe(true);
    }
    expect(ids(byLeaf.entryBundles!)).toEqual(ids(chunked.entryBundles!));
    expect(same(byLeaf.entryBundles!, chunked.entryBundles!)).toBe(true);
    expect(ids(chunked.tiles)).toEqual(treeTileIds(70_000));
    for (const t of chunked.tiles) expect(t.data).toHaveLength(t.width * 32);
  });

  it('refuses mixed feeds, wrong lengths and a second finish; an empty tree has the empty root and no tiles', () => {
    const b = new TileBuilder();
    b.pushLeaf(Buffer.alloc(32, 1));
    expect(() => b.pushLeafHash(Buffer.alloc(32, 2))).toThrow(/leaf hashes/);
    expect(() => b.pushLeaf(Buffer.alloc(33))).toThrow(RangeError);
    expect(() => b.pushLeaves(Buffer.alloc(40))).toThrow(RangeError);
    b.finish();
    expect(() => b.finish()).toThrow(/already finished/);
    expect(() => b.pushLeaf(Buffer.alloc(32))).toThrow(/already finished/);
    const empty = new TileBuilder().finish();
    expect(empty).toEqual({ treeSize: 0, root: EMPTY_ROOT, tiles: [], entryBundles: [] });
  });
});

describe('proofs from tiles', () => {
  const leaves = randomBytes(1000 * 32);
  const hashes = leafHashesOf(leaves);

  /** Every size in [from, to]: the root against MerkleRootBuilder and MerkleTree, and the proofs of `leavesOf(n)`. */
  async function checkSizes(from: number, to: number, leavesOf: (n: number) => number[]) {
    for (let n = from; n <= to; n++) {
      const tiles = buildTiles(leaves.subarray(0, n * 32), 1 + (n % 97));
      const tree = new MerkleTree(hashes.subarray(0, n * 32));
      const rootBuilder = new MerkleRootBuilder();
      for (let off = 0; off < n * 32; off += 32) rootBuilder.pushLeafHash(hashes.subarray(off, off + 32));
      if (!tiles.root.equals(rootBuilder.root()) || !tiles.root.equals(tree.root())) {
        expect.fail(`tree of ${n}: the tiles' root differs from MerkleRootBuilder's`);
      }
      expect((await rootFromTiles(n, readerOf(tiles))).equals(tiles.root)).toBe(true);
      for (const i of leavesOf(n)) await checkProof(tiles, tree, leaves, i);
    }
  }

  // A proof costs about one hash per hash of the tiles it reads (up to 247 for a full tile's 8 siblings), so
  // these two are most of the file's time; split in two to stay well inside the per-test timeout.
  const everyLeaf = (n: number) => Array.from({ length: n }, (_, i) => i);
  it('every leaf of every tree of 1..200 leaves', async () => {
    await checkSizes(1, 200, everyLeaf);
  });

  it('every leaf of every tree of 201..256 leaves', async () => {
    await checkSizes(201, 256, everyLeaf);
  });

  it('every leaf of every tree of 257..300 leaves (one full level-0 tile, a partial one, a level-1 tile)', async () => {
    await checkSizes(257, 300, everyLeaf);
  });

  it('the tile boundaries and random leaves of every tree of 301..1000 leaves', async () => {
    await checkSizes(301, 1000, (n) => [...new Set([0, 256, n >> 1, n - 256, n - 1, randomInt(n)])]);
  });

  it('reads the leaf hash of a leaf from its level-0 tile', async () => {
    const tiles = buildTiles(leaves);
    for (const i of [0, 255, 256, 999]) {
      const counters = { tileReads: 0, hashes: 0 };
      expect(
        (await leafHashFromTiles(i, 1000, readerOf(tiles), counters)).equals(
          leafHash(leaves.subarray(i * 32, i * 32 + 32)),
        ),
      ).toBe(true);
      expect(counters).toEqual({ tileReads: 1, hashes: 0 });
    }
  });

  it('refuses a tile of the wrong length and a leaf outside the tree', async () => {
    const tiles = buildTiles(leaves.subarray(0, 600 * 32));
    const short: TileReader = async (level, index, width) => (await readerOf(tiles)(level, index, width)).subarray(32);
    await expect(inclusionProofFromTiles(5, 600, short)).rejects.toThrow(/bytes, not/);
    await expect(inclusionProofFromTiles(600, 600, readerOf(tiles))).rejects.toThrow(RangeError);
    await expect(inclusionProofFromTiles(-1, 600, readerOf(tiles))).rejects.toThrow(RangeError);
    expect(() => tileReadsFor(0, 0)).toThrow(RangeError);
    // Untrusted tiles: a changed hash gives a path that does not verify against the root.
    const tampered = tiles.tiles.map((t) => ({ ...t, data: Buffer.from(t.data) }));
    tampered[0]!.data[40]! ^= 1;
    const path = await inclusionProofFromTiles(0, 600, readerOf({ ...tiles, tiles: tampered }));
    expect(verifyInclusion(leaves.subarray(0, 32), 0, 600, path, tiles.root)).toBe(false);
  });

  it('refuses an entry bundle with a wrong length prefix or size', () => {
    const bundle = Buffer.concat([Buffer.from([0, 32]), Buffer.alloc(32, 9), Buffer.from([0, 31]), Buffer.alloc(32)]);
    expect(() => parseEntryBundle(bundle, 2)).toThrow(/length 31/);
    expect(() => parseEntryBundle(bundle.subarray(0, 34), 2)).toThrow(RangeError);
    expect(parseEntryBundle(bundle.subarray(0, 34), 1)).toEqual([Buffer.alloc(32, 9)]);
  });
});

describe('large trees', () => {
  for (const n of [65_536, 65_537, 100_000, 1_000_000]) {
    it(`${n.toLocaleString('en')} random leaves: root, every tile, and sampled proofs in O(log n) reads`, async () => {
      const leaves = randomBytes(n * 32);
      const tiles = buildTiles(leaves);
      const hashes = leafHashesOf(leaves);
      const tree = new MerkleTree(hashes);
      expect(tiles.root.equals(tree.root())).toBe(true);
      if (n < 1_000_000) {
        const rootBuilder = new MerkleRootBuilder();
        for (let off = 0; off < hashes.length; off += 32) rootBuilder.pushLeafHash(hashes.subarray(off, off + 32));
        expect(tiles.root.equals(rootBuilder.root())).toBe(true);
      }
      expect(tiles.tiles.map(({ data, nodes, ...id }) => id)).toEqual(treeTileIds(n));
      const level0 = Buffer.concat(tiles.tiles.filter((t) => t.level === 0).map((t) => t.data));
      expect(level0.equals(hashes)).toBe(true);
      expect(tiles.entryBundles!.map(({ index, width }) => ({ index, width }))).toEqual(treeEntryBundleIds(n));
      expect((await rootFromTiles(n, readerOf(tiles))).equals(tiles.root)).toBe(true);

      const sample = [0, 255, 256, 65_535, 65_536, n >> 1, n - 1, ...Array.from({ length: 40 }, () => randomInt(n))];
      // At most the leaf's tile and the right edge's at each of the (here <= 3) levels (checkProof).
      expect(tileLevels(n)).toBeLessThanOrEqual(3);
      for (const i of sample.filter((i) => i < n)) {
        const counters = await checkProof(tiles, tree, leaves, i);
        expect(counters.tileReads).toBeLessThanOrEqual(6);
      }
    });
  }
});

describe('docs/test-vectors/tiles.json', () => {
  const leafOf = (i: number) => cryptoHash('sha256', `${vectors.leafPrefix}${i}`, 'buffer') as unknown as Buffer;
  for (const v of vectors.trees) {
    it(`size ${v.size}: every tile and bundle, the root, the proofs and the tiles they read`, async () => {
      const leaves = Buffer.concat(Array.from({ length: v.size }, (_, i) => leafOf(i)));
      const tiles = buildTiles(leaves, 1000);
      expect(hex(tiles.root)).toBe(v.root);
      expect(tiles.tiles.map((t) => ({ path: hashTilePath(t), sha256: sha256Hex(t.data) }))).toEqual(v.tiles);
      expect(tiles.entryBundles!.map((b) => ({ path: entryBundlePath(b), sha256: sha256Hex(b.data) }))).toEqual(
        v.entryBundles,
      );
      for (const p of v.proofs) {
        expect(hex(leaves.subarray(p.leafIndex * 32, p.leafIndex * 32 + 32))).toBe(p.leaf);
        const path = await inclusionProofFromTiles(p.leafIndex, v.size, readerOf(tiles));
        expect(path.map(hex)).toEqual(p.auditPath);
        expect(tileReadsFor(p.leafIndex, v.size).map(hashTilePath)).toEqual(p.tileReads);
      }
    });
  }
});

describe('the subtrees inside a tile (stored nodes)', () => {
  it('tileNodeAt is the MTH of every aligned run of 2^j hashes, for every width 1..256', () => {
    const hashes = Array.from({ length: 256 }, () => randomBytes(32));
    for (let width = 1; width <= 256; width++) {
      const data = Buffer.concat(hashes.slice(0, width));
      const nodes = tileNodes(data);
      expect(nodes.length).toBe(tileNodeCount(width) * 32);
      for (let count = 2; count <= width; count *= 2) {
        for (let offset = 0; offset + count <= width; offset += count) {
          expect(tileNodeAt(nodes, width, offset, count)).toEqual(rootOfHashes(hashes.slice(offset, offset + count)));
        }
      }
    }
    expect(tileNodeCount(256)).toBe(255);
  });

  it('a builder’s tiles carry their nodes, and proofs using them equal proofs hashing the tiles', async () => {
    const leaves = Array.from({ length: 70_001 }, () => randomBytes(32));
    const builder = new TileBuilder();
    for (const leaf of leaves) builder.pushLeaf(leaf);
    const tree = builder.finish();
    const byKey = new Map(tree.tiles.map((t) => [`${t.level}/${t.index}`, t]));
    for (const t of tree.tiles) expect(t.nodes).toEqual(tileNodes(t.data));
    const read = async (level: number, index: number) => byKey.get(`${level}/${index}`)!.data;
    const nodesOf = (t: { level: number; index: number }) => byKey.get(`${t.level}/${t.index}`)?.nodes;
    for (const index of [0, 1, 255, 256, 65_535, 65_536, 70_000, randomInt(70_001)]) {
      const plain = { tileReads: 0, hashes: 0 };
      const withNodes = { tileReads: 0, hashes: 0 };
      const a = await inclusionProofFromTiles(index, leaves.length, read, plain);
      const b = await inclusionProofFromTiles(index, leaves.length, read, withNodes, nodesOf);
      expect(b).toEqual(a);
      expect(withNodes.hashes).toBeLessThan(plain.hashes);
    }
  });
});

/** RFC 6962 MTH of a power-of-two run of node hashes (the roots of equal subtrees). */
function rootOfHashes(level: Buffer[]): Buffer {
  let nodes = level;
  while (nodes.length > 1) {
    const up: Buffer[] = [];
    for (let i = 0; i < nodes.length; i += 2) {
      up.push(cryptoHash('sha256', Buffer.concat([Buffer.from([1]), nodes[i]!, nodes[i + 1]!]), 'buffer') as Buffer);
    }
    nodes = up;
  }
  return nodes[0]!;
}
