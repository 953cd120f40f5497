// verifyInclusion against the shared RFC 6962 vectors (docs/test-vectors/rfc6962-merkle.json):
// every tree size 1..33 and every leaf, plus the proofs it must refuse without reverting.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { electionKey, type TallyAnchorContract } from '../index.js';
import { b32, deployFixture, mined, stopFixture, type Fixture } from './support.js';

interface Vectors {
  leaves: string[];
  trees: { size: number; root: string; proofs: { leafIndex: number; auditPath: string[] }[] }[];
}

const vectors = JSON.parse(
  readFileSync(new URL('../../docs/test-vectors/rfc6962-merkle.json', import.meta.url), 'utf8'),
) as Vectors;
const hex = (h: string): string => `0x${h}`;
const leaf = (i: number): string => hex(vectors.leaves[i]!);
/** The non-empty trees: empty windows are never anchored. */
const trees = vectors.trees.filter((t) => t.size > 0);

let fx: Fixture;
let anchor: TallyAnchorContract;
const key = electionKey('rfc6962-vectors');
/** Tree size -> window index: one window per tree, chained (window i starts where i-1 ends). */
const windowOf = new Map<number, number>();

beforeAll(async () => {
  fx = await deployFixture();
  anchor = fx.asAnchorer;
  await mined(anchor.registerElection(key, b32('manifest'), b32('roll')));
  let firstSeq = 0;
  for (const [index, tree] of trees.entries()) {
    await mined(anchor.anchorWindow(key, index, firstSeq, tree.size, hex(tree.root)));
    windowOf.set(tree.size, index);
    firstSeq += tree.size;
  }
});

afterAll(async () => {
  await stopFixture(fx);
});

function verify(
  windowIndex: number | bigint,
  leafIndex: number | bigint,
  ballotHash: string,
  path: string[],
): Promise<boolean> {
  return anchor.verifyInclusion(key, windowIndex, leafIndex, ballotHash, path);
}

describe('verifyInclusion with the RFC 6962 vectors', () => {
  it('covers tree sizes 1..33 with a proof for every leaf', () => {
    expect(trees.map((t) => t.size)).toEqual(Array.from({ length: 33 }, (_, i) => i + 1));
    for (const tree of trees) expect(tree.proofs.map((p) => p.leafIndex)).toEqual([...Array(tree.size).keys()]);
  });

  it('accepts every leaf of every tree', async () => {
    const checks = trees.flatMap((tree) =>
      tree.proofs.map(async (p) => ({
        size: tree.size,
        leafIndex: p.leafIndex,
        ok: await verify(windowOf.get(tree.size)!, p.leafIndex, leaf(p.leafIndex), p.auditPath.map(hex)),
      })),
    );
    const results = await Promise.all(checks);
    expect(results).toHaveLength(561); // 1 + 2 + ... + 33
    expect(results.filter((r) => !r.ok)).toEqual([]);
  });

  it('refuses a wrong leaf', async () => {
    const checks = trees.flatMap((tree) =>
      tree.proofs.map((p) => {
        // Another leaf of the data set, and the right leaf with one bit flipped.
        const other = leaf((p.leafIndex + 1) % vectors.leaves.length);
        const flipped = hex(
          vectors.leaves[p.leafIndex]!.slice(0, 63) + (vectors.leaves[p.leafIndex]!.endsWith('0') ? '1' : '0'),
        );
        const path = p.auditPath.map(hex);
        const w = windowOf.get(tree.size)!;
        return Promise.all([verify(w, p.leafIndex, other, path), verify(w, p.leafIndex, flipped, path)]);
      }),
    );
    expect((await Promise.all(checks)).flat().filter(Boolean)).toEqual([]);
  });

  it('refuses a wrong leaf index, including indexes at and past the window size', async () => {
    const checks = trees.flatMap((tree) =>
      tree.proofs.flatMap((p) => {
        const w = windowOf.get(tree.size)!;
        const path = p.auditPath.map(hex);
        // A neighbour (same path length, other sides), the first index past the window, a far one.
        const wrong = [p.leafIndex > 0 ? p.leafIndex - 1 : p.leafIndex + 1, tree.size, 2 ** 32 + p.leafIndex];
        return wrong.map((i) =>
          verify(w, i, leaf(p.leafIndex), path).then((ok) => ({
            size: tree.size,
            leafIndex: p.leafIndex,
            claimed: i,
            ok,
          })),
        );
      }),
    );
    const results = await Promise.all(checks);
    expect(results.filter((r) => r.ok)).toEqual([]);
    expect(await verify(windowOf.get(1)!, 2n ** 64n - 1n, leaf(0), [])).toBe(false);
  });

  it('refuses audit paths that are too long or too short', async () => {
    const extra = hex(vectors.leaves[0]!);
    const checks = trees.flatMap((tree) =>
      tree.proofs.flatMap((p) => {
        const w = windowOf.get(tree.size)!;
        const path = p.auditPath.map(hex);
        const variants = [[...path, extra]];
        if (path.length > 0) variants.push(path.slice(0, -1));
        return variants.map((v) => verify(w, p.leafIndex, leaf(p.leafIndex), v));
      }),
    );
    expect((await Promise.all(checks)).filter(Boolean)).toEqual([]);
  });

  it("refuses a valid proof checked against another window's root", async () => {
    // Against the next smaller and larger trees (same leaf, often the same path length) and the largest.
    const checks = trees.flatMap((tree) =>
      tree.proofs.flatMap((p) =>
        [tree.size - 1, tree.size + 1, 33]
          .filter((size) => size !== tree.size && p.leafIndex < size && windowOf.has(size))
          .map((size) => verify(windowOf.get(size)!, p.leafIndex, leaf(p.leafIndex), p.auditPath.map(hex))),
      ),
    );
    expect(checks.length).toBeGreaterThan(1_000);
    expect((await Promise.all(checks)).filter(Boolean)).toEqual([]);
  });

  it('returns false, without reverting, for an unknown window or election', async () => {
    const tree = trees[4]!; // size 5
    const p = tree.proofs[2]!;
    const path = p.auditPath.map(hex);
    expect(await verify(windowOf.get(tree.size)!, p.leafIndex, leaf(p.leafIndex), path)).toBe(true);
    expect(await verify(trees.length, p.leafIndex, leaf(p.leafIndex), path)).toBe(false);
    expect(await verify(2n ** 64n - 1n, p.leafIndex, leaf(p.leafIndex), path)).toBe(false);
    expect(
      await anchor.verifyInclusion(
        electionKey('unknown'),
        windowOf.get(tree.size)!,
        p.leafIndex,
        leaf(p.leafIndex),
        path,
      ),
    ).toBe(false);
  });
});

