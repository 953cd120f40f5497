// C2SP tlog-tiles (src/tiles.ts) against a reference written here from RFC 6962: the tree level by level
// (node:crypto's SHA-256 called directly, an odd last node carried up), audit paths read off its levels, and
// that reference checked against test/support/election.ts's recursive RFC text and docs/test-vectors. Proofs
// from tiles must equal the reference path and verify with the verifier's own RFC 9162 code against its MTH.
import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { merkleTreeHeadPacked, rootFromInclusionProof } from '../src/merkle.js';
import {
  diffWindowAgainstTiles,
  encodeEntryBundle,
  entryBundlesOfTree,
  formatTilePath,
  parseEntryBundle,
  parseTilePath,
  TiledTree,
  TileError,
  tileLevelCount,
  tilesOfTree,
  TreeTiles,
  type Tile,
  type TileLevel,
  type TileReader,
} from '../src/tiles.js';
import { auditPath as recursiveAuditPath, mth as recursiveMth } from './support/election.js';

const HASH = 32;
const sha = (data: Uint8Array): Buffer => hash('sha256', data, 'buffer') as unknown as Buffer;

/** `n` distinct 32-byte leaves packed (ballot-hash-like: the hash of a label and the index). */
function leavesOf(n: number, label = 'tiles'): Buffer {
  const out = Buffer.alloc(n * HASH);
  for (let i = 0; i < n; i++) out.set(sha(Buffer.from(`${label} ${i}`)), i * HASH);
  return out;
}
const leafAt = (packed: Uint8Array, i: number): Buffer => Buffer.from(packed.subarray(i * HASH, (i + 1) * HASH));

/** The RFC 6962 tree level by level, packed: [0] leaf hashes, [h+1] pairs of [h] hashed, an odd last node carried up. */
function referenceLevels(packed: Uint8Array): Buffer[] {
  const n = packed.byteLength / HASH;
  const scratch = Buffer.alloc(1 + 2 * HASH);
  let level = Buffer.alloc(n * HASH);
  for (let i = 0; i < n; i++) {
    scratch[0] = 0;
    scratch.set(packed.subarray(i * HASH, (i + 1) * HASH), 1);
    level.set(sha(scratch.subarray(0, 1 + HASH)), i * HASH);
  }
  const levels = [level];
  while (level.byteLength > HASH) {
    const count = level.byteLength / HASH;
    const next = Buffer.alloc(Math.ceil(count / 2) * HASH);
    scratch[0] = 1;
    for (let j = 0; 2 * j + 1 < count; j++) {
      level.copy(scratch, 1, 2 * j * HASH, (2 * j + 2) * HASH);
      next.set(sha(scratch), j * HASH);
    }
    if (count % 2 === 1) level.copy(next, next.byteLength - HASH, (count - 1) * HASH);
    levels.push(next);
    level = next;
  }
  return levels;
}
const nodeAt = (level: Buffer, j: number): Buffer | undefined =>
  j >= 0 && (j + 1) * HASH <= level.byteLength ? level.subarray(j * HASH, (j + 1) * HASH) : undefined;
const rootOf = (levels: readonly Buffer[]): Buffer => levels[levels.length - 1]!;

/** PATH(m, D[n]) off the levels: at each level the sibling, if the node has one (a carried-up node has none). */
function referencePath(levels: readonly Buffer[], m: number): string[] {
  const out: string[] = [];
  let j = m;
  for (const level of levels.slice(0, -1)) {
    const sibling = nodeAt(level, j % 2 === 1 ? j - 1 : j + 1);
    if (sibling !== undefined) out.push(sibling.toString('hex'));
    j = Math.floor(j / 2);
  }
  return out;
}

const hexes = (hashes: readonly Uint8Array[]): string[] => hashes.map((h) => Buffer.from(h).toString('hex'));

