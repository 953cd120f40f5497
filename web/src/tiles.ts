// A window's RFC 6962 tree read as C2SP tlog-tiles (https://c2sp.org/tlog-tiles, docs/protocol.md section 14),
// the page's own code (ledger/src/protocol/tiles.ts and verifier-cli/src/tiles.ts were read for the algorithm;
// nothing is imported from them): tile paths, the audit path of one leaf computed from tile reads, and the leaf
// hash from its level-0 tile. Tiles come from the API or any CDN mirroring it and are never trusted: a path
// computed from them proves something only once it leads to the root read from the chain.
//
// Geometry: tile N at level L holds, for i < W, MTH(D[(256N + i)·256^L : (256N + i + 1)·256^L]); level L of a
// tree of size s has floor(s / 256^L) hashes, in full tiles of 256 and one partial tile (none when that count is
// a multiple of 256). A perfect subtree of 2^h leaves is 2^(h mod 8) consecutive hashes of one tile at level
// floor(h / 8), so a proof reads at most two tiles per level: the leaf's and the right edge's.
// Indices are plain numbers (exact up to 2^53): no 32-bit bitwise operators.
import { leafHash, nodeHash } from './protocol.js';

/** A tile covers 8 levels of the tree. */
export const TILE_HEIGHT = 8;
/** Hashes in a full tile (entries in a full bundle). */
export const TILE_WIDTH = 256;
export const TILE_HASH_SIZE = 32;
/** C2SP: levels 0..63. */
export const TILE_MAX_LEVEL = 63;

/** A hash tile: level, index within the level, width (256 when full, 1..255 when partial). */
export interface TileId {
  level: number;
  index: number;
  width: number;
}

/** Reads one hash tile: width × 32 bytes. What it returns is checked here, never trusted. */
export type TileReader = (tile: TileId) => Promise<Uint8Array>;

/**
 * Tiles that could not be had (`unreadable`: network, HTTP status, CORS) or that are not tiles of this tree
 * (`malformed`: the wrong length). The first says nothing about the ledger; the second is bad data.
 */
export class TileError extends Error {
  constructor(
    readonly kind: 'unreadable' | 'malformed',
    message: string,
  ) {
    super(message);
    this.name = 'TileError';
  }
}

// ---------- paths ----------

/** N as zero-padded 3-digit path elements, all but the last prefixed `x`: 1234067 → `x001/x234/067`. */
function indexElements(index: number): string {
  let rest = index;
  let out = String(rest % 1000).padStart(3, '0');
  while (rest >= 1000) {
    rest = Math.floor(rest / 1000);
    out = `x${String(rest % 1000).padStart(3, '0')}/${out}`;
  }
  return out;
}

function checkIndexAndWidth(index: number, width: number): void {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`tile index ${index} is not an integer >= 0`);
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH)
    throw new RangeError(`tile width ${width} is not in 1..${TILE_WIDTH}`);
}

const widthSuffix = (width: number) => (width === TILE_WIDTH ? '' : `.p/${width}`);

/** `tile/<L>/<N>[.p/<W>]`. */
export function tilePath(tile: TileId): string {
  if (!Number.isInteger(tile.level) || tile.level < 0 || tile.level > TILE_MAX_LEVEL)
    throw new RangeError(`tile level ${tile.level} is not in 0..${TILE_MAX_LEVEL}`);
  checkIndexAndWidth(tile.index, tile.width);
  return `tile/${tile.level}/${indexElements(tile.index)}${widthSuffix(tile.width)}`;
}

/** `tile/entries/<N>[.p/<W>]`: the entry bundle beside level-0 tile N. */
export function entryBundlePath(index: number, width: number): string {
  checkIndexAndWidth(index, width);
  return `tile/entries/${indexElements(index)}${widthSuffix(width)}`;
}

// ---------- geometry ----------

function checkLeaf(leafIndex: number, treeSize: number): void {
  if (!Number.isSafeInteger(treeSize) || treeSize < 1) throw new RangeError(`tree size ${treeSize} is not >= 1`);
  if (!Number.isSafeInteger(leafIndex) || leafIndex < 0 || leafIndex >= treeSize)
    throw new RangeError(`leaf index ${leafIndex} is not in a tree of ${treeSize}`);
}

