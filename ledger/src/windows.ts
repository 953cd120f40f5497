// Windows: sealing the ballots committed since the last window into an RFC 6962 tree, reading sealed
// windows back, and inclusion proofs for single ballots (DESIGN.md, "Window w of an election").
//
// Three numbers per election stay apart (ledger/README.md): election_heads.next_seq (ballots committed),
// election_heads.sealed_through (first seq not yet in a window), and the anchored prefix of `windows`
// (rows whose anchor_tx is set), which only the anchor worker advances.
import type { Sql } from 'postgres';
import { hash as nodeCryptoHash } from 'node:crypto';
import { EMPTY_ROOT, LEAF_PREFIX, NODE_PREFIX } from './protocol/merkle.js';

export interface WindowAnchor {
  txHash: string;
  blockNumber: number;
  /** When the ledger recorded the confirmed anchor (an upper bound of when it was mined). */
  anchoredAt: string;
}

export interface SealedWindow {
  electionId: string;
  index: number;
  firstSeq: number;
  count: number;
  /** MTH of the window's ballot hashes in seq order, lowercase hex. */
  root: string;
  sealedAt: string;
  anchor: WindowAnchor | null;
}

export interface SealOptions {
  /**
   * Called inside the sealing transaction after the window row is written and before COMMIT. The anchor
   * worker's crash tests kill the process here; a throw rolls the seal back.
   */
  beforeCommit?: (window: SealedWindow) => void | Promise<void>;
  /** Ballots read per query while hashing. */
  fetchSize?: number;
  /** Reports, for a sealed window, the time spent reading and hashing (no lock) and in the locked commit. */
  onTimings?: (t: { hashMs: number; lockedMs: number }) => void;
}

/** Sealers that keep losing the race to a concurrent sealer give up after this many rounds. */
const SEAL_ROUNDS = 5;

function rowToWindow(r: Record<string, unknown>): SealedWindow {
  return {
    electionId: r.election_id as string,
    index: Number(r.window_index),
    firstSeq: Number(r.first_seq),
    count: Number(r.count),
    root: (r.root as Buffer).toString('hex'),
    sealedAt: (r.sealed_at as Date).toISOString(),
    anchor: r.anchor_tx == null ? null : {
      txHash: r.anchor_tx as string,
      blockNumber: Number(r.anchor_block),
      anchoredAt: (r.anchored_at as Date).toISOString(),
    },
  };
}

// RFC 6962 hashes with one-shot crypto.hash over reused buffers: about twice as fast as createHash for
// these 33- and 65-byte inputs, which is most of the cost of sealing a 100,000-ballot window. Safe to
// share: nothing awaits between filling a buffer and hashing it. Checked against protocol/merkle.ts.
const leafInput = Buffer.alloc(33, LEAF_PREFIX);
const nodeInput = Buffer.alloc(65, NODE_PREFIX);
const sha256 = (b: Buffer) => nodeCryptoHash('sha256', b, 'buffer') as unknown as Buffer;

function leafHashAt(ballotHashes: Buffer, offset: number): Buffer {
  ballotHashes.copy(leafInput, 1, offset, offset + 32);
  return sha256(leafInput);
}

function nodeHashOf(left: Buffer, leftOffset: number, right: Buffer, rightOffset: number): Buffer {
  left.copy(nodeInput, 1, leftOffset, leftOffset + 32);
  right.copy(nodeInput, 33, rightOffset, rightOffset + 32);
  return sha256(nodeInput);
}

/** MTH over leaves pushed in order, O(log n) memory (the stack of perfect subtrees, as MerkleRootBuilder). */
class StreamingRoot {
  private readonly stack: { hash: Buffer; size: number }[] = [];

  pushLeafHash(h: Buffer): void {
    let node = { hash: h, size: 1 };
    while (this.stack.length > 0 && this.stack[this.stack.length - 1]!.size === node.size) {
      const left = this.stack.pop()!;
      node = { hash: nodeHashOf(left.hash, 0, node.hash, 0), size: left.size * 2 };
    }
    this.stack.push(node);
  }

