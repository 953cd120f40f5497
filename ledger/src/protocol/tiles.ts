// A sealed window's RFC 6962 tree as C2SP tlog-tiles (https://c2sp.org/tlog-tiles): tile paths both ways, a
// streaming builder of every hash tile and entry bundle, and inclusion proofs computed from O(log n) tile
// reads instead of a rebuilt tree. Pure: no I/O; callers store the tiles and hand back a reader.
//
// Geometry, in the spec's words: tile N at level L holds, for i < W, MTH(D[(N*256+i)*256^L : (N*256+i+1)*256^L]);
// level L of a tree of size s has floor(s/256^L) hashes, in full tiles of 256 and one partial tile of
// floor(s/256^L) mod 256 (none when that is 0). A perfect subtree of height h is thus 2^(h mod 8) consecutive
// hashes of one tile at level floor(h/8), hashed up inside that tile.
import { EMPTY_ROOT, leafHash, leafHashAt, nodeHash } from './merkle.js';

/** Tile height: a full tile is 2^8 hashes, the whole subtree of height 8 above them. */
export const TILE_HEIGHT = 8;
/** Hashes in a full tile (and entries in a full bundle). */
export const TILE_WIDTH = 256;
export const TILE_HASH_SIZE = 32;
/** Levels are 0..63 (C2SP: "between 0 and 63"). */
export const TILE_MAX_LEVEL = 63;
/** The entries are the window's 32-byte leaves (ballot hashes); a bundle writes each after its uint16_be length. */
export const TILE_ENTRY_SIZE = 32;
const BUNDLE_ENTRY_SIZE = 2 + TILE_ENTRY_SIZE;
const FULL_TILE_BYTES = TILE_WIDTH * TILE_HASH_SIZE;

/** A hash tile: level, index within the level, width (256 for a full tile, 1..255 for a partial one). */
export interface HashTileId {
  level: number;
  index: number;
  width: number;
}

/** An entry bundle: index (as a level-0 tile's) and width. */
export interface EntryBundleId {
  index: number;
  width: number;
}

export type ParsedTilePath = ({ kind: 'hash' } & HashTileId) | ({ kind: 'entries' } & EntryBundleId);

export interface HashTile extends HashTileId {
  /** width × 32 bytes: the tile's hashes back to back. */
  data: Buffer;
  /**
   * The complete subtrees inside the tile (tileNodes): not part of the tile's bytes, kept by the ledger so that
   * a proof picks its siblings instead of hashing up to 255 nodes per tile.
   */
  nodes: Buffer;
}

export interface EntryBundle extends EntryBundleId {
  /** width × 34 bytes: each leaf after its uint16_be length (32). */
  data: Buffer;
}

/** Every tile of one tree, as `TileBuilder.finish` returns it. */
export interface TreeTiles {
  treeSize: number;
  /** MTH(D[treeSize]), computed from the tiles themselves. */
  root: Buffer;
  /** By level, then index; per level the full tiles, then the partial one if any. */
  tiles: HashTile[];
  /** By index; null when the builder was fed leaf hashes and so never saw the leaves. */
  entryBundles: EntryBundle[] | null;
}

/**
 * Reads one hash tile of the tree: `width` × 32 bytes. Tiles are untrusted (a CDN's, an observer's): a proof
 * computed from them proves something only once it verifies against a root the caller trusts.
 */
export type TileReader = (level: number, index: number, width: number) => Promise<Uint8Array>;

/** What a proof cost: tiles read and SHA-256 node hashes computed. Incremented, so one object can sum many. */
export interface TileProofCounters {
  tileReads: number;
  hashes: number;
}

// ---------- paths ----------

function checkIndexAndWidth(index: number, width: number): void {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`tile index ${index} is not a safe integer >= 0`);
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw new RangeError(`tile width ${width} is not in 1..${TILE_WIDTH}`);
  }
}