/** The width of tile `index` at `level` in a tree of `treeSize` leaves; 0 when the tree has no such tile. */
export function tileWidthAt(level: number, index: number, treeSize: number): number {
  const hashes = Math.floor(treeSize / TILE_WIDTH ** level);
  return Math.max(0, Math.min(TILE_WIDTH, hashes - index * TILE_WIDTH));
}

/** A perfect subtree as the `count` (= 2^(h mod 8)) hashes at `offset` of one tile. */
interface Span extends TileId {
  offset: number;
  count: number;
}

/** The perfect subtree of 2^height leaves from leaf `start` (a multiple of 2^height). */
function spanOf(start: number, height: number, treeSize: number): Span {
  const level = Math.floor(height / TILE_HEIGHT);
  const first = start / TILE_WIDTH ** level;
  const index = Math.floor(first / TILE_WIDTH);
  const span = {
    level,
    index,
    width: tileWidthAt(level, index, treeSize),
    offset: first - index * TILE_WIDTH,
    count: 2 ** (height - level * TILE_HEIGHT),
  };
  if (span.offset + span.count > span.width) throw new Error(`no subtree of height ${height} at leaf ${start}`);
  return span;
}

/** D[start:end) of the RFC's split as its perfect subtrees, largest first (the binary digits of its size). */
function rangeSpans(start: number, end: number, treeSize: number): Span[] {
  const spans: Span[] = [];
  for (let at = start; at < end; ) {
    let height = 0;
    while (2 ** (height + 1) <= end - at) height++;
    spans.push(spanOf(at, height, treeSize));
    at += 2 ** height;
  }
  return spans;
}

/** PATH(m, D[n]) of RFC 6962 2.1.1 as the [start, end) of each sibling, leaf-most first. */
function pathRanges(m: number, n: number): [number, number][] {
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

const keyOf = (t: TileId) => `${t.level}/${t.index}`;

/** The distinct tiles spans lie in, by level then index. */
function tilesOf(spans: readonly Span[]): TileId[] {
  const tiles = new Map<string, TileId>();
  for (const { level, index, width } of spans) tiles.set(keyOf({ level, index, width }), { level, index, width });
  return [...tiles.values()].sort((a, b) => a.level - b.level || a.index - b.index);
}

/**
 * The tiles the audit path of leaf `leafIndex` in a tree of `treeSize` is computed from, by level then index:
 * at most two per level (the leaf's and the right edge's); none for a tree of one leaf.
 */
export function tileReadsFor(leafIndex: number, treeSize: number): TileId[] {
  checkLeaf(leafIndex, treeSize);
  return tilesOf(pathRanges(leafIndex, treeSize).flatMap(([a, b]) => rangeSpans(a, b, treeSize)));
}

// ---------- hashing from tiles ----------

/** The root of a perfect subtree from its span of tile hashes: count − 1 node hashes. */
function spanHash(span: Span, tile: Uint8Array): Uint8Array {
  let level: Uint8Array[] = [];
  for (let i = 0; i < span.count; i++) {
    const at = (span.offset + i) * TILE_HASH_SIZE;
    level.push(tile.subarray(at, at + TILE_HASH_SIZE));
  }
  while (level.length > 1) {
    const up: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) up.push(nodeHash(level[i]!, level[i + 1]!));
    level = up;
  }
  return level[0]!;
}

/** MTH of a range from its spans: the perfect subtrees folded from the right (RFC 6962 2.1). */
function rangeHash(spans: readonly Span[], tiles: Map<string, Uint8Array>): Uint8Array {
  const hashOf = (s: Span) => spanHash(s, tiles.get(keyOf(s))!);
  let hash = hashOf(spans[spans.length - 1]!);
  for (let i = spans.length - 2; i >= 0; i--) hash = nodeHash(hashOf(spans[i]!), hash);
  return hash;
}

