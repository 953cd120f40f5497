// A sealed window's tiles in the ledger (docs/protocol.md section 14): written once, in the sealing
// transaction, and read back by the tile routes and by inclusion proofs, which read the O(log n) tiles a
// proof needs instead of rebuilding the window's tree. Entry bundles are the window's ballot hashes, read
// from `ballots`. Windows sealed before tiles existed get theirs on first use (storeWindowTiles).
import type { Sql, TransactionSql } from 'postgres';
import {
  TILE_ENTRY_SIZE,
  TILE_WIDTH,
  TileBuilder,
  inclusionProofFromTiles,
  tileReadsFor,
  tileWidthAt,
  type HashTile,
  type HashTileId,
  type SubtreeMemo,
  type TileProofCounters,
  type TreeTiles,
} from '../protocol/tiles.js';
import { nodeHash } from '../protocol/merkle.js';
import { forEachLeafChunk, rowToWindow, type SealedWindow } from './rows.js';

/** Rows per INSERT: 6 parameters each, far below PostgreSQL's 65,535. */
const TILE_INSERT_ROWS = 1000;

/** Which window a tile belongs to. */
export interface WindowKey {
  electionId: string;
  shard: number;
  index: number;
}

/** Insert a window's hash tiles (inside the caller's transaction). Rows already there are left alone. */
export async function insertWindowTiles(tx: Sql | TransactionSql, w: WindowKey, tiles: readonly HashTile[]) {
  for (let i = 0; i < tiles.length; i += TILE_INSERT_ROWS) {
    const rows = tiles.slice(i, i + TILE_INSERT_ROWS).map((t) => ({
      election_id: w.electionId,
      shard: w.shard,
      window_index: w.index,
      level: t.level,
      tile_index: t.index,
      width: t.width,
      data: t.data,
    }));
    // ON CONFLICT: a concurrent sealer of the same window index waits for ours; if ours commits it loses its
    // head check anyway (and rolls back), if ours rolls back its own rows go in.
    await tx`INSERT INTO window_tiles ${tx(rows)} ON CONFLICT DO NOTHING`;
  }
}

/**
 * Hash tiles of one window, by `level/index`; a tile whose stored width is not the one the window's size
 * gives is refused (the ledger was changed around the application).
 */
export async function readWindowTiles(
  sql: Sql,
  w: SealedWindow,
  ids: readonly HashTileId[],
): Promise<Map<string, Buffer>> {
  const levels = ids.map((t) => t.level);
  const indexes = ids.map((t) => t.index);
  const rows = await sql`
    SELECT level, tile_index, width, data FROM window_tiles
    WHERE election_id = ${w.electionId} AND shard = ${w.shard} AND window_index = ${w.index}
      AND (level, tile_index) IN (SELECT * FROM unnest(${levels}::smallint[], ${indexes}::bigint[]))`;
  const found = new Map<string, Buffer>();
  for (const r of rows) {
    const level = Number(r.level);
    const index = Number(r.tile_index);
    const width = Number(r.width);
    if (width !== tileWidthAt(level, index, w.count)) {
      throw new Error(
        `${windowName(w)}: stored tile ${level}/${index} has width ${width}, not ${tileWidthAt(level, index, w.count)}`,
      );
    }
    found.set(`${level}/${index}`, r.data as Buffer);
  }
  return found;
}

/**
 * One hash tile of a window, or null when the window's tree has no such tile. A window sealed before tiles
 * existed gets its tiles stored first, once.
 */
export async function readWindowTile(sql: Sql, w: SealedWindow, tile: HashTileId): Promise<Buffer | null> {
  if (tileWidthAt(tile.level, tile.index, w.count) !== tile.width) return null;
  const key = `${tile.level}/${tile.index}`;
  const found = (await readWindowTiles(sql, w, [tile])).get(key);
  if (found) return found;
  await ensureWindowTiles(sql, w);
  return (await readWindowTiles(sql, w, [tile])).get(key) ?? null;
}

/**
 * Entry bundle `index` of a window (C2SP: each leaf after its uint16_be length), read from the ballots, or null
 * when the window has no bundle of that index and width.
 */