/** N as zero-padded 3-digit path elements, all but the last prefixed `x`: 1234067 → `x001/x234/067`. */
function indexElements(index: number): string {
  let n = index;
  let path = String(n % 1000).padStart(3, '0');
  while (n >= 1000) {
    n = Math.floor(n / 1000);
    path = `x${String(n % 1000).padStart(3, '0')}/${path}`;
  }
  return path;
}

const widthSuffix = (width: number) => (width === TILE_WIDTH ? '' : `.p/${width}`);

/** `tile/<L>/<N>[.p/<W>]`. */
export function hashTilePath(tile: HashTileId): string {
  if (!Number.isInteger(tile.level) || tile.level < 0 || tile.level > TILE_MAX_LEVEL) {
    throw new RangeError(`tile level ${tile.level} is not in 0..${TILE_MAX_LEVEL}`);
  }
  checkIndexAndWidth(tile.index, tile.width);
  return `tile/${tile.level}/${indexElements(tile.index)}${widthSuffix(tile.width)}`;
}

/** `tile/entries/<N>[.p/<W>]`. */
export function entryBundlePath(bundle: EntryBundleId): string {
  checkIndexAndWidth(bundle.index, bundle.width);
  return `tile/entries/${indexElements(bundle.index)}${widthSuffix(bundle.width)}`;
}

const LEVEL_RE = /^(?:0|[1-9][0-9]?)$/;
const WIDTH_RE = /^[1-9][0-9]{0,2}$/;
const INNER_ELEMENT_RE = /^x[0-9]{3}$/;
const LAST_ELEMENT_RE = /^[0-9]{3}$/;
/** 6 elements reach 10^18 > 2^53; a longer path cannot name a safe integer index. */
const MAX_INDEX_ELEMENTS = 6;

/**
 * Parses a tile or entry bundle path (attacker input: a URL). Returns null for anything that is not the one
 * canonical spelling: leading zeros in L or W, W outside 1..255 (a full tile has no `.p/`), a level above 63,
 * an `x000` leading element, an element not 3 digits, an index beyond 2^53.
 */
export function parseTilePath(path: string): ParsedTilePath | null {
  if (typeof path !== 'string' || path.length > 100) return null;
  const parts = path.split('/');
  if (parts.length < 3 || parts[0] !== 'tile') return null;
  let elements = parts.slice(2);
  let width = TILE_WIDTH;
  const beforeLast = elements[elements.length - 2];
  if (beforeLast?.endsWith('.p')) {
    const w = elements[elements.length - 1]!;
    if (!WIDTH_RE.test(w) || Number(w) >= TILE_WIDTH) return null;
    width = Number(w);
    elements = [...elements.slice(0, -2), beforeLast.slice(0, -2)];
  }
  if (elements.length > MAX_INDEX_ELEMENTS) return null;
  let index = 0;
  for (let i = 0; i < elements.length; i++) {
    const element = elements[i]!;
    const last = i === elements.length - 1;
    if (!(last ? LAST_ELEMENT_RE : INNER_ELEMENT_RE).test(element)) return null;
    index = index * 1000 + Number(last ? element : element.slice(1));
  }
  if (!Number.isSafeInteger(index)) return null;
  const levelText = parts[1]!;
  let parsed: ParsedTilePath;
  if (levelText === 'entries') {
    parsed = { kind: 'entries', index, width };
  } else {
    if (!LEVEL_RE.test(levelText) || Number(levelText) > TILE_MAX_LEVEL) return null;
    parsed = { kind: 'hash', level: Number(levelText), index, width };
  }
  // What is left non-canonical (an `x000` leading element) does not format back to the same text.
  const canonical = parsed.kind === 'entries' ? entryBundlePath(parsed) : hashTilePath(parsed);
  return canonical === path ? parsed : null;
}

// ---------- geometry ----------

function checkTreeSize(treeSize: number): void {
  if (!Number.isSafeInteger(treeSize) || treeSize < 0)
    throw new RangeError(`tree size ${treeSize} is not a safe integer >= 0`);
}

