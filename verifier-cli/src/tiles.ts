// A window's RFC 6962 tree as C2SP tlog-tiles (https://c2sp.org/tlog-tiles), the verifier's own code
// (golang.org/x/mod/sumdb/tlog tile.go was read for the algorithms; nothing is shared with the server).
//   - Paths: `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`, N in zero-padded 3-digit elements, all
//     but the last prefixed `x`; parsed strictly (a path is accepted only if it is the one this code writes).
//   - Tiles of height 8: the level-l tile n holds the MTH of D[(256n + i)·256^l : (256n + i + 1)·256^l] for
//     i < its width; level 0 holds the leaf hashes; only full tiles are hashed into the level above; the
//     rightmost tile of a level is partial (width floor(size / 256^l) mod 256) and never empty. Entry bundles
//     hold the leaves (ballot hashes), each prefixed with its length as a big-endian uint16.
//   - TreeTiles: the tiles of a tree built from its leaves, level by level.
//   - TiledTree: hashes, the tree head and RFC 6962 inclusion proofs from tile reads only. Every hash of the
//     tree that is a complete aligned subtree of 2^k leaves, k = 8l + r, is the root of 2^r consecutive
//     entries of a level-l tile, so a proof reads at most the leaf's tile and the rightmost (partial) tile of
//     each level: at most 2 tiles per level, 3 levels for a million leaves.
//   - diffWindowAgainstTiles: the leaves of a window that differ from tiles saved earlier, by descending from
//     the differing entries of the saved top tiles (authenticated by the root they give) to level 0, whose
//     leaf hashes are compared with the window's; entry bundles only add the ballot hashes they held.
// Indices are JavaScript numbers (safe up to 2^53): no 32-bit bitwise operators.
import { bytesEqual, sha256Into } from './hex.js';
import { EMPTY_TREE_HEAD, LEAF_HASH_PREFIX, NODE_HASH_PREFIX, type InclusionProof } from './merkle.js';

/** Tile height: a tile covers 8 levels of the tree. */
export const TILE_HEIGHT = 8;
/** Hashes (or entries) in a full tile: 2^TILE_HEIGHT. */
export const FULL_TILE_WIDTH = 256;
/** The highest level a tile path may name. */
export const MAX_TILE_LEVEL = 63;
const HASH_BYTES = 32;
/** Bytes of an entry's length prefix in an entry bundle (big-endian uint16). */
const ENTRY_LENGTH_BYTES = 2;

/** A tile's level: 0.. for hash tiles, `entries` for an entry bundle. */
export type TileLevel = number | 'entries';

/** One tile or entry bundle: level, index within the level, width (1..256; 256 is a full tile). */
export interface Tile {
  level: TileLevel;
  index: number;
  width: number;
}

/**
 * Reads one tile (or entry bundle), with exactly the width the tree of the caller's size has: from a CDN, a
 * server, a directory, memory. `undefined`: not there. What it returns is checked, never trusted.
 */
export type TileReader = (
  level: TileLevel,
  index: number,
  width: number,
) => Uint8Array | undefined | Promise<Uint8Array | undefined>;

/** A tile that is missing, of the wrong length, or that disagrees with another tile or with the root. */
export class TileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TileError';
  }
}

// --- paths ---

/** N as 3-digit path elements, all but the last prefixed `x`: 1234067 → `x001/x234/067`. */
function indexPath(index: number): string {
  let rest = index;
  let out = String(rest % 1000).padStart(3, '0');
  while (rest >= 1000) {
    rest = Math.floor(rest / 1000);
    out = `x${String(rest % 1000).padStart(3, '0')}/${out}`;
  }
  return out;
}

function isTileLevel(level: unknown): level is TileLevel {
  return (
    level === 'entries' || (Number.isInteger(level) && (level as number) >= 0 && (level as number) <= MAX_TILE_LEVEL)
  );
}

/** `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`. Throws RangeError for coordinates no path has. */
export function formatTilePath(tile: Tile): string {
  const { level, index, width } = tile;
  if (!isTileLevel(level)) throw new RangeError(`tile level must be 0..${MAX_TILE_LEVEL} or "entries"`);
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError('tile index must be a non-negative integer');
  if (!Number.isInteger(width) || width < 1 || width > FULL_TILE_WIDTH)
    throw new RangeError(`tile width must be 1..${FULL_TILE_WIDTH}`);
  return `tile/${level}/${indexPath(index)}${width === FULL_TILE_WIDTH ? '' : `.p/${width}`}`;
}