/** A reader that counts reads (its own count, not the code's) and serves `tiles`. */
function counting(tiles: TreeTiles): { read: TileReader; reads: () => number; paths: string[] } {
  const paths: string[] = [];
  return {
    read: (level, index, width) => {
      paths.push(formatTilePath({ level, index, width }));
      return tiles.read(level, index, width);
    },
    reads: () => paths.length,
    paths,
  };
}

/** The leaves to check in a tree of n: every one up to `every`, else edges, tile boundaries and a spread. */
function sampleLeaves(n: number, every: number, spread = 7): number[] {
  if (n <= every) return Array.from({ length: n }, (_, i) => i);
  const picks = [0, 1, n - 2, n - 1];
  for (const b of [255, 256, 257, 511, 512, 65_535, 65_536]) if (b < n) picks.push(b);
  for (let k = 1; k <= spread; k++) picks.push(Math.floor((n * k) / (spread + 1)) + (k % 3));
  return [...new Set(picks.filter((i) => i >= 0 && i < n))].sort((a, b) => a - b);
}

/**
 * One tree of `packed` leaves against the reference: (1) every tile and bundle holds what the spec says; (2) the
 * proofs of `proofLeaves`, from one TiledTree, equal the reference path and verify against the MTH; (3) a proof
 * of each of `freshLeaves` from a tree that has read nothing yet reads at most 2 tiles per level, each once, and
 * the tree head at most 1 per level. Returns the number of proofs checked.
 */
async function checkTree(
  packed: Buffer,
  proofLeaves: readonly number[],
  freshLeaves: readonly number[],
): Promise<number> {
  const n = packed.byteLength / HASH;
  const tiles = TreeTiles.fromLeaves(packed);
  const levels = referenceLevels(packed);
  const root = rootOf(levels);

  let hashes = 0;
  let bundles = 0;
  for (const { tile, path, data } of tiles.tiles()) {
    const first = tile.index * 256;
    if (tile.level === 'entries') {
      const entries = Buffer.concat(parseEntryBundle(data, tile.width));
      expect(entries.equals(packed.subarray(first * HASH, (first + tile.width) * HASH)), `${path} of ${n}`).toBe(true);
      bundles++;
      continue;
    }
    // Entry i of tile t at level l: MTH(D[(256t + i)·256^l : (256t + i + 1)·256^l]), node 256t + i at height 8l,
    // a complete subtree inside the tree (only full tiles are hashed into the level above).
    expect((first + tile.width) * 256 ** tile.level, `${path} of ${n}`).toBeLessThanOrEqual(n);
    const expected = levels[8 * tile.level]!.subarray(first * HASH, (first + tile.width) * HASH);
    expect(Buffer.from(data).equals(expected), `${path} of ${n}`).toBe(true);
    hashes += tile.width;
  }
  // Σ_l floor(n / 256^l): every complete subtree of height 8l is in exactly one tile; a bundle per 256 leaves.
  let expectedHashes = 0;
  for (let span = 1; span <= n; span *= 256) expectedHashes += Math.floor(n / span);
  expect(hashes, `hashes in the tiles of ${n}`).toBe(expectedHashes);
  expect(bundles).toBe(Math.ceil(n / 256));

  const shared = new TiledTree(n, tiles.read);
  expect(Buffer.from(await shared.treeHead()).equals(root), `tree head of ${n}`).toBe(true);
  for (const m of proofLeaves) {
    const proof = await shared.inclusionProof(m);
    expect(hexes(proof.auditPath), `leaf ${m} of ${n}`).toEqual(referencePath(levels, m));
    expect(Buffer.from(rootFromInclusionProof(leafAt(packed, m), proof)).equals(root)).toBe(true);
  }

  const bound = 2 * tileLevelCount(n);
  for (const m of freshLeaves) {
    const reader = counting(tiles);
    const proof = await new TiledTree(n, reader.read).inclusionProof(m);
    expect(hexes(proof.auditPath)).toEqual(referencePath(levels, m));
    expect(reader.reads(), `leaf ${m} of ${n}: ${reader.paths.join(' ')}`).toBeLessThanOrEqual(bound);
    expect(new Set(reader.paths).size).toBe(reader.reads());
  }
  const head = counting(tiles);
  await new TiledTree(n, head.read).treeHead();
  expect(head.reads(), `tree head of ${n}`).toBeLessThanOrEqual(tileLevelCount(n));
  return proofLeaves.length;
}