function checkLeafIndex(index: number, treeSize: number): void {
  checkTreeSize(treeSize);
  if (!Number.isSafeInteger(index) || index < 0 || index >= treeSize) {
    throw new RangeError(`leaf index ${index} outside tree of size ${treeSize}`);
  }
}

/** Hashes at `level` of a tree of `treeSize` leaves: floor(treeSize / 256^level). */
const levelHashCount = (level: number, treeSize: number) => Math.floor(treeSize / TILE_WIDTH ** level);

/**
 * The width of tile `index` at `level` in a tree of `treeSize` leaves: 256 when full, 1..255 when it is the
 * level's partial tile, 0 when the tree has no such tile (which a server answers with 404).
 */
export function tileWidthAt(level: number, index: number, treeSize: number): number {
  checkTreeSize(treeSize);
  if (!Number.isInteger(level) || level < 0 || level > TILE_MAX_LEVEL) return 0;
  if (!Number.isSafeInteger(index) || index < 0) return 0;
  return Math.max(0, Math.min(TILE_WIDTH, levelHashCount(level, treeSize) - index * TILE_WIDTH));
}

/** Every hash tile of a tree of `treeSize` leaves, by level then index. */
export function treeTileIds(treeSize: number): HashTileId[] {
  checkTreeSize(treeSize);
  const tiles: HashTileId[] = [];
  for (let level = 0; levelHashCount(level, treeSize) > 0; level++) {
    const count = levelHashCount(level, treeSize);
    for (let index = 0; index * TILE_WIDTH < count; index++) {
      tiles.push({ level, index, width: Math.min(TILE_WIDTH, count - index * TILE_WIDTH) });
    }
  }
  return tiles;
}

/** Every entry bundle of a tree of `treeSize` leaves, by index (the level-0 tiles' indexes and widths). */
export function treeEntryBundleIds(treeSize: number): EntryBundleId[] {
  return treeTileIds(treeSize)
    .filter((t) => t.level === 0)
    .map(({ index, width }) => ({ index, width }));
}

/** A perfect subtree, as the `count` (= 2^(h mod 8)) hashes at `offset` of one tile that span it. */
interface TileSpan extends HashTileId {
  offset: number;
  count: number;
}

/** The perfect subtree of 2^height leaves starting at leaf `start` (a multiple of 2^height). */
function spanOf(start: number, height: number, treeSize: number): TileSpan {
  const level = Math.floor(height / TILE_HEIGHT);
  const first = start / TILE_WIDTH ** level;
  const index = Math.floor(first / TILE_WIDTH);
  const width = tileWidthAt(level, index, treeSize);
  const span = { level, index, width, offset: first - index * TILE_WIDTH, count: 2 ** (height - level * TILE_HEIGHT) };
  if (!Number.isInteger(first) || span.offset % span.count !== 0 || span.offset + span.count > width) {
    throw new Error(`bad math: subtree of height ${height} at leaf ${start} is not in tile ${hashTilePath(span)}`);
  }
  return span;
}

/**
 * A node of the RFC tree, D[start:end), as its perfect subtrees, largest first. Every node's start is a
 * multiple of a power of two at least its size, so the binary digits of its size give aligned subtrees, and
 * MTH folds them from the right: MTH = H(P1 || H(P2 || … Pk)) (RFC 6962 2.1, split at the largest power of 2).
 */
function nodeSpans(start: number, end: number, treeSize: number): TileSpan[] {
  const spans: TileSpan[] = [];
  let at = start;
  while (at < end) {
    let height = 0;
    while (2 ** (height + 1) <= end - at) height++;
    spans.push(spanOf(at, height, treeSize));
    at += 2 ** height;
  }
  return spans;
}