  root(): Buffer {
    if (this.stack.length === 0) return EMPTY_ROOT;
    let r = this.stack[this.stack.length - 1]!.hash;
    for (let i = this.stack.length - 2; i >= 0; i--) r = nodeHashOf(this.stack[i]!.hash, 0, r, 0);
    return r;
  }
}

/**
 * Stream the ballot hashes of seqs [from, to) in seq order, `chunk` seqs per query, each chunk one
 * Buffer of concatenated 32-byte hashes (string_agg: far less per-row work than a row cursor). Checks
 * that no seq is missing: (election_id, seq) is the primary key, so count = range size with the range's
 * min and max means gap-free; a gap means the database was changed around the application.
 */
async function forEachLeafChunk(sql: Sql, electionId: string, from: number, to: number, chunk: number, onChunk: (ballotHashes: Buffer) => void): Promise<void> {
  for (let lo = from; lo < to; lo += chunk) {
    const hi = Math.min(lo + chunk, to);
    const [r] = await sql`
      SELECT count(*)::int AS n, min(seq) AS lo, max(seq) AS hi, string_agg(ballot_hash, ''::bytea ORDER BY seq) AS hashes
      FROM ballots WHERE election_id = ${electionId} AND seq >= ${lo} AND seq < ${hi}`;
    if (r!.n !== hi - lo || Number(r!.lo) !== lo || Number(r!.hi) !== hi - 1) {
      throw new Error(`election ${electionId}: ledger gap, seqs ${lo}..${hi - 1} hold ${r!.n} ballots`);
    }
    onChunk(r!.hashes as Buffer);
  }
}

/**
 * Seal every ballot committed since the last window into window `next_window_index`. Returns the new
 * window, or null when no ballot is waiting ("empty intervals seal nothing").
 *
 * Correctness without holding the ingest lock while hashing:
 *  1. Read the head without a lock. Ingest advances next_seq in the same transaction that inserts the
 *     ballots below it, so every seq below a committed next_seq is committed, and ballots never change
 *     (triggers). The range [sealed_through, next_seq) read here is therefore final.
 *  2. Hash that range outside any transaction, streamed in chunks into a root builder (O(log n) memory).
 *  3. Under `SELECT … FOR UPDATE` on the head row (the lock ingest takes), check that sealed_through and
 *     next_window_index have not moved since step 1; if so insert the window and advance both. The head
 *     lock is held only for this check and two small writes, so ingest is never stalled by hashing.
 *     If a concurrent sealer got there first, start over from its end.
 * The primary key (election_id, window_index), UNIQUE (election_id, first_seq) and the check
 * sealed_through <= next_seq back this up in the schema.
 */
export async function sealWindow(sql: Sql, electionId: string, opts: SealOptions = {}): Promise<SealedWindow | null> {
  const fetchSize = opts.fetchSize ?? 10_000;
  for (let round = 0; round < SEAL_ROUNDS; round++) {
    const [head] = await sql`SELECT next_seq, sealed_through, next_window_index FROM election_heads WHERE election_id = ${electionId}`;
    if (!head) throw new Error(`sealWindow: no election ${electionId}`);
    const firstSeq = Number(head.sealed_through);
    const end = Number(head.next_seq);
    const index = Number(head.next_window_index);
    if (end === firstSeq) return null;

    const started = performance.now();
    const builder = new StreamingRoot();
    await forEachLeafChunk(sql, electionId, firstSeq, end, fetchSize, (hashes) => {
      for (let off = 0; off < hashes.length; off += 32) builder.pushLeafHash(leafHashAt(hashes, off));
    });
    const root = builder.root();
    const hashed = performance.now();

    const sealed = await sql.begin(async (tx) => {
      const [locked] = await tx`SELECT sealed_through, next_window_index FROM election_heads WHERE election_id = ${electionId} FOR UPDATE`;
      if (Number(locked!.sealed_through) !== firstSeq || Number(locked!.next_window_index) !== index) return null;
      const [row] = await tx`
        INSERT INTO windows (election_id, window_index, first_seq, count, root)
        VALUES (${electionId}, ${index}, ${firstSeq}, ${end - firstSeq}, ${root})
        RETURNING *`;
      await tx`UPDATE election_heads SET sealed_through = ${end}, next_window_index = ${index + 1} WHERE election_id = ${electionId}`;
      const window = rowToWindow(row!);
      await opts.beforeCommit?.(window);
      return window;
    });
    if (sealed) {
      opts.onTimings?.({ hashMs: hashed - started, lockedMs: performance.now() - hashed });
      return sealed;
    }
    // Another sealer committed a window over this range first; read the head again.
  }
  throw new Error(`sealWindow: election ${electionId} kept being sealed concurrently for ${SEAL_ROUNDS} rounds`);
}