const MAX_TILE_PATH_LENGTH = 64;
const TILE_PATH_RE = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*)([0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;

/**
 * The tile a path names. Strict: the path must be exactly the one formatTilePath writes (no leading zeroes in
 * L or W, no `x000/` in front, `.p/256` refused, W 1..255, L 0..63, N within 2^53); throws TileError otherwise.
 */
export function parseTilePath(path: string): Tile {
  // The longest path there is: tile/entries/x009/x007/x199/x254/x740/991.p/255 (48 characters).
  const m = path.length > MAX_TILE_PATH_LENGTH ? null : TILE_PATH_RE.exec(path);
  if (m === null) throw new TileError(`malformed tile path ${JSON.stringify(path.slice(0, 80))}`);
  const level: TileLevel = m[1] === 'entries' ? 'entries' : Number(m[1]);
  let index = 0n;
  for (const element of [...m[2]!.split('/').filter((e) => e !== ''), m[3]!])
    index = index * 1000n + BigInt(element.replace(/^x/, ''));
  const width = m[4] === undefined ? FULL_TILE_WIDTH : Number(m[4]);
  if (
    !isTileLevel(level) ||
    (m[4] !== undefined && width >= FULL_TILE_WIDTH) ||
    index > BigInt(Number.MAX_SAFE_INTEGER)
  )
    throw new TileError(`malformed tile path ${JSON.stringify(path)}`);
  const tile = { level, index: Number(index), width };
  if (formatTilePath(tile) !== path) throw new TileError(`malformed tile path ${JSON.stringify(path)}`);
  return tile;
}

// --- which tiles a tree has ---

/** 256^level. */
function tileSpan(level: number): number {
  return FULL_TILE_WIDTH ** level;
}

/** The number of hashes at tile level `level` of a tree of `size` leaves: floor(size / 256^level). */
function hashesAtLevel(size: number, level: number): number {
  return Math.floor(size / tileSpan(level));
}

/** Tile levels a tree of `size` leaves has (0 for the empty tree). */
export function tileLevelCount(size: number): number {
  let levels = 0;
  while (hashesAtLevel(size, levels) > 0) levels++;
  return levels;
}

/** The width of tile `index` of `level` (entries: as level 0) in a tree of `size` leaves; 0 when it has none. */
export function tileWidth(size: number, level: TileLevel, index: number): number {
  const count = hashesAtLevel(size, level === 'entries' ? 0 : level);
  return Math.max(0, Math.min(FULL_TILE_WIDTH, count - index * FULL_TILE_WIDTH));
}

/** Every hash tile of a tree of `size` leaves, level by level, full ones then the partial one. */
export function tilesOfTree(size: number): Tile[] {
  const out: Tile[] = [];
  for (let level = 0; level < tileLevelCount(size); level++) {
    const count = hashesAtLevel(size, level);
    for (let index = 0; index * FULL_TILE_WIDTH < count; index++)
      out.push({ level, index, width: tileWidth(size, level, index) });
  }
  return out;
}

/** Every entry bundle of a tree of `size` leaves. */
export function entryBundlesOfTree(size: number): Tile[] {
  const out: Tile[] = [];
  for (let index = 0; index * FULL_TILE_WIDTH < size; index++)
    out.push({ level: 'entries', index, width: tileWidth(size, 'entries', index) });
  return out;
}

// --- hashing ---

/** Leaf hashes H(0x00 || leaf) of 32-byte leaves packed back to back, packed. */
function leafHashes(leaves: Uint8Array): Buffer {
  const n = leaves.byteLength / HASH_BYTES;
  const out = Buffer.alloc(leaves.byteLength);
  const scratch = Buffer.alloc(1 + HASH_BYTES);
  scratch[0] = LEAF_HASH_PREFIX;
  for (let i = 0; i < n; i++) {
    scratch.set(leaves.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES), 1);
    sha256Into(scratch, out, i * HASH_BYTES);
  }
  return out;
}

/**
 * The levels of complete subtrees above `width` packed hashes: [0] the hashes, [h] node j = the root of
 * hashes [j·2^h, (j+1)·2^h), only while a pair is complete (an unpaired last node is not carried up: tiles
 * hold complete subtrees only). For a full tile, [8] is the tile's hash.
 */
function subtreeLevels(hashes: Uint8Array, width: number): Buffer[] {
  const levels = [Buffer.from(hashes.buffer, hashes.byteOffset, width * HASH_BYTES)];
  const scratch = Buffer.alloc(1 + 2 * HASH_BYTES);
  scratch[0] = NODE_HASH_PREFIX;
  for (let below = levels[0]!; below.byteLength >= 2 * HASH_BYTES; ) {
    const pairs = Math.floor(below.byteLength / (2 * HASH_BYTES));
    const next = Buffer.alloc(pairs * HASH_BYTES);
    for (let j = 0; j < pairs; j++) {
      below.copy(scratch, 1, 2 * j * HASH_BYTES, (2 * j + 2) * HASH_BYTES);
      sha256Into(scratch, next, j * HASH_BYTES);
    }
    levels.push(next);
    below = next;
  }
  return levels;
}

/** The hash of a full tile: the root of its 256 hashes, a complete subtree of height 8. */
function fullTileHash(tile: Uint8Array): Buffer {
  return subtreeLevels(tile, FULL_TILE_WIDTH)[TILE_HEIGHT]!;
}

function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const scratch = Buffer.alloc(1 + 2 * HASH_BYTES);
  scratch[0] = NODE_HASH_PREFIX;
  scratch.set(left, 1);
  scratch.set(right, 1 + HASH_BYTES);
  const out = Buffer.alloc(HASH_BYTES);
  sha256Into(scratch, out, 0);
  return out;
}

