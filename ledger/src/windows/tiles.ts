// A sealed window's tiles in the ledger (docs/protocol.md section 14): written once, in the sealing
// transaction, and read back by the tile routes and by inclusion proofs, which read the O(log n) tiles a
// proof needs instead of rebuilding the window's tree. Entry bundles are the window's ballot hashes, read
// from `ballots`. Windows sealed before tiles existed get theirs on first use (storeWindowTiles).
import type { KeyObject } from 'node:crypto';
import type { Sql, TransactionSql } from 'postgres';
import { receiptFromRow } from '../ingest/receipts.js';
import type { Receipt } from '../protocol/protocol.js';
import {
  TILE_ENTRY_SIZE,
  TILE_WIDTH,
  TileBuilder,
  inclusionProofFromTiles,
  tileReadsFor,
  tileWidthAt,
  type HashTile,
  type HashTileId,
  type TileProofCounters,
  type TreeTiles,
} from '../protocol/tiles.js';
import { forEachLeafChunk, rowToWindow, type SealedWindow } from './rows.js';

/** Rows per INSERT: 8 parameters each, far below PostgreSQL's 65,535. */
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
      nodes: t.nodes,
    }));
    // ON CONFLICT: a concurrent sealer of the same window index waits for ours; if ours commits it loses its
    // head check anyway (and rolls back), if ours rolls back its own rows go in.
    await tx`INSERT INTO window_tiles ${tx(rows)} ON CONFLICT DO NOTHING`;
  }
}

/** A stored tile: its bytes, and the complete subtrees inside it (tileNodes). */
export interface StoredTile {
  data: Buffer;
  nodes: Buffer;
}

/**
 * Hash tiles of one window, by `level/index` (with their nodes unless `withNodes` is false); a tile whose
 * stored width is not the one the window's size gives is refused (the ledger was changed around the application).
 */
