// Windows: every anchored window's root is recomputed from the ledger and compared with the chain.
// The chain's windows must be contiguous from seq 0 (checkWindowRanges). Rows' leaves are collected per
// window as bytes; a window is recomputed as soon as all its seqs have arrived, so only incomplete windows
// stay in memory. Rows past the last window are unanchored. In an election of several shards each shard has a
// checker of its own, over the windows the anchor intervals name (intervals.ts), whose findings name the shard.
// With tiles saved earlier (`audit --tiles`, a directory or an http(s) base), a complete window whose root differs
// is kept, and locateChanges() names each seq whose leaf hash is not the one the saved hash tiles hold (tiles.ts,
// diffWindowAgainstTiles), with the ballot hash then when the saved entry bundle agrees with them.
import type { ChainWindow } from '../chain.js';
import { finding, type Finding } from '../errors.js';
import { fromCheckedHex, short, toHex } from '../hex.js';
import { merkleTreeHeadPacked } from '../merkle.js';
import type { TileSource } from '../sources/tiles.js';
import { diffWindowAgainstTiles, formatTilePath, TileError, type TileReader } from '../tiles.js';
import { range } from './seq.js';
import { counted } from '../plural.js';

/** The windows' tiles in `source` (`audit --tiles`: a directory or an http(s) base), as WindowChecker takes them. */
export function savedTilesOfElection(
  source: TileSource,
  electionId: string,
  shard?: number,
): { readTile(window: number): TileReader; where(window: number): string } {
  return {
    readTile: (window) => source.reader(electionId, window, shard),
    where: (window) => source.where(electionId, window, shard),
  };
}

/** Contiguity of the chain's windows: window 0 starts at seq 0, w+1 where w ends, none empty. */
export function checkWindowRanges(windows: readonly ChainWindow[]): Finding[] {
  const out: Finding[] = [];
  let expected = 0;
  for (const w of windows) {
    if (w.firstSeq !== expected || w.count < 1) {
      out.push(
        finding(
          'window-range-mismatch',
          `window ${w.index} on chain covers ${describe(w)}, expected to start at seq ${expected} with at least one ballot`,
          { window: w.index },
        ),
      );
    }
    expected = w.firstSeq + w.count;
  }
  return out;
}

function describe(w: ChainWindow): string {
  return w.count > 0 ? range(w.firstSeq, w.firstSeq + w.count - 1) : `no seq (firstSeq ${w.firstSeq}, count 0)`;
}

/** RFC 6962 MTH of a window's leaves (ballot hashes as lowercase hex) in seq order. */
export function windowRoot(leaves: readonly string[]): string {
  return toHex(merkleTreeHeadPacked(fromCheckedHex(leaves.join(''))));
}

const LEAF_BYTES = 32;

/**
 * The leaves received so far of one window, in arrival order, packed. While rows arrive in seq order
 * from the window's first seq (the usual case), nothing else is kept; once one does not, the seqs of
 * all rows held are kept too (and a set of them), and they are sorted when the root is recomputed.
 */
class PendingWindow {
  leaves: Uint8Array;
  /** Leaves held (each seq once: the first row of a seq wins). */
  length = 0;
  /** The seq of each leaf held, once the rows came out of order; null while in order. */
  seqs: number[] | null = null;
  seen: Set<number> | null = null;

  constructor(count: number) {
    this.leaves = new Uint8Array(Math.min(count, 1024) * LEAF_BYTES);
  }

  /**
   * Adds the leaf at `seq` (of a window starting at `firstSeq`), source[at .. at+32); false when that seq
   * is already held.
   */
  add(seq: number, firstSeq: number, source: Uint8Array, at: number): boolean {
    if (this.seen === null) {
      if (seq === firstSeq + this.length) {
        this.append(source, at);
        return true;
      }
      this.seqs = Array.from({ length: this.length }, (_, i) => firstSeq + i);
      this.seen = new Set(this.seqs);
    }
    if (this.seen.has(seq)) return false;
    this.seen.add(seq);
    this.seqs!.push(seq);
    this.append(source, at);
    return true;
  }

  private append(source: Uint8Array, at: number): void {
    if ((this.length + 1) * LEAF_BYTES > this.leaves.byteLength) {
      const grown = new Uint8Array(this.leaves.byteLength * 2);
      grown.set(this.leaves);
      this.leaves = grown;
    }
    const to = this.length * LEAF_BYTES;
    for (let k = 0; k < LEAF_BYTES; k++) this.leaves[to + k] = source[at + k]!;
    this.length++;
  }