/** Largest power of two ≤ n (n ≥ 1), with its exponent. */
function largestPowerOfTwoAtMost(n: number): { power: number; height: number } {
  let power = 1;
  let height = 0;
  while (power * 2 <= n) {
    power *= 2;
    height++;
  }
  return { power, height };
}

// --- entry bundles ---

/** An entry bundle: each entry as its big-endian uint16 length, then its bytes. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  const out = Buffer.alloc(entries.reduce((n, e) => n + ENTRY_LENGTH_BYTES + e.byteLength, 0));
  let at = 0;
  for (const entry of entries) {
    if (entry.byteLength > 0xffff) throw new RangeError('an entry of a bundle is at most 65,535 bytes');
    at = out.writeUInt16BE(entry.byteLength, at);
    out.set(entry, at);
    at += entry.byteLength;
  }
  return out;
}

/** The entries of a bundle of `width` entries; throws TileError when it holds another number, or is cut. */
export function parseEntryBundle(bundle: Uint8Array, width: number): Uint8Array[] {
  const bytes = Buffer.from(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.byteLength) {
    if (at + ENTRY_LENGTH_BYTES > bytes.byteLength) throw new TileError('entry bundle ends inside a length prefix');
    const length = bytes.readUInt16BE(at);
    at += ENTRY_LENGTH_BYTES;
    if (at + length > bytes.byteLength) throw new TileError(`entry bundle ends inside entry ${out.length}`);
    out.push(bytes.subarray(at, at + length));
    at += length;
  }
  if (out.length !== width) throw new TileError(`entry bundle holds ${out.length} entries, not ${width}`);
  return out;
}

// --- the tiles of a tree built from its leaves ---

/**
 * The tiles of a tree built from its leaves (32-byte ballot hashes packed back to back, in seq order; kept by
 * reference for the entry bundles, so not to be changed afterwards).
 */
export class TreeTiles {
  private constructor(
    readonly size: number,
    private readonly leaves: Uint8Array,
    /** Per tile level, its hashes packed: floor(size / 256^l) of them. */
    private readonly levels: readonly Buffer[],
  ) {}