/** PATH(m, D[n]) of RFC 6962 as the [start, end) ranges of its nodes, leaf-most sibling first. */
function pathNodeRanges(m: number, n: number): [number, number][] {
  const ranges: [number, number][] = [];
  let lo = 0;
  let hi = n;
  while (hi - lo > 1) {
    let k = 1;
    while (k * 2 < hi - lo) k *= 2;
    if (m < lo + k) {
      ranges.push([lo + k, hi]);
      hi = lo + k;
    } else {
      ranges.push([lo, lo + k]);
      lo += k;
    }
  }
  return ranges.reverse();
}

const tileKey = (t: HashTileId) => `${t.level}/${t.index}`;

/** The distinct tiles that spans lie in, by level then index. */
function tilesOfSpans(spans: readonly TileSpan[]): HashTileId[] {
  const tiles = new Map<string, HashTileId>();
  for (const { level, index, width } of spans) tiles.set(tileKey({ level, index, width }), { level, index, width });
  return [...tiles.values()].sort((a, b) => a.level - b.level || a.index - b.index);
}

/**
 * The tiles an inclusion proof of leaf `index` in a tree of `treeSize` reads, by level then index (for caching
 * and prefetching): at most two per level, the leaf's and the right edge's.
 */
export function tileReadsFor(index: number, treeSize: number): HashTileId[] {
  checkLeafIndex(index, treeSize);
  return tilesOfSpans(pathNodeRanges(index, treeSize).flatMap(([a, b]) => nodeSpans(a, b, treeSize)));
}

// ---------- hashing from tiles ----------

type TileLookup = (tile: HashTileId) => Buffer;

const noCounters = (): TileProofCounters => ({ tileReads: 0, hashes: 0 });

/**
 * The stored tileNodes of a tile of the tree, when the reader has them (the ledger keeps them beside each tile):
 * a subtree inside that tile is then looked up instead of hashed.
 */
export type TileNodesLookup = (tile: HashTileId) => Buffer | undefined;

/** The root of a perfect subtree from its span of tile hashes: count - 1 node hashes, none when its tile's nodes are known. */
function spanHash(span: TileSpan, lookup: TileLookup, counters: TileProofCounters, nodesOf?: TileNodesLookup): Buffer {
  const nodes = span.count > 1 ? nodesOf?.(span) : undefined;
  if (nodes) return tileNodeAt(nodes, span.width, span.offset, span.count);
  const data = lookup(span);
  const from = span.offset * TILE_HASH_SIZE;
  const scratch = Buffer.from(data.subarray(from, from + span.count * TILE_HASH_SIZE));
  for (let count = span.count; count > 1; count /= 2) {
    for (let i = 0; i < count / 2; i++) {
      const l = 2 * i * TILE_HASH_SIZE;
      // nodeHash copies both inputs before hashing, so writing the result over slot i (<= 2i) is safe.
      nodeHash(scratch.subarray(l, l + 32), scratch.subarray(l + 32, l + 64)).copy(scratch, i * TILE_HASH_SIZE);
      counters.hashes++;
    }
  }
  return scratch.subarray(0, TILE_HASH_SIZE);
}

function hashOfSpans(
  spans: readonly TileSpan[],
  lookup: TileLookup,
  counters: TileProofCounters,
  nodesOf?: TileNodesLookup,
): Buffer {
  let hash = spanHash(spans[spans.length - 1]!, lookup, counters, nodesOf);
  for (let i = spans.length - 2; i >= 0; i--) {
    hash = nodeHash(spanHash(spans[i]!, lookup, counters, nodesOf), hash);
    counters.hashes++;
  }
  return hash;
}

/** Reads the tiles in parallel, each once, refusing data of the wrong length. */
async function readTiles(
  tiles: readonly HashTileId[],
  readTile: TileReader,
  counters: TileProofCounters,
): Promise<TileLookup> {
  const data = await Promise.all(
    tiles.map(async (t) => {
      const bytes = await readTile(t.level, t.index, t.width);
      counters.tileReads++;
      if (bytes.length !== t.width * TILE_HASH_SIZE) {
        throw new RangeError(`tile ${hashTilePath(t)} has ${bytes.length} bytes, not ${t.width * TILE_HASH_SIZE}`);
      }
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }),
  );
  const byKey = new Map(tiles.map((t, i) => [tileKey(t), data[i]!]));
  return (t) => byKey.get(tileKey(t))!;
}