/** Sealed windows of an election in index order, with their anchors once recorded. */
export async function listWindows(sql: Sql, electionId: string, opts: { fromIndex?: number; limit?: number } = {}): Promise<SealedWindow[]> {
  const rows = await sql`
    SELECT * FROM windows WHERE election_id = ${electionId} AND window_index >= ${opts.fromIndex ?? 0}
    ORDER BY window_index LIMIT ${opts.limit ?? 1_000_000}`;
  return rows.map(rowToWindow);
}

export interface AnchoringProgress {
  /** Windows sealed, all elections. */
  sealedWindows: number;
  /** Windows whose root is recorded as anchored on chain. */
  anchoredWindows: number;
  /** Ballots committed but not yet in an anchored window. */
  unanchoredBallots: number;
  /** Age of the oldest ballot not yet in an anchored window, in seconds; 0 when all are anchored. */
  lagSeconds: number;
}

/**
 * Sealing and anchoring over all elections, for metrics and the worker's status, in a few index probes
 * per election whatever the size of the ledger. Windows are contiguous from seq 0 and anchored in order
 * (the anchorer checks both), so an election's sealed windows are its head's next_window_index, its
 * anchored ones end at its last anchored window, and its oldest unanchored ballot is the one at the seq
 * that window ends at.
 */
export async function anchoringProgress(sql: Sql): Promise<AnchoringProgress> {
  const [r] = await sql`
    SELECT coalesce(sum(h.next_window_index), 0) AS sealed, coalesce(sum(coalesce(a.window_index + 1, 0)), 0) AS anchored,
           coalesce(sum(h.next_seq - coalesce(a.through, 0)), 0) AS unanchored,
           coalesce(extract(epoch FROM clock_timestamp() - min(b.received_at)), 0)::float8 AS lag
    FROM election_heads h
    LEFT JOIN LATERAL (SELECT w.window_index, w.first_seq + w.count AS through FROM windows w
                       WHERE w.election_id = h.election_id AND w.anchor_tx IS NOT NULL ORDER BY w.window_index DESC LIMIT 1) a ON true
    LEFT JOIN LATERAL (SELECT received_at FROM ballots b WHERE b.election_id = h.election_id AND b.seq = coalesce(a.through, 0) LIMIT 1) b ON true`;
  return { sealedWindows: Number(r!.sealed), anchoredWindows: Number(r!.anchored), unanchoredBallots: Number(r!.unanchored), lagSeconds: Math.max(0, Number(r!.lag)) };
}

/** The window holding ballot `seq`, or null while that ballot is not sealed (or does not exist). */
export async function windowForSeq(sql: Sql, electionId: string, seq: number): Promise<SealedWindow | null> {
  const [row] = await sql`
    SELECT * FROM windows WHERE election_id = ${electionId} AND first_seq <= ${seq}
    ORDER BY first_seq DESC LIMIT 1`;
  if (!row) return null;
  const w = rowToWindow(row);
  return seq < w.firstSeq + w.count ? w : null;
}