  /** Level by level: the leaf hashes, then per level the hash of each full tile of the level below. */
  static fromLeaves(packedLeaves: Uint8Array): TreeTiles {
    if (packedLeaves.byteLength % HASH_BYTES !== 0)
      throw new RangeError('packed leaves must be a whole number of 32-byte leaves');
    const size = packedLeaves.byteLength / HASH_BYTES;
    const levels: Buffer[] = [];
    if (size > 0) levels.push(leafHashes(packedLeaves));
    for (let below = levels[0]; below !== undefined && below.byteLength >= FULL_TILE_WIDTH * HASH_BYTES; ) {
      const full = Math.floor(below.byteLength / (FULL_TILE_WIDTH * HASH_BYTES));
      const next = Buffer.alloc(full * HASH_BYTES);
      for (let t = 0; t < full; t++) {
        const tile = below.subarray(t * FULL_TILE_WIDTH * HASH_BYTES, (t + 1) * FULL_TILE_WIDTH * HASH_BYTES);
        next.set(fullTileHash(tile), t * HASH_BYTES);
      }
      levels.push(next);
      below = next;
    }
    return new TreeTiles(size, packedLeaves, levels);
  }

  /** The tile's bytes as served (hash tiles: width × 32; bundles: width × 34), or undefined if none. */
  data(level: TileLevel, index: number): Uint8Array | undefined {
    if (!isTileLevel(level) || !Number.isSafeInteger(index)) return undefined;
    const width = tileWidth(this.size, level, index);
    if (width === 0) return undefined;
    const first = index * FULL_TILE_WIDTH;
    if (level === 'entries') {
      const entries = [];
      for (let i = first; i < first + width; i++)
        entries.push(this.leaves.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES));
      return encodeEntryBundle(entries);
    }
    return this.levels[level]!.subarray(first * HASH_BYTES, (first + width) * HASH_BYTES);
  }

  /** A TileReader over these tiles (a tile asked for with another width than this tree's is not there). */
  readonly read = (level: TileLevel, index: number, width: number): Uint8Array | undefined =>
    isTileLevel(level) && Number.isSafeInteger(index) && width === tileWidth(this.size, level, index)
      ? this.data(level, index)
      : undefined;

  /** Every hash tile, then every entry bundle, with its path. */
  *tiles(): Iterable<{ tile: Tile; path: string; data: Uint8Array }> {
    for (const tile of [...tilesOfTree(this.size), ...entryBundlesOfTree(this.size)])
      yield { tile, path: formatTilePath(tile), data: this.data(tile.level, tile.index)! };
  }
}

// --- hashes and proofs from tile reads ---

/**
 * A tree of `size` leaves read through its tiles. Tiles read are kept (with the complete subtrees above their
 * hashes, computed once), so many proofs of one tree read each tile once. A tile of the wrong length, or
 * missing, throws TileError. Tiles are not authenticated here: a proof from bad tiles fails against the root
 * on chain; diffWindowAgainstTiles checks the tiles it uses against the root they must give.
 */
export class TiledTree {
  /** Reads so far: each hash tile once, each entry bundle every time it is asked for. */
  tilesRead = 0;
  private readonly hashTiles = new Map<string, Buffer[]>();

  constructor(
    readonly size: number,
    private readonly readTile: TileReader,
  ) {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError('tree size must be a non-negative integer');
  }

  private async read(level: TileLevel, index: number): Promise<{ data: Uint8Array | undefined; width: number }> {
    const width = tileWidth(this.size, level, index);
    if (width === 0) throw new RangeError(`a tree of ${this.size} leaves has no tile ${level}/${index}`);
    this.tilesRead++;
    const data = await this.readTile(level, index, width);
    return { data, width };
  }

  /** Tile `index` of hash level `level`, then the complete subtrees above its hashes. */
  private async tileLevels(level: number, index: number, upTo: number): Promise<Buffer[]> {
    const key = `${level}/${index}`;
    let levels = this.hashTiles.get(key);
    if (levels === undefined) {
      const { data, width } = await this.read(level, index);
      const path = formatTilePath({ level, index, width });
      if (data === undefined) throw new TileError(`${path} is missing`);
      if (!(data instanceof Uint8Array) || data.byteLength !== width * HASH_BYTES)
        throw new TileError(`${path} is not ${width * HASH_BYTES} bytes long`);
      levels = [Buffer.from(data)]; // a copy: the reader's buffer is not ours to keep
      this.hashTiles.set(key, levels);
    }
    if (upTo > 0 && levels.length === 1)
      levels.push(...subtreeLevels(levels[0]!, levels[0]!.byteLength / HASH_BYTES).slice(1));
    return levels;
  }