/**
 * PATH(index, D[treeSize]) of RFC 6962, leaf-most sibling first (as MerkleTree.auditPath), from the tiles
 * `tileReadsFor` lists, read in parallel: O(log n) tiles and at most ~255 hashes per tile level. The tiles are
 * not checked here: verify the path against a trusted root (verifyInclusion).
 */
export async function inclusionProofFromTiles(
  index: number,
  treeSize: number,
  readTile: TileReader,
  counters: TileProofCounters = noCounters(),
  nodesOf?: TileNodesLookup,
): Promise<Buffer[]> {
  checkLeafIndex(index, treeSize);
  const plan = pathNodeRanges(index, treeSize).map(([a, b]) => nodeSpans(a, b, treeSize));
  const lookup = await readTiles(tilesOfSpans(plan.flat()), readTile, counters);
  return plan.map((spans) => Buffer.from(hashOfSpans(spans, lookup, counters, nodesOf)));
}

/** The leaf hash H(0x00 || leaf) of leaf `index`, from its level-0 tile (one read, no hashing). */
export async function leafHashFromTiles(
  index: number,
  treeSize: number,
  readTile: TileReader,
  counters: TileProofCounters = noCounters(),
): Promise<Buffer> {
  checkLeafIndex(index, treeSize);
  const span = spanOf(index, 0, treeSize);
  const lookup = await readTiles([span], readTile, counters);
  return Buffer.from(spanHash(span, lookup, counters));
}

/** MTH(D[treeSize]) from the tiles: each level's partial tile (and the full ones the top needs), O(log n) hashes. */
export async function rootFromTiles(
  treeSize: number,
  readTile: TileReader,
  counters: TileProofCounters = noCounters(),
): Promise<Buffer> {
  checkTreeSize(treeSize);
  if (treeSize === 0) return Buffer.from(EMPTY_ROOT);
  const spans = nodeSpans(0, treeSize, treeSize);
  const lookup = await readTiles(tilesOfSpans(spans), readTile, counters);
  return Buffer.from(hashOfSpans(spans, lookup, counters));
}

/** The leaves of an entry bundle of `width` entries, refusing any length prefix but 32 and any trailing byte. */
export function parseEntryBundle(data: Uint8Array, width: number): Buffer[] {
  checkIndexAndWidth(0, width);
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length !== width * BUNDLE_ENTRY_SIZE) {
    throw new RangeError(`entry bundle has ${bytes.length} bytes, not ${width * BUNDLE_ENTRY_SIZE}`);
  }
  const leaves: Buffer[] = [];
  for (let off = 0; off < bytes.length; off += BUNDLE_ENTRY_SIZE) {
    const length = bytes.readUInt16BE(off);
    if (length !== TILE_ENTRY_SIZE) throw new RangeError(`entry ${leaves.length} has length ${length}, not 32`);
    leaves.push(Buffer.from(bytes.subarray(off + 2, off + BUNDLE_ENTRY_SIZE)));
  }
  return leaves;
}

// ---------- the subtrees inside a tile ----------

/**
 * Every complete aligned subtree inside a tile of `data.length / 32` hashes: for j = 1..8, the floor(width / 2^j)
 * roots of its runs of 2^j hashes, level j after level j - 1. A full tile has 255 (the last is the tile's own
 * subtree root, the hash one level up); a partial tile of width w has sum floor(w / 2^j).
 */