export async function readEntryBundle(sql: Sql, w: SealedWindow, index: number, width: number): Promise<Buffer | null> {
  if (tileWidthAt(0, index, w.count) !== width) return null;
  const first = w.firstSeq + index * TILE_WIDTH;
  const out = Buffer.allocUnsafe(width * (2 + TILE_ENTRY_SIZE));
  let at = 0;
  await forEachLeafChunk(sql, w.electionId, w.shard, first, first + width, width, (hashes) => {
    for (let off = 0; off < hashes.length; off += TILE_ENTRY_SIZE) {
      out.writeUInt16BE(TILE_ENTRY_SIZE, at);
      hashes.copy(out, at + 2, off, off + TILE_ENTRY_SIZE);
      at += 2 + TILE_ENTRY_SIZE;
    }
  });
  return out;
}

/** Every tile of the tree of ballots [firstSeq, firstSeq + count), streamed from the ledger. */
export async function buildTilesFromLedger(
  sql: Sql,
  electionId: string,
  shard: number,
  firstSeq: number,
  count: number,
  fetchSize = 10_000,
): Promise<TreeTiles> {
  const builder = new TileBuilder();
  await forEachLeafChunk(sql, electionId, shard, firstSeq, firstSeq + count, fetchSize, (hashes) => {
    builder.pushLeaves(hashes);
  });
  return builder.finish();
}

const windowName = (w: SealedWindow) =>
  `election ${w.electionId}${w.shard === 0 ? '' : ` shard ${w.shard}`} window ${w.index} (seqs ${w.firstSeq}..${w.firstSeq + w.count - 1})`;

/** Whether a window's tiles are stored: all are inserted in one transaction, so tile 0/0 stands for them all. */
export async function hasWindowTiles(sql: Sql, w: WindowKey): Promise<boolean> {
  const [row] = await sql`
    SELECT 1 AS ok FROM window_tiles
    WHERE election_id = ${w.electionId} AND shard = ${w.shard} AND window_index = ${w.index} AND level = 0 AND tile_index = 0`;
  return row !== undefined;
}

/**
 * Build and store the tiles of a window sealed before tiles existed, refusing a window whose ballots no longer
 * give its sealed root. Concurrent calls (several API replicas) store identical rows; ON CONFLICT keeps one.
 */
export async function storeWindowTiles(sql: Sql, w: SealedWindow): Promise<void> {
  const built = await buildTilesFromLedger(sql, w.electionId, w.shard, w.firstSeq, w.count);
  const root = built.root.toString('hex');
  if (root !== w.root) {
    throw new Error(
      `${windowName(w)}: the ledger's ballots hash to ${root} but the sealed root is ${w.root}; the ballots table was changed`,
    );
  }
  await sql.begin((tx) => insertWindowTiles(tx, w, built.tiles));
}

/** Windows sealed before tiles existed (oldest first, at most `limit`): what storeMissingWindowTiles fills in. */
export async function windowsWithoutTiles(sql: Sql, limit = 100): Promise<SealedWindow[]> {
  const rows = await sql`
    SELECT w.* FROM windows w
    WHERE NOT EXISTS (SELECT 1 FROM window_tiles t WHERE t.election_id = w.election_id AND t.shard = w.shard
                        AND t.window_index = w.window_index AND t.level = 0 AND t.tile_index = 0)
    ORDER BY w.sealed_at LIMIT ${limit}`;
  return rows.map(rowToWindow);
}

/** Store the tiles of every window that has none yet (the anchor worker runs this once per pass). */
export async function storeMissingWindowTiles(sql: Sql, limit = 100): Promise<number> {
  const missing = await windowsWithoutTiles(sql, limit);
  for (const w of missing) await storeWindowTiles(sql, w);
  return missing.length;
}

/** Single-flight per process: concurrent proofs of one legacy window store its tiles once. */
const storing = new Map<string, Promise<void>>();

function ensureWindowTiles(sql: Sql, w: SealedWindow): Promise<void> {
  const key = `${w.electionId}/${w.shard}/${w.index}/${w.root}`;
  let p = storing.get(key);
  if (!p) {
    p = storeWindowTiles(sql, w).finally(() => storing.delete(key));
    storing.set(key, p);
  }
  return p;
}

/**
 * The tiles every proof of a window reads — those above level 0 and each level's rightmost (partial) tile —
 * and the subtree hashes computed inside them, kept per process: a proof then reads one tile from the ledger
 * (its leaf's, 8 KiB) and hashes inside that tile only. Keyed by the window's root, which names exactly one
 * tree, so an entry is never stale and replicas need not agree on anything. Bounded in bytes (LRU of windows).
 */