  /** The packed hashes of tile `index` at hash level `level` (width × 32 bytes, as read). */
  async tile(level: number, index: number): Promise<Buffer> {
    return (await this.tileLevels(level, index, 0))[0]!;
  }

  /** The entries of bundle `index`, or undefined when the reader has none. */
  async entries(index: number): Promise<Uint8Array[] | undefined> {
    const { data, width } = await this.read('entries', index);
    if (data === undefined) return undefined;
    if (!(data instanceof Uint8Array))
      throw new TileError(`${formatTilePath({ level: 'entries', index, width })} is not bytes`);
    return parseEntryBundle(data, width);
  }

  /** The root of the complete subtree of 2^height leaves starting at leaf index·2^height. */
  async subtreeHash(height: number, index: number): Promise<Uint8Array> {
    const level = Math.floor(height / TILE_HEIGHT);
    const within = height - level * TILE_HEIGHT; // the subtree is 2^within consecutive hashes of a level-l tile
    const perTile = 2 ** (TILE_HEIGHT - within);
    const tileIndex = Math.floor(index / perTile);
    const node = index - tileIndex * perTile;
    const levels = await this.tileLevels(level, tileIndex, within);
    const hashes = levels[within];
    if (hashes === undefined || (node + 1) * HASH_BYTES > hashes.byteLength)
      throw new RangeError(`no complete subtree of height ${height} at ${index} in a tree of ${this.size} leaves`);
    return hashes.subarray(node * HASH_BYTES, (node + 1) * HASH_BYTES);
  }

  /**
   * MTH(D[lo:hi]) for a range of the RFC 6962 split (lo a multiple of a power of two ≥ hi − lo): the complete
   * subtrees of the binary decomposition of hi − lo, largest first, folded from the right.
   */
  async rangeHash(lo: number, hi: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || lo < 0 || hi <= lo || hi > this.size)
      throw new RangeError(`no range ${lo}..${hi} in a tree of ${this.size} leaves`);
    const pieces: Uint8Array[] = [];
    for (let at = lo; at < hi; ) {
      const { power, height } = largestPowerOfTwoAtMost(hi - at);
      if (at % power !== 0) throw new RangeError(`range ${lo}..${hi} is not one of an RFC 6962 tree`);
      pieces.push(await this.subtreeHash(height, at / power));
      at += power;
    }
    let hash = pieces.pop()!;
    while (pieces.length > 0) hash = nodeHash(pieces.pop()!, hash);
    return hash;
  }

  /** The tree head MTH(D[0:size]) (MTH({}) = H("") for the empty tree): reads the rightmost tile of each level. */
  async treeHead(): Promise<Uint8Array> {
    return this.size === 0 ? EMPTY_TREE_HEAD.slice() : this.rangeHash(0, this.size);
  }

  /** The leaf hash at `leafIndex` (level 0). */
  async leafHash(leafIndex: number): Promise<Uint8Array> {
    return this.subtreeHash(0, leafIndex);
  }

  /** RFC 6962 §2.1.1 PATH(m, D[size]): siblings from the leaf upwards, each read from tiles. */
  async inclusionProof(leafIndex: number): Promise<InclusionProof> {
    if (!Number.isSafeInteger(leafIndex) || leafIndex < 0 || leafIndex >= this.size)
      throw new RangeError(`leaf index ${leafIndex} is not in a tree of ${this.size} leaves`);
    // Top down: split D[lo:hi] at k, the largest power of two < hi − lo; the side without the leaf is a sibling.
    const siblings: Uint8Array[] = [];
    let lo = 0;
    let hi = this.size;
    while (hi - lo > 1) {
      const { power } = largestPowerOfTwoAtMost(hi - lo - 1);
      if (leafIndex < lo + power) {
        siblings.push(await this.rangeHash(lo + power, hi));
        hi = lo + power;
      } else {
        siblings.push(await this.rangeHash(lo, lo + power));
        lo += power;
      }
    }
    return { leafIndex, treeSize: this.size, auditPath: siblings.reverse() };
  }
}

