// tiles.json: a window's RFC 6962 tree as C2SP tlog-tiles (https://c2sp.org/tlog-tiles), written from the spec's
// text with the recursive reference, not with ledger/src/protocol/tiles.ts: tile N at level L holds, for i < W,
// MTH(D[(N*256+i)*256^L : (N*256+i+1)*256^L]), level L having floor(s/256^L) hashes; an entry bundle holds
// uint16_be(32) || leaf for each of its leaves. For a few tree sizes: every tile path and the SHA-256 of its
// bytes, every entry bundle likewise, the root, and a few audit paths with the tiles a reader fetches for them.
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { H, hex, mth, path } from './reference.js';

const SIZES = [1, 255, 256, 257, 1000, 65537];
const WIDTH = 256;

/** leaf i = SHA-256(utf8("tallyproof:tile-vector:" + i)): 32 bytes, as a ballot hash. */
const leafOf = (i: number) => H(utf8ToBytes(`tallyproof:tile-vector:${i}`));

/** N as 3-digit path elements, all but the last prefixed with x (spec: 1234067 → x001/x234/067). */
function indexPath(n: number): string {
  const groups: string[] = [];
  let rest = n;
  do {
    groups.unshift(String(rest % 1000).padStart(3, '0'));
    rest = Math.floor(rest / 1000);
  } while (rest > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

const suffix = (width: number) => (width < WIDTH ? `.p/${width}` : '');
const tilePath = (level: number, index: number, width: number) => `tile/${level}/${indexPath(index)}${suffix(width)}`;
const bundlePath = (index: number, width: number) => `tile/entries/${indexPath(index)}${suffix(width)}`;

/** Hashes at level L of a tree of size s. */
const levelCount = (level: number, size: number) => Math.floor(size / WIDTH ** level);
const widthOf = (level: number, index: number, size: number) =>
  Math.min(WIDTH, levelCount(level, size) - index * WIDTH);

function tilesOf(leaves: Uint8Array[]) {
  const s = leaves.length;
  const tiles: { path: string; sha256: string }[] = [];
  for (let level = 0; levelCount(level, s) > 0; level++) {
    const span = WIDTH ** level;
    for (let n = 0; n * WIDTH < levelCount(level, s); n++) {
      const w = widthOf(level, n, s);
      const hashes = Array.from({ length: w }, (_, i) =>
        mth(leaves.slice((n * WIDTH + i) * span, (n * WIDTH + i + 1) * span)),
      );
      tiles.push({ path: tilePath(level, n, w), sha256: hex(H(concatBytes(...hashes))) });
    }
  }
  return tiles;
}

function bundlesOf(leaves: Uint8Array[]) {
  const bundles: { path: string; sha256: string }[] = [];
  for (let n = 0; n * WIDTH < leaves.length; n++) {
    const w = widthOf(0, n, leaves.length);
    const entries = leaves.slice(n * WIDTH, n * WIDTH + w).map((leaf) => concatBytes(new Uint8Array([0, 32]), leaf));
    bundles.push({ path: bundlePath(n, w), sha256: hex(H(concatBytes(...entries))) });
  }
  return bundles;
}

/**
 * The tiles a reader fetches for PATH(m, D[s]): each node of the path is D[a:b) of the RFC's split tree; split
 * into its perfect subtrees (the binary digits of b - a, largest first), a subtree of 2^h leaves from leaf x is
 * 2^(h mod 8) hashes of the tile at level floor(h/8) holding hash x / 256^floor(h/8).
 */
function tileReads(m: number, s: number): string[] {
  const nodes: [number, number][] = [];
  const walk = (lo: number, hi: number) => {
    if (hi - lo <= 1) return;
    let k = 1;
    while (k * 2 < hi - lo) k *= 2;
    if (m < lo + k) {
      nodes.push([lo + k, hi]);
      walk(lo, lo + k);
    } else {
      nodes.push([lo, lo + k]);
      walk(lo + k, hi);
    }
  };
  walk(0, s);
  const tiles = new Map<string, [number, number]>();
  for (const [a, b] of nodes) {
    for (let x = a; x < b; ) {
      let h = 0;
      while (2 ** (h + 1) <= b - x) h++;
      const level = Math.floor(h / 8);
      const index = Math.floor(x / WIDTH ** level / WIDTH);
      tiles.set(tilePath(level, index, widthOf(level, index, s)), [level, index]);
      x += 2 ** h;
    }
  }
  return [...tiles.entries()].sort(([, a], [, b]) => a[0] - b[0] || a[1] - b[1]).map(([p]) => p);
}

export function tileVectors() {
  const all = Array.from({ length: Math.max(...SIZES) }, (_, i) => leafOf(i));
  return {
    description:
      'C2SP tlog-tiles of RFC 6962 trees (tiles of height 8: 256 hashes, 8,192 bytes when full). The tree of ' +
      'size s has leaves 0..s-1, leaf i = SHA-256(utf8("tallyproof:tile-vector:" + i)) (32 bytes). Tile N at level ' +
      'L holds MTH(D[(N*256+i)*256^L : (N*256+i+1)*256^L]) for i < W; level L has floor(s/256^L) hashes, in full ' +
      'tiles and one partial tile of floor(s/256^L) mod 256 (path suffix .p/W). Entry bundles hold uint16_be(32) || ' +
      'leaf per leaf. Each tile and bundle is listed by path with the SHA-256 of its bytes, by level then index. ' +
      'Proofs: PATH(m, D[s]) leaf-most first, and tileReads, the tiles it is computed from (each path node split ' +
      'into perfect subtrees, largest first; one of height h is read from the tile at level floor(h/8)).',
    leafPrefix: 'tallyproof:tile-vector:',
    paths: [
      { level: 0, index: 0, width: 256, path: 'tile/0/000' },
      { level: 0, index: 0, width: 1, path: 'tile/0/000.p/1' },
      { level: 1, index: 999, width: 255, path: 'tile/1/999.p/255' },
      { level: 2, index: 1000, width: 256, path: 'tile/2/x001/000' },
      { level: 63, index: 1234067, width: 256, path: 'tile/63/x001/x234/067' },
      { level: 0, index: 1234067, width: 8, path: 'tile/0/x001/x234/067.p/8' },
      { level: 'entries', index: 1234067, width: 256, path: 'tile/entries/x001/x234/067' },
      { level: 'entries', index: 5, width: 17, path: 'tile/entries/005.p/17' },
    ].map((c) => {
      const made = c.level === 'entries' ? bundlePath(c.index, c.width) : tilePath(c.level as number, c.index, c.width);
      if (made !== c.path) throw new Error(`tile path of ${JSON.stringify(c)} is ${made}`);
      return c;
    }),
    invalidPaths: [
      'tile/00/000',
      'tile/64/000',
      'tile/0/0',
      'tile/0/0000',
      'tile/0/x000/001',
      'tile/0/001/002',
      'tile/0/x1/002',
      'tile/0/000.p/0',
      'tile/0/000.p/256',
      'tile/0/000.p/01',
      'tile/0/000.p/',
      'tile/0/000.p',
      'tile/0/000/',
      'tile/0',
      'tile/entry/000',
      'tile/-1/000',
      'tiles/0/000',
      '/tile/0/000',
      'tile/0/x001/x234/067.p/8/',
    ],
    trees: SIZES.map((size) => {
      const leaves = all.slice(0, size);
      const indexes = [...new Set([0, 1, 127, 255, 256, Math.floor(size / 2), size - 2, size - 1])]
        .filter((m) => m >= 0 && m < size)
        .sort((a, b) => a - b);
      return {
        size,
        root: hex(mth(leaves)),
        tiles: tilesOf(leaves),
        entryBundles: bundlesOf(leaves),
        proofs: indexes.map((m) => ({
          leafIndex: m,
          leaf: hex(leaves[m]!),
          auditPath: path(m, leaves).map(hex),
          tileReads: tileReads(m, size),
        })),
      };
    }),
  };
}