/** A million leaves (counters: hashing a million labels would double the setup for nothing) and their tiles. */
let millionTree: { packed: Buffer; tiles: TreeTiles } | undefined;
function million(): { packed: Buffer; tiles: TreeTiles } {
  if (millionTree === undefined) {
    const packed = Buffer.alloc(1_000_000 * HASH);
    for (let i = 0; i < 1_000_000; i++) packed.writeUInt32BE(i, i * HASH + 28);
    millionTree = { packed, tiles: TreeTiles.fromLeaves(packed) };
  }
  return millionTree;
}

describe('tile paths', () => {
  it('write N in 3-digit elements, all but the last prefixed x, and .p/W for partial tiles (the spec examples)', () => {
    expect(formatTilePath({ level: 4, index: 1_234_067, width: 256 })).toBe('tile/4/x001/x234/067');
    expect(formatTilePath({ level: 4, index: 1_234_067, width: 1 })).toBe('tile/4/x001/x234/067.p/1');
    expect(formatTilePath({ level: 0, index: 0, width: 256 })).toBe('tile/0/000');
    expect(formatTilePath({ level: 'entries', index: 999, width: 255 })).toBe('tile/entries/999.p/255');
    expect(formatTilePath({ level: 'entries', index: 1000, width: 256 })).toBe('tile/entries/x001/000');
    expect(formatTilePath({ level: 63, index: Number.MAX_SAFE_INTEGER, width: 7 })).toBe(
      'tile/63/x009/x007/x199/x254/x740/991.p/7',
    );
  });

  it('round trip for every tile and bundle of trees of many sizes, and for large indexes', () => {
    const tiles: Tile[] = [];
    for (const n of [1, 255, 256, 257, 70_000, 16_777_216, 16_777_217 + 65_536 * 3])
      tiles.push(...tilesOfTree(n), ...entryBundlesOfTree(Math.min(n, 300_000)));
    for (let index = 1; index < Number.MAX_SAFE_INTEGER / 7; index = index * 7 + 3)
      tiles.push({ level: 'entries', index, width: 256 }, { level: 9, index, width: 1 + (index % 255) });
    expect(tiles.length).toBeGreaterThan(2_000);
    for (const tile of tiles) expect(parseTilePath(formatTilePath(tile))).toEqual(tile);
  });

  it('refuse every path that is not exactly the one written', () => {
    const refused = [
      '',
      'tile/0',
      'tile/0/',
      '/tile/0/000',
      'tile/0/000/',
      'tiles/0/000',
      'tile/0/0',
      'tile/0/00',
      'tile/0/0000',
      'tile/0/1a3',
      'tile/00/000',
      'tile/01/000',
      'tile/64/000',
      'tile/-1/000',
      'tile/data/000',
      'tile/ENTRIES/000',
      'tile/0/x000/001', // N = 1 is 001
      'tile/0/x001', // the last element carries no x
      'tile/0/001/234', // all but the last carry an x
      'tile/0/x1234/000',
      'tile/0/x01/000',
      'tile/0/000.p/256', // a full tile has no .p
      'tile/0/000.p/0',
      'tile/0/000.p/01',
      'tile/0/000.p/',
      'tile/0/000.p/1000',
      'tile/0/000.p/5/',
      'tile/0/000.p',
      'tile/0/000.P/5',
      'tile/0/x001.p/5/000',
      'tile/entries/000.p/-1',
      'tile/0/x009/x007/x199/x254/x740/992', // 2^53
      'tile/0/x999/x999/x999/x999/x999/x999/999',
      'tile/0/000\n',
      'tile\\0\\000',
      `tile/0/${'x000/'.repeat(100_000)}001`,
    ];
    for (const path of refused) expect(() => parseTilePath(path), JSON.stringify(path.slice(0, 60))).toThrow(TileError);
    expect(parseTilePath('tile/0/x009/x007/x199/x254/x740/991').index).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('are not written for coordinates no tile has', () => {
    const bad: Tile[] = [
      { level: 64, index: 0, width: 256 },
      { level: -1, index: 0, width: 256 },
      { level: 1.5, index: 0, width: 256 },
      { level: 'data' as TileLevel, index: 0, width: 256 },
      { level: 0, index: -1, width: 256 },
      { level: 0, index: 0.5, width: 256 },
      { level: 0, index: 2 ** 53, width: 256 },
      { level: 0, index: 0, width: 0 },
      { level: 0, index: 0, width: 257 },
      { level: 0, index: 0, width: 1.5 },
    ];
    for (const tile of bad) expect(() => formatTilePath(tile), JSON.stringify(tile)).toThrow(RangeError);
  });
});

describe('the tiles of a tree', () => {
  it('are those of the spec examples: sizes 70,000 and 256', () => {
    const describeTiles = (n: number) => tilesOfTree(n).map((t) => `${t.level}:${t.width}`);
    const t70k = describeTiles(70_000);
    expect(t70k.filter((t) => t === '0:256')).toHaveLength(273);
    expect(t70k.filter((t) => t !== '0:256')).toEqual(['0:112', '1:256', '1:17', '2:1']);
    expect(describeTiles(256)).toEqual(['0:256', '1:1']);
    expect(tilesOfTree(0)).toEqual([]);
    expect(
      entryBundlesOfTree(70_000)
        .map((t) => t.width)
        .filter((w) => w !== 256),
    ).toEqual([112]);
  });

  it('are served only with the width the tree has', () => {
    const tiles = TreeTiles.fromLeaves(leavesOf(300));
    expect(tiles.read(0, 1, 44)).toHaveLength(44 * HASH);
    expect(tiles.read(0, 1, 256)).toBeUndefined();
    expect(tiles.read(0, 1, 43)).toBeUndefined();
    expect(tiles.read(0, 2, 1)).toBeUndefined();
    expect(tiles.read(1, 0, 1)).toHaveLength(HASH);
    expect(tiles.read(2, 0, 1)).toBeUndefined();
    expect(tiles.read('entries', 1, 44)).toHaveLength(44 * (2 + HASH));
  });
});

describe('entry bundles', () => {
  it('are big-endian uint16 length-prefixed entries, parsed back only whole and with the expected count', () => {
    const entries = [Buffer.alloc(32, 7), Buffer.alloc(0), Buffer.alloc(300, 1)];
    const bundle = encodeEntryBundle(entries);
    expect(Buffer.from(bundle.subarray(0, 3))).toEqual(Buffer.from([0, 32, 7]));
    expect(Buffer.from(bundle.subarray(34, 38))).toEqual(Buffer.from([0, 0, 1, 44]));
    expect(parseEntryBundle(bundle, 3).map((e) => Buffer.from(e))).toEqual(entries);
    expect(() => parseEntryBundle(bundle, 2)).toThrow(TileError);
    expect(() => parseEntryBundle(bundle.subarray(0, bundle.byteLength - 1), 3)).toThrow(TileError);
    expect(() => parseEntryBundle(Buffer.concat([bundle, Buffer.of(0)]), 3)).toThrow(TileError);
    expect(() => encodeEntryBundle([Buffer.alloc(65_536)])).toThrow(RangeError);
  });
});

describe('the reference tree', () => {
  it('is RFC 6962: its paths and heads equal the recursive definition (sizes 1..70, every leaf)', () => {
    const all = leavesOf(70, 'reference');
    const list = Array.from({ length: 70 }, (_, i) => leafAt(all, i));
    for (let n = 1; n <= 70; n++) {
      const levels = referenceLevels(all.subarray(0, n * HASH));
      const leaves = list.slice(0, n);
      expect(rootOf(levels)).toEqual(recursiveMth(leaves));
      for (let m = 0; m < n; m++) expect(referencePath(levels, m)).toEqual(hexes(recursiveAuditPath(leaves, m)));
    }
  });
});

describe('proofs from tiles', () => {
  it('equal the audit paths of rfc6962-merkle.json (every tree size 1..33, every leaf)', async () => {
    const v = JSON.parse(
      readFileSync(new URL('../../docs/test-vectors/rfc6962-merkle.json', import.meta.url), 'utf8'),
    ) as {
      leaves: string[];
      trees: { size: number; root: string; proofs: { leafIndex: number; auditPath: string[] }[] }[];
    };
    // The tiles take 32-byte leaves; the vectors' leaves are of any length, so only their 32-byte prefixes apply.
    const usable = v.leaves.findIndex((l) => l.length !== 64);
    const prefix = usable === -1 ? v.leaves.length : usable;
    let checked = 0;
    for (const tree of v.trees.filter((t) => t.size > 0 && t.size <= prefix)) {
      const tiled = new TiledTree(
        tree.size,
        TreeTiles.fromLeaves(Buffer.from(v.leaves.slice(0, tree.size).join(''), 'hex')).read,
      );
      expect(Buffer.from(await tiled.treeHead()).toString('hex')).toBe(tree.root);
      for (const p of tree.proofs) {
        expect(hexes((await tiled.inclusionProof(p.leafIndex)).auditPath)).toEqual(p.auditPath);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it.each([
    [1, 250],
    [251, 500],
    [501, 750],
    [751, 1000],
  ])(
    "hold the spec's hashes, give the RFC 6962 audit path and read ≤ 2 tiles per level: sizes %i..%i",
    async (lo, hi) => {
      const all = leavesOf(hi);
      let proofs = 0;
      for (let n = lo; n <= hi; n++) {
        const fresh = [...new Set([0, Math.floor(n / 2), n - 1])];
        proofs += await checkTree(all.subarray(0, n * HASH), sampleLeaves(n, 300), fresh);
      }
      // Every leaf up to 300 leaves, then a sample of each size.
      expect(proofs).toBeGreaterThan(hi <= 300 ? ((hi - lo + 1) * (lo + hi)) / 2 - 1 : (hi - lo + 1) * 10);
    },
  );

  it("hold the spec's hashes and give the RFC 6962 audit path in a tree of 65,537 leaves", async () => {
    const n = 65_537;
    await checkTree(leavesOf(n), sampleLeaves(n, 0, 600), sampleLeaves(n, 0, 20));
  });

  it('give the RFC 6962 audit path in a tree of 1,000,000 leaves, reading ≤ 2 tiles per level', async () => {
    const { packed, tiles } = million();
    const levels = referenceLevels(packed);
    const root = rootOf(levels);
    for (const m of sampleLeaves(packed.byteLength / HASH, 0, 60)) {
      const reader = counting(tiles);
      const proof = await new TiledTree(1_000_000, reader.read).inclusionProof(m);
      expect(hexes(proof.auditPath), `leaf ${m}`).toEqual(referencePath(levels, m));
      expect(Buffer.from(rootFromInclusionProof(leafAt(packed, m), proof)).equals(root)).toBe(true);
      expect(reader.reads()).toBeLessThanOrEqual(2 * tileLevelCount(1_000_000));
    }
  });

  it('fail on a missing tile or one of the wrong length, and refuse leaves outside the tree', async () => {
    const tiles = TreeTiles.fromLeaves(leavesOf(300));
    const without =
      (path: string): TileReader =>
      (level, index, width) =>
        formatTilePath({ level, index, width }) === path ? undefined : tiles.read(level, index, width);
    await expect(new TiledTree(300, without('tile/0/001.p/44')).treeHead()).rejects.toThrow(
      /tile\/0\/001\.p\/44 is missing/,
    );
    const short: TileReader = (level, index, width) => tiles.read(level, index, width)?.subarray(HASH);
    await expect(new TiledTree(300, short).inclusionProof(3)).rejects.toThrow(TileError);
    await expect(new TiledTree(300, tiles.read).inclusionProof(300)).rejects.toThrow(RangeError);
    await expect(new TiledTree(300, tiles.read).inclusionProof(-1)).rejects.toThrow(RangeError);
    // A tree read with another size asks for tiles of other widths, which are not there.
    await expect(new TiledTree(301, tiles.read).treeHead()).rejects.toThrow(TileError);
    expect(Buffer.from(await new TiledTree(0, tiles.read).treeHead())).toEqual(sha(new Uint8Array(0)));
  });
});

describe('diffWindowAgainstTiles', () => {
  /** The saved tiles of `before`, read through a counting reader, with the root they must give (the MTH). */
  function savedOf(before: Buffer, tiles = TreeTiles.fromLeaves(before)) {
    const reader = counting(tiles);
    return { size: before.byteLength / HASH, readTile: reader.read, root: merkleTreeHeadPacked(before), reader, tiles };
  }
  const swap = (packed: Buffer, a: number, b: number): Buffer => {
    const out = Buffer.from(packed);
    out.set(leafAt(packed, b), a * HASH);
    out.set(leafAt(packed, a), b * HASH);
    return out;
  };
  /** `packed` with the leaves at `indexes` replaced by other ballot hashes. */
  const substitute = (packed: Buffer, ...indexes: number[]): Buffer => {
    const out = Buffer.from(packed);
    for (const i of indexes) out.set(sha(Buffer.from(`substitute ${i}`)), i * HASH);
    return out;
  };

  const sizes = [1, 2, 255, 256, 257, 1000, 65_536, 70_000];
  it.each(sizes)('finds nothing in an untouched window of %i, reading only the rightmost tiles', async (n) => {
    const before = leavesOf(n, `window ${n}`);
    const saved = savedOf(before);
    const diff = await diffWindowAgainstTiles(saved, Buffer.from(before));
    expect(diff.changes).toEqual([]);
    expect(Buffer.from(diff.savedRoot).equals(saved.root)).toBe(true);
    expect(Buffer.from(diff.currentRoot).equals(saved.root)).toBe(true);
    expect(saved.reader.reads()).toBeLessThanOrEqual(tileLevelCount(n));
  });

  it.each(sizes.filter((n) => n > 1))('names both seqs of a swap of two ballots in a window of %i', async (n) => {
    const before = leavesOf(n, `window ${n}`);
    const [a, b] = [Math.floor(n / 3), n - 1];
    const saved = savedOf(before);
    const diff = await diffWindowAgainstTiles(saved, swap(before, a, b));
    expect(diff.changes.map((c) => c.index)).toEqual([a, b]);
    const [first, second] = diff.changes;
    expect(Buffer.from(first!.savedEntry!)).toEqual(leafAt(before, a));
    expect(Buffer.from(first!.currentEntry)).toEqual(leafAt(before, b));
    expect(Buffer.from(second!.savedEntry!)).toEqual(leafAt(before, b));
    expect(Buffer.from(first!.savedLeafHash)).toEqual(sha(Buffer.concat([Buffer.of(0), leafAt(before, a)])));
    expect(Buffer.from(diff.currentRoot).equals(saved.root)).toBe(false);
    // Rightmost tiles, then per change one tile per level below the top and its entry bundle.
    const levels = tileLevelCount(n);
    expect(saved.reader.reads()).toBeLessThanOrEqual(levels + 2 * levels);
    expect(diff.tilesRead).toBe(saved.reader.reads());
  });

  it.each(sizes)('names the one seq of a substituted ballot in a window of %i', async (n) => {
    const before = leavesOf(n, `window ${n}`);
    const tiles = TreeTiles.fromLeaves(before);
    for (const i of new Set([0, Math.floor(n / 2), n - 1])) {
      const saved = savedOf(before, tiles);
      const diff = await diffWindowAgainstTiles(saved, substitute(before, i));
      expect(diff.changes.map((c) => [c.index, Buffer.from(c.savedEntry!).toString('hex')])).toEqual([
        [i, leafAt(before, i).toString('hex')],
      ]);
      expect(Buffer.from(diff.changes[0]!.currentEntry)).toEqual(sha(Buffer.from(`substitute ${i}`)));
      expect(saved.reader.reads()).toBeLessThanOrEqual(2 * tileLevelCount(n));
    }
  });

  it('reads O(changes × levels) tiles: 20 changes in a window of 1,000,000 leaves', async () => {
    const { packed: before, tiles } = million();
    const n = before.byteLength / HASH;
    const changed = Array.from({ length: 20 }, (_, k) => (k * 7_919_993) % n).sort((a, b) => a - b);
    const reader = counting(tiles);
    // No root given: the saved root is compared with the current one below instead of hashing the tree again.
    const diff = await diffWindowAgainstTiles({ size: n, readTile: reader.read }, substitute(before, ...changed));
    expect(Buffer.from(diff.savedRoot).equals(Buffer.from(await new TiledTree(n, tiles.read).treeHead()))).toBe(true);
    expect(Buffer.from(diff.savedRoot).equals(Buffer.from(diff.currentRoot))).toBe(false);
    expect(diff.changes.map((c) => c.index)).toEqual(changed);
    const levels = tileLevelCount(n);
    expect(reader.reads()).toBeLessThanOrEqual(levels + changed.length * levels);
  });

  it('refuses saved tiles that do not give the window root, or that disagree with each other', async () => {
    const before = leavesOf(1000, 'refuse');
    const saved = savedOf(before);
    const other = savedOf(leavesOf(1000, 'another window'));
    await expect(diffWindowAgainstTiles({ ...other, root: saved.root }, substitute(before, 3))).rejects.toThrow(
      /do not give|give the root/,
    );
    // A full level-0 tile changed on the saved side: its hash is no longer the entry the level-1 tile has.
    const tiles = TreeTiles.fromLeaves(before);
    const tampered: TileReader = (level, index, width) => {
      const data = tiles.read(level, index, width);
      if (level !== 0 || index !== 0 || data === undefined) return data;
      const copy = Buffer.from(data);
      copy[9 * HASH] = copy[9 * HASH]! ^ 1;
      return copy;
    };
    await expect(
      diffWindowAgainstTiles({ size: 1000, readTile: tampered, root: saved.root }, substitute(before, 3)),
    ).rejects.toThrow(/is not the tile/);
    await expect(diffWindowAgainstTiles(saved, before.subarray(HASH))).rejects.toThrow(RangeError);
  });

  it('with entry bundles inconsistent with the hash tiles, still names the seqs from the hash tiles', async () => {
    const before = leavesOf(1000, 'inconsistent bundles');
    const tiles = TreeTiles.fromLeaves(before);
    const root = merkleTreeHeadPacked(before);
    const now = swap(substitute(before, 3), 10, 900);
    // As a server whose hash tiles were stored at sealing but whose bundles are read from the changed ledger.
    const nowTiles = TreeTiles.fromLeaves(now);
    const liveBundles: TileReader = (level, index, width) =>
      level === 'entries' ? nowTiles.read(level, index, width) : tiles.read(level, index, width);
    const diff = await diffWindowAgainstTiles({ size: 1000, readTile: liveBundles, root }, now);
    expect(diff.changes.map((c) => [c.index, c.bundle, c.savedEntry])).toEqual([
      [3, 'inconsistent', undefined],
      [10, 'inconsistent', undefined],
      [900, 'inconsistent', undefined],
    ]);
    for (const c of diff.changes)
      expect(Buffer.from(c.savedLeafHash)).toEqual(sha(Buffer.concat([Buffer.of(0), leafAt(before, c.index)])));
    expect(Buffer.from(diff.changes[1]!.currentEntry)).toEqual(leafAt(before, 900));
    expect(diff.inconsistentBundles.map((b) => [formatTilePath(b.bundle), b.leaves, b.malformed])).toEqual([
      ['tile/entries/000', [3, 10], undefined],
      ['tile/entries/003.p/232', [900], undefined],
    ]);

    // A bundle that cannot be parsed (one entry short), and one whose entries are reordered: the same seqs.
    const badBundles: TileReader = (level, index, width) => {
      if (level !== 'entries') return tiles.read(level, index, width);
      const entries = parseEntryBundle(tiles.read(level, index, width)!, width);
      return encodeEntryBundle(index === 0 ? entries.slice(1) : entries.reverse());
    };
    const bad = await diffWindowAgainstTiles({ size: 1000, readTile: badBundles, root }, now);
    expect(bad.changes.map((c) => [c.index, c.bundle])).toEqual([
      [3, 'inconsistent'],
      [10, 'inconsistent'],
      [900, 'inconsistent'],
    ]);
    expect(bad.inconsistentBundles.map((b) => [b.bundle.index, b.leaves, b.malformed])).toEqual([
      [0, [3, 10], 'entry bundle holds 255 entries, not 256'],
      [3, [900], undefined],
    ]);

    // An entry that does hash to its leaf hash is still used, beside one of the same bundle that does not.
    const oneWrong: TileReader = (level, index, width) => {
      if (level !== 'entries' || index !== 0) return tiles.read(level, index, width);
      const entries = parseEntryBundle(tiles.read(level, index, width)!, width);
      entries[10] = leafAt(before, 11);
      return encodeEntryBundle(entries);
    };
    const mixed = await diffWindowAgainstTiles({ size: 1000, readTile: oneWrong, root }, now);
    expect(mixed.changes.map((c) => [c.index, c.bundle, c.savedEntry && Buffer.from(c.savedEntry)])).toEqual([
      [3, 'consistent', leafAt(before, 3)],
      [10, 'inconsistent', undefined],
      [900, 'consistent', leafAt(before, 900)],
    ]);
    expect(mixed.inconsistentBundles.map((b) => [b.bundle.index, b.leaves])).toEqual([[0, [10]]]);
  });

  it('with hash tiles that do not give the root, locates nothing, whatever the bundles hold', async () => {
    const before = leavesOf(1000, 'not the root');
    const now = substitute(before, 3);
    const root = merkleTreeHeadPacked(before);
    // The hash tiles of the changed window (as a server that computed them from the changed ledger): they give
    // another root, so neither they nor the bundles beside them say anything about the window anchored.
    const nowTiles = TreeTiles.fromLeaves(now);
    const originalBundles = TreeTiles.fromLeaves(before);
    const readTile: TileReader = (level, index, width) =>
      level === 'entries' ? originalBundles.read(level, index, width) : nowTiles.read(level, index, width);
    await expect(diffWindowAgainstTiles({ size: 1000, readTile, root }, now)).rejects.toThrow(
      /the saved tiles give the root [0-9a-f]{64}, not the window's/,
    );
    // Another tree's tiles with its bundles, consistent with each other: refused the same way.
    const other = TreeTiles.fromLeaves(leavesOf(1000, 'another tree'));
    await expect(diffWindowAgainstTiles({ size: 1000, readTile: other.read, root }, now)).rejects.toThrow(TileError);
  });

  it('without saved entry bundles, still names the seq and the saved leaf hash', async () => {
    const before = leavesOf(700, 'no bundles');
    const tiles = TreeTiles.fromLeaves(before);
    const noBundles: TileReader = (level, index, width) =>
      level === 'entries' ? undefined : tiles.read(level, index, width);
    const diff = await diffWindowAgainstTiles({ size: 700, readTile: noBundles }, substitute(before, 600));
    expect(diff.changes.map((c) => [c.index, c.savedEntry, c.bundle])).toEqual([[600, undefined, 'missing']]);
    expect(diff.inconsistentBundles).toEqual([]);
    expect(Buffer.from(diff.changes[0]!.savedLeafHash)).toEqual(
      sha(Buffer.concat([Buffer.of(0), leafAt(before, 600)])),
    );
  });
});