/** RFC 6962 inclusion proof of leaf `leafIndex` in a tree of `size` leaves, from tile reads only. */
export async function inclusionProofFromTiles(
  size: number,
  leafIndex: number,
  readTile: TileReader,
): Promise<InclusionProof> {
  return new TiledTree(size, readTile).inclusionProof(leafIndex);
}

// --- an audit against tiles saved earlier ---

/** Tiles of a window saved earlier: its size (the chain's count), a reader, and the root they must give. */
export interface SavedTiles {
  size: number;
  readTile: TileReader;
  /** The root on chain: when given, saved tiles that give another root throw TileError. */
  root?: Uint8Array;
}

/** A leaf of the window that is not what the saved tiles hold. */
export interface LeafChange {
  /** Index in the window (seq − firstSeq). */
  index: number;
  /** The leaf hash H(0x00 || ballot hash) the saved level-0 tile holds. */
  savedLeafHash: Uint8Array;
  /** The ballot hash the saved entry bundle holds (checked against savedLeafHash); undefined unless `consistent`. */
  savedEntry: Uint8Array | undefined;
  /** The saved entry bundle of the leaf: gave savedEntry, not saved, or inconsistent with the hash tiles. */
  bundle: 'consistent' | 'missing' | 'inconsistent';
  /** The ballot hash the window has now. */
  currentEntry: Uint8Array;
}

/** A saved entry bundle that disagrees with the saved (authenticated) hash tiles. */
export interface InconsistentBundle {
  bundle: Tile;
  /** Changed leaves (indexes in the window) it gives no ballot hash of that hashes to the level-0 tile's. */
  leaves: number[];
  /** Set when the bundle could not be read at all (cut, another count of entries): why. */
  malformed?: string;
}

export interface WindowDiff {
  size: number;
  /** The root the saved tiles give. */
  savedRoot: Uint8Array;
  /** The root of the current leaves. */
  currentRoot: Uint8Array;
  /** Ascending by index. */
  changes: LeafChange[];
  /** Saved entry bundles, among those of changed leaves, that disagree with the saved hash tiles; by index. */
  inconsistentBundles: InconsistentBundle[];
  /** Saved tiles and bundles read. */
  tilesRead: number;
}

/**
 * The leaves of a window (`currentLeaves`: 32-byte ballot hashes packed, in seq order, as the ledger serves
 * them now) whose hashes differ from tiles saved earlier. The saved hash tiles are checked first: the rightmost
 * tile of each level gives their root (compared with `saved.root` when given), which authenticates every entry
 * of those tiles; each full tile then read is checked against its entry in the tile above. Only the tiles under
 * a differing entry are read: about (changes + 1) × levels tiles. The changes are the level-0 leaf hashes that
 * differ from the window's, so the hash tiles alone name them; the entry bundle of each changed leaf's tile is
 * read only for the ballot hash it held, used when it hashes to the saved leaf hash. A bundle that does not (a
 * server serving bundles from a changed ledger beside hash tiles stored at sealing) is listed in
 * inconsistentBundles and the change keeps only the saved leaf hash.
 */