/**
 * A window's whole tree, level by level (each level one Buffer of 32-byte hashes), built bottom-up the
 * same way as protocol/merkle.ts rootFromLeafHashes: pairs are hashed, a lone last node is promoted,
 * which is exactly the RFC 6962 split tree. About 64 bytes per ballot; audit paths are then O(log n).
 */
export class WindowTree {
  readonly levels: Buffer[];

  constructor(leafHashes: Buffer) {
    if (leafHashes.length === 0 || leafHashes.length % 32 !== 0) throw new RangeError('a window tree needs at least one 32-byte leaf hash');
    const levels = [leafHashes];
    let level = leafHashes;
    while (level.length > 32) {
      const n = level.length / 32;
      const next = Buffer.allocUnsafe(Math.ceil(n / 2) * 32);
      for (let i = 0; i + 1 < n; i += 2) nodeHashOf(level, i * 32, level, i * 32 + 32).copy(next, (i / 2) * 32);
      if (n % 2 === 1) level.copy(next, ((n - 1) / 2) * 32, (n - 1) * 32, n * 32);
      levels.push(next);
      level = next;
    }
    this.levels = levels;
  }

  get size(): number {
    return this.levels[0]!.length / 32;
  }

  get byteLength(): number {
    return this.levels.reduce((s, l) => s + l.length, 0);
  }

  root(): Buffer {
    return Buffer.from(this.levels[this.levels.length - 1]!);
  }

  /** PATH(m, D[n]) of RFC 6962, leaf-most sibling first. */
  auditPath(leafIndex: number): Buffer[] {
    if (!Number.isInteger(leafIndex) || leafIndex < 0 || leafIndex >= this.size) throw new RangeError(`leaf index ${leafIndex} outside window of size ${this.size}`);
    const path: Buffer[] = [];
    let i = leafIndex;
    for (let l = 0; l < this.levels.length - 1; l++) {
      const level = this.levels[l]!;
      const sibling = i ^ 1;
      if (sibling * 32 < level.length) path.push(Buffer.from(level.subarray(sibling * 32, sibling * 32 + 32)));
      i = Math.floor(i / 2);
    }
    return path;
  }
}

/**
 * LRU of recently used window trees, bounded in bytes. Keyed by the window's root: a root names exactly
 * one sequence of leaves, so entries can never be stale and several ledgers may share one cache.
 * Concurrent requests for the same window share one load.
 */
export class WindowTreeCache {
  private readonly entries = new Map<string, WindowTree>();
  private readonly loading = new Map<string, Promise<WindowTree>>();
  private bytes = 0;

  constructor(readonly maxBytes = 64 * 1024 * 1024) {}

  async get(rootHex: string, load: () => Promise<WindowTree>): Promise<WindowTree> {
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
export async function loadWindowTree(sql: Sql, w: SealedWindow): Promise<WindowTree> {
  const leaves = Buffer.allocUnsafe(w.count * 32);
  let n = 0;
  await forEachLeafChunk(sql, w.electionId, w.firstSeq, w.firstSeq + w.count, 10_000, (hashes) => {
    for (let off = 0; off < hashes.length; off += 32, n++) leafHashAt(hashes, off).copy(leaves, n * 32);
  });
  const tree = new WindowTree(leaves);
  const root = tree.root().toString('hex');
  if (root !== w.root) {
    throw new Error(`election ${w.electionId} window ${w.index} (seqs ${w.firstSeq}..${w.firstSeq + w.count - 1}): the ledger's ballots hash to ${root} but the sealed root is ${w.root}; the ballots table was changed`);
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
export async function auditPathFor(sql: Sql, electionId: string, seq: number, opts: { cache?: WindowTreeCache } = {}): Promise<InclusionProof | null> {
  const window = await windowForSeq(sql, electionId, seq);
  if (!window) return null;
  const cache = opts.cache ?? windowTreeCache;
  const tree = await cache.get(window.root, () => loadWindowTree(sql, window));
  const leafIndex = seq - window.firstSeq;
  return { window, leafIndex, auditPath: tree.auditPath(leafIndex).map((h) => h.toString('hex')) };
}