export function tileNodes(data: Buffer): Buffer {
  const width = data.length / TILE_HASH_SIZE;
  const out = Buffer.allocUnsafe(tileNodeCount(width) * TILE_HASH_SIZE);
  let below = data;
  let at = 0;
  for (let n = Math.floor(width / 2); n >= 1; n = Math.floor(n / 2)) {
    const level = out.subarray(at, at + n * TILE_HASH_SIZE);
    for (let i = 0; i < n; i++) {
      const l = 2 * i * TILE_HASH_SIZE;
      nodeHash(below.subarray(l, l + 32), below.subarray(l + 32, l + 64)).copy(level, i * TILE_HASH_SIZE);
    }
    below = level;
    at += n * TILE_HASH_SIZE;
  }
  return out;
}

/** How many nodes tileNodes gives for a tile of `width` hashes. */
export function tileNodeCount(width: number): number {
  let count = 0;
  for (let n = Math.floor(width / 2); n >= 1; n = Math.floor(n / 2)) count += n;
  return count;
}

/** The root of the `count` (= 2^j, j ≥ 1) hashes at `offset` of a tile of `width`, read from its tileNodes. */
export function tileNodeAt(nodes: Buffer, width: number, offset: number, count: number): Buffer {
  let at = 0;
  let n = Math.floor(width / 2);
  for (let size = 2; size < count; size *= 2) {
    at += n;
    n = Math.floor(n / 2);
  }
  const index = at + offset / count;
  return nodes.subarray(index * TILE_HASH_SIZE, (index + 1) * TILE_HASH_SIZE);
}

// ---------- building ----------

/**
 * Every tile of a tree, built in one pass over its leaves in order (fed from the ledger's chunked reads).
 * Holds the full tiles it has made (8 KiB each and as much again for their tileNodes, plus 8.5 KiB per entry
 * bundle) and one open tile per level; each full tile is hashed once, on completion, into its nodes and the
 * level above, so building costs about one leaf hash and one node hash per leaf, as MerkleRootBuilder does.
 */
export class TileBuilder {
  /** Completed full tiles, per level, by index, with their tileNodes. */
  private readonly full: { data: Buffer; nodes: Buffer }[][] = [];
  /** Per level, the tile being filled and how many hashes it holds. */
  private readonly open: { data: Buffer; fill: number }[] = [];
  private readonly fullBundles: Buffer[] = [];
  private bundle = { data: Buffer.allocUnsafe(TILE_WIDTH * BUNDLE_ENTRY_SIZE), fill: 0 };
  /** Entry bundles need the leaves themselves: one builder takes leaves or leaf hashes, never both. */
  private fedWith: 'leaves' | 'leaf hashes' | null = null;
  private n = 0;
  private finished = false;

  get size(): number {
    return this.n;
  }

  /** One 32-byte leaf (a ballot hash): hashed with the leaf prefix, and kept for its entry bundle. */
  pushLeaf(leaf: Uint8Array): void {
    if (leaf.length !== TILE_ENTRY_SIZE) throw new RangeError(`a leaf is ${TILE_ENTRY_SIZE} bytes, not ${leaf.length}`);
    this.feed('leaves');
    this.appendEntry(leaf, 0);
    this.appendHash(leafHash(leaf));
  }

  /** 32-byte leaves back to back, as the ledger reads them. */
  pushLeaves(packed: Buffer): void {
    if (packed.length % TILE_ENTRY_SIZE !== 0) throw new RangeError('packed leaves are not a multiple of 32 bytes');
    this.feed('leaves');
    for (let off = 0; off < packed.length; off += TILE_ENTRY_SIZE) {
      this.appendEntry(packed, off);
      this.appendHash(leafHashAt(packed, off));
    }
  }

  /** One leaf hash H(0x00 || leaf); a builder fed so makes no entry bundles. */
  pushLeafHash(hash: Uint8Array): void {
    if (hash.length !== TILE_HASH_SIZE) throw new RangeError(`a leaf hash is 32 bytes, not ${hash.length}`);
    this.feed('leaf hashes');
    this.appendHash(hash);
  }