  /** The leaves held in seq order, packed, and their seqs ascending (null: firstSeq, firstSeq + 1, …). */
  ordered(): { leaves: Uint8Array; seqs: number[] | null } {
    const held = this.leaves.subarray(0, this.length * LEAF_BYTES);
    if (this.seqs === null) return { leaves: held, seqs: null };
    const seqs = this.seqs;
    const order = Array.from({ length: this.length }, (_, i) => i).sort((a, b) => seqs[a]! - seqs[b]!);
    const leaves = new Uint8Array(held.byteLength);
    for (const [k, i] of order.entries())
      leaves.set(held.subarray(i * LEAF_BYTES, (i + 1) * LEAF_BYTES), k * LEAF_BYTES);
    return { leaves, seqs: order.map((i) => seqs[i]!) };
  }
}

export class WindowChecker {
  /** Leaves received so far of windows not yet recomputed, by window index. */
  private readonly pending = new Map<number, PendingWindow>();
  private readonly done = new Set<number>();
  private readonly findings: Finding[] = [];
  /** One past the last anchored seq. */
  readonly anchoredEnd: number;
  private cursor = 0;
  unanchoredRows = 0;
  firstUnanchoredSeq = -1;
  /** Complete windows whose root differs, their leaves in seq order, kept for locateChanges (with savedTiles). */
  private readonly toLocate: { w: ChainWindow; leaves: Uint8Array; found: Finding }[] = [];

  /**
   * `shard`: an election of several shards' shard, named in every finding (undefined: one shard). `savedTiles`:
   * the tiles of window `w` saved earlier, and where they are (for messages).
   */
  constructor(
    private readonly windows: readonly ChainWindow[],
    private readonly shard?: number,
    private readonly savedTiles?: { readTile(window: number): TileReader; where(window: number): string },
  ) {
    const last = windows[windows.length - 1];
    this.anchoredEnd = last === undefined ? 0 : last.firstSeq + last.count;
  }

  /** "window 3", or "window 3 of shard 1". */
  private label(w: ChainWindow): string {
    return this.shard === undefined ? `window ${w.index}` : `window ${w.index} of shard ${this.shard}`;
  }

