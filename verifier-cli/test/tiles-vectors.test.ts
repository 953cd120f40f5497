// The verifier's tiles (src/tiles.ts) against docs/test-vectors/tiles.json, generated from the server's code:
// the same paths written and refused, byte-identical tiles and entry bundles, the same root, and the same proofs
// read from the same tiles.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { merkleTreeHeadPacked } from '../src/merkle.js';
import {
  entryBundlesOfTree,
  formatTilePath,
  parseTilePath,
  TiledTree,
  TileError,
  tilesOfTree,
  TreeTiles,
  type TileLevel,
} from '../src/tiles.js';

interface TileVectors {
  leafPrefix: string;
  paths: { level: TileLevel; index: number; width: number; path: string }[];
  invalidPaths: string[];
  trees: {
    size: number;
    root: string;
    tiles: { path: string; sha256: string }[];
    entryBundles: { path: string; sha256: string }[];
    proofs: { leafIndex: number; leaf: string; auditPath: string[]; tileReads: string[] }[];
  }[];
}

const v = JSON.parse(
  readFileSync(new URL('../../docs/test-vectors/tiles.json', import.meta.url), 'utf8'),
) as TileVectors;
const sha256Hex = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/** Leaf i = SHA-256(utf8(leafPrefix + i)), packed. */
function leavesOf(size: number): Buffer {
  return Buffer.concat(
    Array.from({ length: size }, (_, i) => createHash('sha256').update(`${v.leafPrefix}${i}`, 'utf8').digest()),
  );
}

describe('tiles.json: paths', () => {
  it.each(v.paths.map((p) => [p.path, p] as const))('%s', (path, p) => {
    expect(formatTilePath({ level: p.level, index: p.index, width: p.width })).toBe(path);
    expect(parseTilePath(path)).toEqual({ level: p.level, index: p.index, width: p.width });
  });

  it.each(v.invalidPaths.map((p) => [p]))('refuses %j', (path) => {
    expect(() => parseTilePath(path)).toThrow(TileError);
  });
});

describe.each(v.trees.map((t) => [t.size, t] as const))('tiles.json: the tree of %i leaves', (size, tree) => {
  const packed = leavesOf(size);
  const tiles = TreeTiles.fromLeaves(packed);

  it('has the same tiles and entry bundles, byte for byte, and the same root', async () => {
    const mine = (list: ReturnType<typeof tilesOfTree>) =>
      list.map((t) => ({ path: formatTilePath(t), sha256: sha256Hex(tiles.data(t.level, t.index)!) }));
    expect(mine(tilesOfTree(size))).toEqual(tree.tiles);
    expect(mine(entryBundlesOfTree(size))).toEqual(tree.entryBundles);
    expect(Buffer.from(merkleTreeHeadPacked(packed)).toString('hex')).toBe(tree.root);
    expect(Buffer.from(await new TiledTree(size, tiles.read).treeHead()).toString('hex')).toBe(tree.root);
  });

  it('gives the same proofs, read from the same tiles', async () => {
    expect(tree.proofs.length).toBeGreaterThan(0);
    for (const p of tree.proofs) {
      expect(packed.subarray(p.leafIndex * 32, (p.leafIndex + 1) * 32).toString('hex')).toBe(p.leaf);
      const reads: string[] = [];
      const proof = await new TiledTree(size, (level, index, width) => {
        reads.push(formatTilePath({ level, index, width }));
        return tiles.read(level, index, width);
      }).inclusionProof(p.leafIndex);
      expect(
        proof.auditPath.map((h) => Buffer.from(h).toString('hex')),
        `leaf ${p.leafIndex}`,
      ).toEqual(p.auditPath);
      expect([...reads].sort(), `leaf ${p.leafIndex}`).toEqual([...p.tileReads].sort());
    }
  });
});
