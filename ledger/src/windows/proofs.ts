// Reading sealed windows back, and inclusion proofs for single ballots (docs/protocol.md, proof bundles).
import type { Sql } from 'postgres';
import { MerkleTree, leafHashAt } from '../protocol/merkle.js';
import { forEachLeafChunk, rowToWindow, type SealedWindow } from './rows.js';

/** Sealed windows of an election in index order, with their anchors once recorded. */
export async function listWindows(
  sql: Sql,
  electionId: string,
  opts: { fromIndex?: number; limit?: number; shard?: number } = {},
): Promise<SealedWindow[]> {
  const rows = await sql`
    SELECT * FROM windows WHERE election_id = ${electionId} AND shard = ${opts.shard ?? 0}
      AND window_index >= ${opts.fromIndex ?? 0}
    ORDER BY window_index LIMIT ${opts.limit ?? 1_000_000}`;
  return rows.map(rowToWindow);
}

/** The window holding ballot `seq`, or null while that ballot is not sealed (or does not exist). */
export async function windowForSeq(sql: Sql, electionId: string, seq: number, shard = 0): Promise<SealedWindow | null> {
  const [row] = await sql`
    SELECT * FROM windows WHERE election_id = ${electionId} AND shard = ${shard} AND first_seq <= ${seq}
    ORDER BY first_seq DESC LIMIT 1`;
  if (!row) return null;
  const w = rowToWindow(row);
  return seq < w.firstSeq + w.count ? w : null;
}

/**
 * LRU of recently used window trees, bounded in bytes. Keyed by the window's root: a root names exactly
 * one sequence of leaves, so entries can never be stale and several ledgers may share one cache.
 * Concurrent requests for the same window share one load.
 */
export class WindowTreeCache {
  private readonly entries = new Map<string, MerkleTree>();
  private readonly loading = new Map<string, Promise<MerkleTree>>();
  private bytes = 0;

  constructor(readonly maxBytes = 64 * 1024 * 1024) {}

  async get(rootHex: string, load: () => Promise<MerkleTree>): Promise<MerkleTree> {
    const hit = this.entries.get(rootHex);
    if (hit) {
      this.entries.delete(rootHex);
      this.entries.set(rootHex, hit);
      return hit;
    }
    const pending = this.loading.get(rootHex);
    if (pending) return pending;
    const p = load().finally(() => this.loading.delete(rootHex));
    this.loading.set(rootHex, p);
    const tree = await p;
    if (tree.byteLength <= this.maxBytes && !this.entries.has(rootHex)) {
      this.entries.set(rootHex, tree);
      this.bytes += tree.byteLength;
      for (const [key, t] of this.entries) {
        if (this.bytes <= this.maxBytes) break;
        this.entries.delete(key);
        this.bytes -= t.byteLength;
      }
    }
    return tree;
  }

  get cachedBytes(): number {
    return this.bytes;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}

/** The process-wide cache behind auditPathFor; receipts are fetched per ballot by the API. */
export const windowTreeCache = new WindowTreeCache();

/** Read a sealed window's leaves and rebuild its tree, refusing one whose leaves no longer match its root. */
export async function loadWindowTree(sql: Sql, w: SealedWindow): Promise<MerkleTree> {
  const leaves = Buffer.allocUnsafe(w.count * 32);
  let n = 0;
  await forEachLeafChunk(sql, w.electionId, w.shard, w.firstSeq, w.firstSeq + w.count, 10_000, (hashes) => {
    for (let off = 0; off < hashes.length; off += 32, n++) leafHashAt(hashes, off).copy(leaves, n * 32);
  });
  const tree = new MerkleTree(leaves);
  const root = tree.root().toString('hex');
  if (root !== w.root) {
    throw new Error(
      `election ${w.electionId} window ${w.index} (seqs ${w.firstSeq}..${w.firstSeq + w.count - 1}): the ledger's ballots hash to ${root} but the sealed root is ${w.root}; the ballots table was changed`,
    );
  }
  return tree;
}

export interface InclusionProof {
  window: SealedWindow;
  /** seq - window.firstSeq */
  leafIndex: number;
  /** RFC 6962 audit path, leaf-most sibling first, lowercase hex. */
  auditPath: string[];
}

/** The inclusion proof of ballot `seq` in its window, or null while the ballot is not sealed. */
export async function auditPathFor(
  sql: Sql,
  electionId: string,
  seq: number,
  opts: { cache?: WindowTreeCache; shard?: number } = {},
): Promise<InclusionProof | null> {
  const window = await windowForSeq(sql, electionId, seq, opts.shard ?? 0);
  if (!window) return null;
  const cache = opts.cache ?? windowTreeCache;
  const tree = await cache.get(window.root, () => loadWindowTree(sql, window));
  const leafIndex = seq - window.firstSeq;
  return { window, leafIndex, auditPath: tree.auditPath(leafIndex).map((h) => h.toString('hex')) };
}