export class SharedTileCache {
  /** Per window root: per tile `level/index`, its hashes and the complete subtrees above them. */
  private readonly windows = new Map<string, { tiles: Map<string, Buffer[][]>; bytes: number }>();
  private bytes = 0;

  constructor(readonly maxBytes = 32 * 1024 * 1024) {}

  /** A tile every proof of the window may read (so worth keeping). */
  static isShared(tile: HashTileId): boolean {
    return tile.level > 0 || tile.width < TILE_WIDTH;
  }

  tile(root: string, tile: HashTileId): Buffer | undefined {
    return this.windows.get(root)?.tiles.get(`${tile.level}/${tile.index}`)?.[0]?.[0];
  }

  /**
   * Keep a shared tile with every complete subtree inside it (at most 255 node hashes, once): [0] = [the tile's
   * bytes], [j] = the roots of its aligned runs of 2^j hashes.
   */
  keepTile(root: string, tile: HashTileId, data: Buffer): void {
    let e = this.windows.get(root);
    if (e) {
      this.windows.delete(root);
      this.windows.set(root, e);
    } else {
      e = { tiles: new Map(), bytes: 0 };
      this.windows.set(root, e);
    }
    const key = `${tile.level}/${tile.index}`;
    if (e.tiles.has(key)) return;
    const levels: Buffer[][] = [[Buffer.from(data)]];
    let below = Array.from({ length: data.length / 32 }, (_, i) => data.subarray(i * 32, i * 32 + 32));
    while (below.length > 1) {
      const above: Buffer[] = [];
      for (let i = 0; i + 1 < below.length; i += 2) above.push(nodeHash(below[i]!, below[i + 1]!));
      levels.push(above);
      below = above;
    }
    e.tiles.set(key, levels);
    const bytes = data.length * 2;
    e.bytes += bytes;
    this.bytes += bytes;
    for (const [r, old] of this.windows) {
      if (this.bytes <= this.maxBytes) break;
      this.windows.delete(r);
      this.bytes -= old.bytes;
    }
  }

  /** The subtree hashes of the window's kept tiles, for inclusionProofFromTiles. */
  memo(root: string): SubtreeMemo {
    return {
      get: (tile, offset, count) => {
        const levels = this.windows.get(root)?.tiles.get(`${tile.level}/${tile.index}`);
        if (!levels) return undefined;
        return levels[Math.log2(count)]?.[offset / count];
      },
      set: () => {},
    };
  }

  get cachedBytes(): number {
    return this.bytes;
  }
}

/** The process-wide cache behind windowInclusionPath. */
export const sharedTileCache = new SharedTileCache();

/**
 * PATH(leafIndex, D[w.count]) of RFC 6962 from the window's stored tiles: one query for the O(log n) tiles the
 * proof reads that are not in the shared cache (usually just the leaf's level-0 tile), then at most ~255
 * hashes per tile not memoized. A window sealed before tiles existed gets its tiles stored first, once. Hex,
 * leaf-most sibling first.
 */
export async function windowInclusionPath(
  sql: Sql,
  w: SealedWindow,
  leafIndex: number,
  counters?: TileProofCounters,
  cache: SharedTileCache = sharedTileCache,
): Promise<string[]> {
  const ids = tileReadsFor(leafIndex, w.count);
  const tiles = new Map<string, Buffer>();
  const wanted: HashTileId[] = [];
  for (const t of ids) {
    const hit = cache.tile(w.root, t);
    if (hit) tiles.set(`${t.level}/${t.index}`, hit);
    else wanted.push(t);
  }
  if (wanted.length > 0) {
    let read = await readWindowTiles(sql, w, wanted);
    if (read.size === 0) {
      await ensureWindowTiles(sql, w);
      read = await readWindowTiles(sql, w, wanted);
    }
    for (const t of wanted) {
      const data = read.get(`${t.level}/${t.index}`);
      if (!data) continue;
      tiles.set(`${t.level}/${t.index}`, data);
      if (SharedTileCache.isShared(t)) cache.keepTile(w.root, t, data);
    }
  }
  const path = await inclusionProofFromTiles(
    leafIndex,
    w.count,
    async (level, index) => {
      const data = tiles.get(`${level}/${index}`);
      if (!data) throw new Error(`${windowName(w)}: tile ${level}/${index} is missing from the ledger`);
      return data;
    },
    counters,
    cache.memo(w.root),
  );
  return path.map((h) => h.toString('hex'));
}