  /** Leaf hashes back to back. */
  pushLeafHashes(packed: Buffer): void {
    if (packed.length % TILE_HASH_SIZE !== 0) throw new RangeError('packed leaf hashes are not a multiple of 32 bytes');
    this.feed('leaf hashes');
    for (let off = 0; off < packed.length; off += TILE_HASH_SIZE) this.appendHash(packed.subarray(off, off + 32));
  }

  /** Every tile and entry bundle of the tree of the leaves pushed, and its root. The builder is then spent. */
  finish(): TreeTiles {
    if (this.finished) throw new Error('TileBuilder: already finished');
    this.finished = true;
    const tiles: HashTile[] = [];
    for (let level = 0; level < this.open.length; level++) {
      const full = this.full[level]!;
      full.forEach(({ data, nodes }, index) => {
        tiles.push({ level, index, width: TILE_WIDTH, data, nodes });
      });
      const open = this.open[level]!;
      if (open.fill > 0) {
        const data = Buffer.from(open.data.subarray(0, open.fill * TILE_HASH_SIZE));
        tiles.push({ level, index: full.length, width: open.fill, data, nodes: tileNodes(data) });
      }
    }
    let entryBundles: EntryBundle[] | null = null;
    if (this.fedWith !== 'leaf hashes') {
      entryBundles = this.fullBundles.map((data, index) => ({ index, width: TILE_WIDTH, data }));
      if (this.bundle.fill > 0) {
        const data = Buffer.from(this.bundle.data.subarray(0, this.bundle.fill * BUNDLE_ENTRY_SIZE));
        entryBundles.push({ index: this.fullBundles.length, width: this.bundle.fill, data });
      }
    }
    const byKey = new Map(tiles.map((t) => [tileKey(t), t]));
    const root =
      this.n === 0
        ? Buffer.from(EMPTY_ROOT)
        : Buffer.from(
            hashOfSpans(
              nodeSpans(0, this.n, this.n),
              (t) => byKey.get(tileKey(t))!.data,
              noCounters(),
              (t) => byKey.get(tileKey(t))?.nodes,
            ),
          );
    return { treeSize: this.n, root, tiles, entryBundles };
  }

  private feed(kind: 'leaves' | 'leaf hashes' | null): void {
    if (this.finished) throw new Error('TileBuilder: already finished');
    if (this.fedWith !== null && kind !== this.fedWith) {
      throw new Error(`TileBuilder: fed with ${this.fedWith}, cannot take ${kind} too`);
    }
    this.fedWith = kind;
  }

  private appendEntry(leaves: Uint8Array, offset: number): void {
    const bundle = this.bundle;
    const at = bundle.fill * BUNDLE_ENTRY_SIZE;
    bundle.data.writeUInt16BE(TILE_ENTRY_SIZE, at);
    bundle.data.set(leaves.subarray(offset, offset + TILE_ENTRY_SIZE), at + 2);
    if (++bundle.fill === TILE_WIDTH) {
      this.fullBundles.push(bundle.data);
      this.bundle = { data: Buffer.allocUnsafe(TILE_WIDTH * BUNDLE_ENTRY_SIZE), fill: 0 };
    }
  }

  /** Appends a leaf hash; a tile it completes is stored and its subtree root goes one level up, and so on. */
  private appendHash(hash: Uint8Array): void {
    this.n++;
    let h = hash;
    for (let l = 0; ; l++) {
      if (l === this.open.length) {
        this.open.push({ data: Buffer.allocUnsafe(FULL_TILE_BYTES), fill: 0 });
        this.full.push([]);
      }
      const open = this.open[l]!;
      open.data.set(h, open.fill * TILE_HASH_SIZE);
      if (++open.fill < TILE_WIDTH) return;
      const nodes = tileNodes(open.data);
      this.full[l]!.push({ data: open.data, nodes });
      this.open[l] = { data: Buffer.allocUnsafe(FULL_TILE_BYTES), fill: 0 };
      h = nodes.subarray(nodes.length - TILE_HASH_SIZE);
    }
  }
}