// Large windows: the vectors stop at 33 leaves. For a window of any size, an audit path of random
// sibling hashes is the path of some tree of that size; its root is computed here by an independent
// RFC 6962 implementation (the recursive MTH split, not the RFC 9162 loop the contract runs).
describe('verifyInclusion on large windows', () => {
  const sha256 = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();
  const leafHash = (data: Buffer): Buffer => sha256(Buffer.from([0]), data);
  const nodeHash = (l: Buffer, r: Buffer): Buffer => sha256(Buffer.from([1]), l, r);

  /** RFC 6962 2.1.1 PATH(m, D[n]) as a recipe: the sibling sides from the root down, mapped to the
   * root from a leaf hash and siblings listed leaf-most first. */
  function rootFromPath(m: bigint, n: bigint, leafH: Buffer, siblings: Buffer[]): Buffer {
    // Walk down from the root recording which side the leaf is on, then fold back up.
    const sides: ('left' | 'right')[] = [];
    while (n > 1n) {
      let k = 1n;
      while (k * 2n < n) k *= 2n; // largest power of two smaller than n
      if (m < k) {
        sides.push('left');
        n = k;
      } else {
        sides.push('right');
        m -= k;
        n -= k;
      }
    }
    if (sides.length !== siblings.length) throw new Error('path length does not match the tree');
    let r = leafH;
    for (let i = 0; i < siblings.length; i++) {
      const side = sides[sides.length - 1 - i]!;
      r = side === 'left' ? nodeHash(r, siblings[i]!) : nodeHash(siblings[i]!, r);
    }
    return r;
  }

  function depth(m: bigint, n: bigint): number {
    let d = 0;
    while (n > 1n) {
      let k = 1n;
      while (k * 2n < n) k *= 2n;
      if (m < k) n = k;
      else {
        m -= k;
        n -= k;
      }
      d++;
    }
    return d;
  }

  const largeKey = electionKey('large-windows');
  const cases: { size: bigint; leafIndex: bigint }[] = [
    { size: 1_000_000n, leafIndex: 0n },
    { size: 1_000_000n, leafIndex: 999_999n },
    { size: 1_000_000n, leafIndex: 524_288n },
    { size: 2n ** 20n, leafIndex: 2n ** 20n - 1n },
    { size: 2n ** 32n + 3n, leafIndex: 2n ** 32n + 2n },
    { size: 2n ** 32n + 3n, leafIndex: 123_456_789n },
    { size: 2n ** 63n + 1n, leafIndex: 2n ** 63n },
  ];

  it('agrees with an independent RFC 6962 implementation on deep and ragged trees', async () => {
    await mined(anchor.registerElection(largeKey, b32('manifest'), b32('roll')));
    let firstSeq = 0n;
    const prepared = [];
    for (const [index, c] of cases.entries()) {
      const ballotHash = createHash('sha256').update(`large ${index}`).digest();
      const siblings = Array.from({ length: depth(c.leafIndex, c.size) }, (_, i) =>
        createHash('sha256').update(`sibling ${index} ${i}`).digest(),
      );
      const root = rootFromPath(c.leafIndex, c.size, leafHash(ballotHash), siblings);
      await mined(anchor.anchorWindow(largeKey, index, firstSeq, c.size, `0x${root.toString('hex')}`));
      firstSeq += c.size;
      prepared.push({
        index,
        c,
        ballotHash: `0x${ballotHash.toString('hex')}`,
        path: siblings.map((s) => `0x${s.toString('hex')}`),
      });
    }
    for (const { index, c, ballotHash, path } of prepared) {
      expect(
        await anchor.verifyInclusion(largeKey, index, c.leafIndex, ballotHash, path),
        `size ${c.size} leaf ${c.leafIndex}`,
      ).toBe(true);
      expect(await anchor.verifyInclusion(largeKey, index, c.leafIndex ^ 1n, ballotHash, path)).toBe(false);
      expect(await anchor.verifyInclusion(largeKey, index, c.leafIndex, ballotHash, path.slice(0, -1))).toBe(false);
    }
  });

  it('ends quickly on an oversized path', async () => {
    // 10,000 siblings for a 1-leaf window: the check stops at the first one.
    const path = Array.from({ length: 10_000 }, (_, i) => b32(i));
    const gas = await anchor.verifyInclusion.estimateGas(
      electionKey('rfc6962-vectors'),
      windowOf.get(1)!,
      0,
      leaf(0),
      path,
    );
    expect(await verify(windowOf.get(1)!, 0, leaf(0), path)).toBe(false);
    expect(gas).toBeLessThan(30_000_000n);
  });
});