/** A proof computed from tiles: the audit path, the leaf hash the level-0 tile holds, and the tiles read. */
export interface TileProof {
  leafIndex: number;
  treeSize: number;
  /** PATH(leafIndex, D[treeSize]), leaf-most sibling first, as rootFromInclusionProof takes it. */
  auditPath: Uint8Array[];
  /** H(0x00 || leaf) as the leaf's level-0 tile holds it. */
  leafHash: Uint8Array;
  tiles: TileId[];
}

/**
 * The audit path of leaf `leafIndex` in a tree of `treeSize` and its leaf hash, from the tiles `tileReadsFor`
 * lists and the leaf's level-0 tile, read in parallel, each once. A tile of the wrong length is a TileError `malformed`; what the reader throws
 * passes through. Nothing here is checked against a root: that is the caller's (rootFromInclusionProof).
 */
export async function proofFromTiles(leafIndex: number, treeSize: number, read: TileReader): Promise<TileProof> {
  checkLeaf(leafIndex, treeSize);
  const plan = pathRanges(leafIndex, treeSize).map(([a, b]) => rangeSpans(a, b, treeSize));
  const leafSpan = spanOf(leafIndex, 0, treeSize);
  // The leaf's own level-0 tile too: usually one the path reads anyway.
  const tiles = tilesOf([...plan.flat(), leafSpan]);
  const data = await Promise.all(
    tiles.map(async (t) => {
      const bytes = await read(t);
      if (!(bytes instanceof Uint8Array) || bytes.length !== t.width * TILE_HASH_SIZE)
        throw new TileError(
          'malformed',
          `${tilePath(t)} has ${bytes?.length ?? 0} bytes, not ${t.width * TILE_HASH_SIZE}`,
        );
      return bytes;
    }),
  );
  const byKey = new Map(tiles.map((t, i) => [keyOf(t), data[i]!]));
  return {
    leafIndex,
    treeSize,
    auditPath: plan.map((spans) => rangeHash(spans, byKey)),
    leafHash: rangeHash([leafSpan], byKey),
    tiles,
  };
}

/** Whether `leaf` (a 32-byte ballot hash) is what the proof's level-0 tile holds at its leaf index. */
export function tileHoldsLeaf(proof: TileProof, leaf: Uint8Array): boolean {
  const expected = leafHash(leaf);
  return expected.length === proof.leafHash.length && expected.every((b, i) => b === proof.leafHash[i]);
}

// ---------- over HTTP ----------

/** The default base: this origin's API, which serves `{id}/windows/{w}/tile/…` under it. */
export const DEFAULT_TILES_PATH = '/api/v1/elections/';

const TILE_FETCH_TIMEOUT_MS = 10_000;

/**
 * The URL of a window's tile under `base` (the API's `…/api/v1/elections/`, or a CDN mirroring its paths):
 * `{base}{electionId}/windows/{w}/tile/…`, or `{base}{electionId}/shards/{s}/windows/{w}/tile/…` for a shard.
 */
export function tileUrl(base: string, electionId: string, window: number, shard: number | null, tile: TileId): string {
  const root = base.endsWith('/') ? base : `${base}/`;
  const where = shard === null ? '' : `shards/${shard}/`;
  return `${root}${encodeURIComponent(electionId)}/${where}windows/${window}/${tilePath(tile)}`;
}

/**
 * A TileReader over HTTP (fetch: the API's route or a CDN; tiles are immutable, so the browser's cache may
 * answer). Anything but a 200 with a body, or no answer in 10 s, is a TileError `unreadable`.
 */
export function httpTileReader(base: string, electionId: string, window: number, shard: number | null): TileReader {
  return async (tile) => {
    const url = tileUrl(base, electionId, window, shard, tile);
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(TILE_FETCH_TIMEOUT_MS) });
    } catch (err) {
      throw new TileError('unreadable', `${url}: ${(err as Error).message}`);
    }
    if (res.status !== 200) throw new TileError('unreadable', `${url}: HTTP ${res.status}`);
    try {
      return new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      throw new TileError('unreadable', `${url}: ${(err as Error).message}`);
    }
  };
}