  /** The window holding `seq`, or undefined when no anchored window does. */
  windowOf(seq: number): ChainWindow | undefined {
    const hint = this.windows[this.cursor];
    if (hint !== undefined && seq >= hint.firstSeq && seq < hint.firstSeq + hint.count) return hint;
    let lo = 0;
    let hi = this.windows.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const w = this.windows[mid]!;
      if (seq < w.firstSeq) hi = mid - 1;
      else if (seq >= w.firstSeq + w.count) lo = mid + 1;
      else {
        this.cursor = mid;
        return w;
      }
    }
    return undefined;
  }

  /**
   * Add a row's leaf (its recomputed ballotHash: the 32 bytes at `at` in `leaves`, copied) at `seq`, in
   * window `w` (windowOf(seq), looked up here when not given). The first row of a seq wins; repeats are
   * reported elsewhere.
   */
  add(seq: number, leaves: Uint8Array, at = 0, w: ChainWindow | undefined = this.windowOf(seq)): void {
    if (w === undefined) {
      this.unanchoredRows++;
      if (this.firstUnanchoredSeq === -1 || seq < this.firstUnanchoredSeq) this.firstUnanchoredSeq = seq;
      return;
    }
    if (this.done.has(w.index)) return; // a repeated seq of a window already recomputed
    let held = this.pending.get(w.index);
    if (held === undefined) {
      held = new PendingWindow(w.count);
      this.pending.set(w.index, held);
    }
    if (held.add(seq, w.firstSeq, leaves, at) && held.length === w.count) this.recompute(w, held);
  }

  /** Recompute the windows still incomplete; report windows the ledger holds no row of. */
  finish(): Finding[] {
    for (const w of this.windows) {
      if (this.done.has(w.index)) continue;
      const held = this.pending.get(w.index);
      if (held === undefined) {
        this.findings.push(
          finding(
            'missing-ballot',
            `${this.label(w)} (${describe(w)}) is anchored but the ledger holds none of its ${counted(w.count, 'ballot')}`,
            { shard: this.shard, window: w.index, seq: w.firstSeq },
          ),
        );
        this.done.add(w.index);
        continue;
      }
      this.recompute(w, held);
    }
    return this.findings;
  }

  /**
   * With tiles saved earlier: for each complete window whose root differs, one finding per seq whose leaf hash
   * is not the one the saved hash tiles hold, once those tiles give the chain's root. Saved hash tiles that do
   * not, or that are incomplete or disagree with each other, locate nothing: the window's own finding then says
   * why. Entry bundles only add the ballot hash held then; one that disagrees with the hash tiles (a server's
   * bundles read from a changed ledger) is named in the window's finding, and its seqs keep the leaf hash.
   */
  async locateChanges(): Promise<Finding[]> {
    const out: Finding[] = [];
    for (const { w, leaves, found } of this.toLocate.splice(0)) {
      const where = this.savedTiles!.where(w.index);
      try {
        const readTile = this.savedTiles!.readTile(w.index);
        const diff = await diffWindowAgainstTiles({ size: w.count, readTile, root: fromCheckedHex(w.root) }, leaves);
        for (const b of diff.inconsistentBundles) {
          const seqs = b.leaves.map((i) => `seq ${w.firstSeq + i}`).join(', ');
          const why =
            b.malformed === undefined
              ? `its entries at ${seqs} do not hash to their leaf hashes`
              : `${b.malformed}: no ballot hash for ${seqs}`;
          found.message +=
            `; the entry bundle ${formatTilePath(b.bundle)} in ${where} is inconsistent with the hash tiles ` +
            `(${why}), so the changes are named from the hash tiles alone, which give the root on chain`;
        }
        for (const change of diff.changes) {
          const seq = w.firstSeq + change.index;
          const leafHash = `a ballot whose leaf hash was ${toHex(change.savedLeafHash)}`;
          const then =
            change.savedEntry !== undefined
              ? `ballot hash ${toHex(change.savedEntry)}`
              : change.bundle === 'inconsistent'
                ? `${leafHash} (its entry bundle is inconsistent with the hash tiles)`
                : `${leafHash} (its entry bundle is not saved)`;
          out.push(
            finding(
              'window-root-mismatch',
              `${this.label(w)}: seq ${seq} differs from the tiles saved earlier in ${where} (${then} then, ` +
                `ballot hash ${toHex(change.currentEntry)} now)`,
              { shard: this.shard, window: w.index, seq },
            ),
          );
        }
      } catch (err) {
        if (!(err instanceof TileError)) throw err;
        // The window's finding is already listed; it gains why the saved tiles could not locate the change.
        found.message += `; the tiles saved in ${where} do not locate the change: ${err.message}`;
      }
    }
    return out;
  }

  private recompute(w: ChainWindow, held: PendingWindow): void {
    const { leaves, seqs } = held.ordered();
    const root = toHex(merkleTreeHeadPacked(leaves));
    if (root !== w.root) {
      const missing = firstMissing(w, seqs, held.length, 6);
      const detail =
        missing.length === 0
          ? ''
          : `; the ledger holds ${held.length} of its ${counted(w.count, 'ballot')} (missing ${missing
              .slice(0, 5)
              .map((s) => `seq ${s}`)
              .join(', ')}${missing.length > 5 ? ', …' : ''})`;
      const found = finding(
        'window-root-mismatch',
        `${this.label(w)} (${describe(w)}): the root recomputed from the ledger is ${short(root)}, ${this.shard === undefined ? 'the chain has' : 'its anchored record has'} ${short(w.root)}${detail}`,
        {
          shard: this.shard,
          window: w.index,
          seq: missing[0],
        },
      );
      this.findings.push(found);
      // Rows missing from the window are named above; with every seq there, saved tiles can name the changed ones.
      if (this.savedTiles !== undefined && held.length === w.count)
        this.toLocate.push({ w, leaves: leaves.slice(), found });
    }
    this.pending.delete(w.index);
    this.done.add(w.index);
  }
}

/**
 * Up to `limit` seqs of window `w` not held, ascending; `seqs` the held ones ascending (null: a prefix of
 * `length`).
 */
function firstMissing(w: ChainWindow, seqs: readonly number[] | null, length: number, limit: number): number[] {
  const out: number[] = [];
  let expected = w.firstSeq;
  const end = w.firstSeq + w.count;
  const heldSeqs = seqs ?? [];
  if (seqs === null) expected = w.firstSeq + length;
  for (const seq of heldSeqs) {
    while (expected < seq && out.length < limit) out.push(expected++);
    if (out.length >= limit) return out;
    expected = seq + 1;
  }
  while (expected < end && out.length < limit) out.push(expected++);
  return out;
}