export async function diffWindowAgainstTiles(saved: SavedTiles, currentLeaves: Uint8Array): Promise<WindowDiff> {
  const current = TreeTiles.fromLeaves(currentLeaves);
  if (current.size !== saved.size)
    throw new RangeError(`the window has ${current.size} leaves now, the saved tiles ${saved.size}`);
  const size = saved.size;
  const tree = new TiledTree(size, saved.readTile);
  const currentTree = new TiledTree(size, current.read);
  const savedRoot = await tree.treeHead();
  const currentRoot = await currentTree.treeHead();
  if (saved.root !== undefined && !bytesEqual(savedRoot, saved.root))
    throw new TileError(`the saved tiles give the root ${Buffer.from(savedRoot).toString('hex')}, not the window's`);

  // Entries known to differ, as (level, global index at that level); start from the rightmost tile of each level.
  const changedLeaves: number[] = [];
  let differing: { level: number; index: number }[] = [];
  const compareTile = async (level: number, index: number): Promise<void> => {
    const before = await tree.tile(level, index);
    const now = current.data(level, index)!;
    for (let i = 0; i * HASH_BYTES < before.byteLength; i++) {
      const a = before.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES);
      if (!bytesEqual(a, now.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES)))
        differing.push({ level, index: index * FULL_TILE_WIDTH + i });
    }
  };
  for (let level = tileLevelCount(size) - 1; level >= 0; level--) {
    const index = Math.floor(hashesAtLevel(size, level) / FULL_TILE_WIDTH);
    if (tileWidth(size, level, index) > 0) await compareTile(level, index);
  }
  // Down from each differing entry above level 0 to the full tile it is the hash of.
  while (differing.length > 0) {
    const next = differing;
    differing = [];
    for (const { level, index } of next) {
      if (level === 0) {
        changedLeaves.push(index);
        continue;
      }
      const parentTile = await tree.tile(level, Math.floor(index / FULL_TILE_WIDTH));
      const at = (index % FULL_TILE_WIDTH) * HASH_BYTES;
      const child = await tree.tile(level - 1, index);
      if (!bytesEqual(fullTileHash(child), parentTile.subarray(at, at + HASH_BYTES)))
        throw new TileError(
          `saved ${formatTilePath({ level: level - 1, index, width: FULL_TILE_WIDTH })} is not the tile ` +
            `${formatTilePath({ level, index: Math.floor(index / FULL_TILE_WIDTH), width: tileWidth(size, level, Math.floor(index / FULL_TILE_WIDTH)) })} names`,
        );
      await compareTile(level - 1, index);
    }
  }

  changedLeaves.sort((a, b) => a - b);
  const changes: LeafChange[] = [];
  // Per bundle of a changed leaf: its entries, undefined when not saved, or why it could not be read.
  const bundles = new Map<number, Uint8Array[] | undefined | TileError>();
  const inconsistent = new Map<number, InconsistentBundle>();
  const inconsistentBundle = (bundleIndex: number): InconsistentBundle => {
    let found = inconsistent.get(bundleIndex);
    if (found === undefined) {
      const bundle = { level: 'entries' as const, index: bundleIndex, width: tileWidth(size, 'entries', bundleIndex) };
      found = { bundle, leaves: [] };
      inconsistent.set(bundleIndex, found);
    }
    return found;
  };
  for (const index of changedLeaves) {
    const savedLeafHash = await tree.leafHash(index);
    const bundleIndex = Math.floor(index / FULL_TILE_WIDTH);
    if (!bundles.has(bundleIndex)) bundles.set(bundleIndex, await tree.entries(bundleIndex).catch(tileErrorOnly));
    const entries = bundles.get(bundleIndex);
    let savedEntry: Uint8Array | undefined;
    let bundle: LeafChange['bundle'] = 'missing';
    if (entries instanceof TileError) {
      bundle = 'inconsistent';
      const found = inconsistentBundle(bundleIndex);
      found.malformed = entries.message;
      found.leaves.push(index);
    } else if (entries !== undefined) {
      const entry = entries[index % FULL_TILE_WIDTH]!;
      // The hash tiles are authenticated by the root, the bundle only by them: an entry that does not hash to
      // its leaf hash is not the ballot hash the window held, and the leaf hash alone says what was there.
      if (entry.byteLength === HASH_BYTES && bytesEqual(leafHashes(entry), savedLeafHash)) {
        savedEntry = Buffer.from(entry);
        bundle = 'consistent';
      } else {
        bundle = 'inconsistent';
        inconsistentBundle(bundleIndex).leaves.push(index);
      }
    }
    changes.push({
      index,
      savedLeafHash: Buffer.from(savedLeafHash),
      savedEntry,
      bundle,
      currentEntry: currentLeaves.slice(index * HASH_BYTES, (index + 1) * HASH_BYTES),
    });
  }
  // Ascending by bundle: the changed leaves are.
  return {
    size,
    savedRoot,
    currentRoot,
    changes,
    inconsistentBundles: [...inconsistent.values()],
    tilesRead: tree.tilesRead,
  };
}

/** A bundle that cannot be parsed is inconsistent, not a failure of the diff; any other error is one. */
function tileErrorOnly(err: unknown): TileError {
  if (err instanceof TileError) return err;
  throw err;
}