export async function readWindowTiles(
  sql: Sql,
  w: SealedWindow,
  ids: readonly HashTileId[],
  withNodes = true,
): Promise<Map<string, StoredTile>> {
  // One primary-key lookup per tile (UNION ALL): the planner then uses the whole key whatever the table's
  // statistics (with `= ANY` or a join on unnest, a never-analysed table had every tile of the window scanned).
  const nodes = withNodes ? sql`nodes` : sql`NULL::bytea AS nodes`;
  const lookups = [...new Map(ids.map((t) => [`${t.level}/${t.index}`, t])).values()].map(
    (t) => sql`SELECT level, tile_index, width, data, ${nodes} FROM window_tiles
               WHERE election_id = ${w.electionId} AND shard = ${w.shard} AND window_index = ${w.index}
                 AND level = ${t.level} AND tile_index = ${t.index}`,
  );
  if (lookups.length === 0) return new Map();
  const rows = await lookups.reduce((all, one) => sql`${all} UNION ALL ${one}`);
  const found = new Map<string, StoredTile>();
  for (const r of rows) {
    const level = Number(r.level);
    const index = Number(r.tile_index);
    const key = `${level}/${index}`;
    const width = Number(r.width);
    if (width !== tileWidthAt(level, index, w.count)) {
      throw new Error(
        `${windowName(w)}: stored tile ${key} has width ${width}, not ${tileWidthAt(level, index, w.count)}`,
      );
    }
    found.set(key, { data: r.data as Buffer, nodes: (r.nodes as Buffer | null) ?? Buffer.alloc(0) });
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
  const found = (await readWindowTiles(sql, w, [tile], false)).get(key);
  if (found) return found.data;
  await ensureWindowTiles(sql, w);
  return (await readWindowTiles(sql, w, [tile], false)).get(key)?.data ?? null;
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
 * with their nodes, kept per process: a proof then reads one tile from the ledger (its leaf's) and hashes
 * nothing but the few folds of the tree's right edge. Keyed by the window's root, which names exactly one tree,
 * so an entry is never stale and replicas need not agree on anything. Bounded in bytes (LRU of windows).
 */
export class SharedTileCache {
  private readonly windows = new Map<string, { tiles: Map<string, StoredTile>; bytes: number }>();
  private bytes = 0;

  constructor(readonly maxBytes = 32 * 1024 * 1024) {}

  /** A tile every proof of the window may read (so worth keeping). */
  static isShared(tile: HashTileId): boolean {
    return tile.level > 0 || tile.width < TILE_WIDTH;
  }

  tile(root: string, tile: HashTileId): StoredTile | undefined {
    return this.windows.get(root)?.tiles.get(`${tile.level}/${tile.index}`);
  }

  keep(root: string, tile: HashTileId, stored: StoredTile): void {
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
    // Copies: a row's buffers may be views of a larger one.
    e.tiles.set(key, { data: Buffer.from(stored.data), nodes: Buffer.from(stored.nodes) });
    const bytes = stored.data.length + stored.nodes.length;
    e.bytes += bytes;
    this.bytes += bytes;
    for (const [r, old] of this.windows) {
      if (this.bytes <= this.maxBytes) break;
      this.windows.delete(r);
      this.bytes -= old.bytes;
    }
  }

  get cachedBytes(): number {
    return this.bytes;
  }
}

/** The process-wide cache behind windowInclusionPath. */
export const sharedTileCache = new SharedTileCache();

/**
 * PATH(leafIndex, D[w.count]) of RFC 6962 from the window's stored tiles: one query for the O(log n) tiles the
 * proof reads that are not in the shared cache (usually just the leaf's level-0 tile), each subtree picked from
 * the tiles' stored nodes. A window sealed before tiles existed gets its tiles stored first, once. Hex,
 * leaf-most sibling first.
 */
export async function windowInclusionPath(
  sql: Sql,
  w: SealedWindow,
  leafIndex: number,
  opts: {
    counters?: TileProofCounters;
    cache?: SharedTileCache;
    /** The leaf's level-0 tile when the caller has read it already (receiptWithLeafTile). */
    leafTile?: StoredTile | null;
  } = {},
): Promise<string[]> {
  const { counters, cache = sharedTileCache } = opts;
  const ids = tileReadsFor(leafIndex, w.count);
  const tiles = new Map<string, StoredTile>();
  const leafTileIndex = Math.floor(leafIndex / TILE_WIDTH);
  const wanted: HashTileId[] = [];
  for (const t of ids) {
    const given = opts.leafTile && t.level === 0 && t.index === leafTileIndex ? opts.leafTile : undefined;
    const hit = given ?? cache.tile(w.root, t);
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
      const stored = read.get(`${t.level}/${t.index}`);
      if (!stored) continue;
      tiles.set(`${t.level}/${t.index}`, stored);
      if (SharedTileCache.isShared(t)) cache.keep(w.root, t, stored);
    }
  }
  const path = await inclusionProofFromTiles(
    leafIndex,
    w.count,
    async (level, index) => {
      const stored = tiles.get(`${level}/${index}`);
      if (!stored) throw new Error(`${windowName(w)}: tile ${level}/${index} is missing from the ledger`);
      return stored.data;
    },
    counters,
    (t) => tiles.get(`${t.level}/${t.index}`)?.nodes,
  );
  return path.map((h) => h.toString('hex'));
}

/** A stored ballot's receipt, its window once sealed, and the level-0 tile its proof reads, read together. */
export interface ReceiptLookup {
  receipt: Receipt;
  /** The sealed window holding the ballot, or null while it is not sealed. */
  window: SealedWindow | null;
  /** The ballot's level-0 tile (null while not sealed, or for a window sealed before tiles existed). */
  leafTile: StoredTile | null;
}

/**
 * The receipt of the ballot with this hash, with its window and its level-0 tile, in one query: a receipt
 * lookup is then one round trip, the tiles above level 0 coming from the SharedTileCache. Null when no ballot
 * here has that hash. The LATERAL subqueries keep each read on its table's primary key (checked with EXPLAIN on a
 * never-analysed window_tiles of 1,000,000 ballots: without the LIMIT the planner scanned the window's tiles).
 */
export async function receiptWithLeafTile(
  sql: Sql,
  ledgerKey: { privateKey: KeyObject },
  ballotHashHex: string,
): Promise<ReceiptLookup | null> {
  const [r] = await sql`
    SELECT b.election_id, b.shard, b.seq, b.received_at, e.shards,
           w.window_index, w.first_seq, w.count, w.root, w.sealed_at, w.anchor_tx, w.anchor_block, w.anchored_at,
           t.width AS tile_width, t.data AS tile_data, t.nodes AS tile_nodes
    FROM ballots b
    JOIN elections e ON e.election_id = b.election_id
    LEFT JOIN LATERAL (
      SELECT * FROM windows w WHERE w.election_id = b.election_id AND w.shard = b.shard AND w.first_seq <= b.seq
      ORDER BY w.first_seq DESC LIMIT 1
    ) w ON w.first_seq + w.count > b.seq
    LEFT JOIN LATERAL (
      SELECT width, data, nodes FROM window_tiles t
      WHERE t.election_id = b.election_id AND t.shard = b.shard AND t.window_index = w.window_index
        AND t.level = 0 AND t.tile_index = (b.seq - w.first_seq) / ${TILE_WIDTH}
      LIMIT 1 -- not pulled up into the join: a subquery on its own keeps all five key columns in its index scan
    ) t ON true
    WHERE b.ballot_hash = decode(${ballotHashHex}, 'hex')`;
  if (!r) return null;
  const receipt = receiptFromRow(ledgerKey, r, ballotHashHex);
  const window = r.window_index == null ? null : rowToWindow(r);
  let leafTile: StoredTile | null = null;
  if (window && r.tile_data != null) {
    const index = Math.floor((Number(r.seq) - window.firstSeq) / TILE_WIDTH);
    if (Number(r.tile_width) !== tileWidthAt(0, index, window.count)) {
      throw new Error(`${windowName(window)}: stored tile 0/${index} has width ${r.tile_width}`);
    }
    leafTile = { data: r.tile_data as Buffer, nodes: r.tile_nodes as Buffer };
  }
  return { receipt, window, leafTile };
}
