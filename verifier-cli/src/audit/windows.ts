// Windows: every anchored window's root is recomputed from the ledger and compared with the chain.
// The chain's windows must be contiguous from seq 0 (checkWindowRanges). Rows are collected per window
// by seq; a window is recomputed as soon as all its seqs have arrived, so only incomplete windows stay
// in memory. Rows past the last window are unanchored.
import type { ChainWindow } from '../chain.js';
import { finding, type Finding } from '../errors.js';
import { fromCheckedHex, short, toHex } from '../hex.js';
import { merkleTreeHead } from '../merkle.js';
import { range } from './seq.js';

/** Contiguity of the chain's windows: window 0 starts at seq 0, w+1 where w ends, none empty. */
export function checkWindowRanges(windows: readonly ChainWindow[]): Finding[] {
  const out: Finding[] = [];
  let expected = 0;
  for (const w of windows) {
    if (w.firstSeq !== expected || w.count < 1) {
      out.push(finding('window-range-mismatch', `window ${w.index} on chain covers ${describe(w)}, expected to start at seq ${expected} with at least one ballot`, { window: w.index }));
    }
    expected = w.firstSeq + w.count;
  }
  return out;
}

function describe(w: ChainWindow): string {
  return w.count > 0 ? range(w.firstSeq, w.firstSeq + w.count - 1) : `no seq (firstSeq ${w.firstSeq}, count 0)`;
}

/** RFC 6962 MTH of a window's leaves (ballot hashes as lowercase hex, from row-check) in seq order. */
export function windowRoot(leaves: readonly string[]): string {
  return toHex(merkleTreeHead(leaves.map(fromCheckedHex)));
}

export class WindowChecker {
  /** Leaves received so far of windows not yet recomputed, by window index. */
  private readonly pending = new Map<number, Map<number, string>>();
  private readonly done = new Set<number>();
  private readonly findings: Finding[] = [];
  /** One past the last anchored seq. */
  readonly anchoredEnd: number;
  private cursor = 0;
  unanchoredRows = 0;
  firstUnanchoredSeq = -1;

  constructor(private readonly windows: readonly ChainWindow[]) {
    const last = windows[windows.length - 1];
    this.anchoredEnd = last === undefined ? 0 : last.firstSeq + last.count;
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

  /** Add a row's leaf (ballotHash hex) at `seq`. The first row of a seq wins; repeats are reported elsewhere. */
  add(seq: number, leaf: string): void {
    const w = this.windowOf(seq);
    if (w === undefined) {
      this.unanchoredRows++;
      if (this.firstUnanchoredSeq === -1 || seq < this.firstUnanchoredSeq) this.firstUnanchoredSeq = seq;
      return;
    }
    if (this.done.has(w.index)) return; // a repeated seq of a window already recomputed
    let leaves = this.pending.get(w.index);
    if (leaves === undefined) {
      leaves = new Map();
      this.pending.set(w.index, leaves);
    }
    if (!leaves.has(seq)) leaves.set(seq, leaf);
    if (leaves.size === w.count) this.recompute(w, leaves);
  }

  /** Recompute the windows still incomplete; report windows the ledger holds no row of. */
  finish(): Finding[] {
    for (const w of this.windows) {
      if (this.done.has(w.index)) continue;
      const leaves = this.pending.get(w.index);
      if (leaves === undefined) {
        this.findings.push(finding('missing-ballot', `window ${w.index} (${describe(w)}) is anchored but the ledger holds none of its ${w.count} ballots`, { window: w.index, seq: w.firstSeq }));
        this.done.add(w.index);
        continue;
      }
      this.recompute(w, leaves);
    }
    return this.findings;
  }

  private recompute(w: ChainWindow, leaves: Map<number, string>): void {
    const ordered: string[] = [];
    const missing: number[] = [];
    for (let seq = w.firstSeq; seq < w.firstSeq + w.count; seq++) {
      const leaf = leaves.get(seq);
      if (leaf === undefined) missing.push(seq);
      else ordered.push(leaf);
    }
    const root = windowRoot(ordered);
    if (root !== w.root) {
      const held = missing.length === 0 ? '' : `; the ledger holds ${ordered.length} of its ${w.count} ballots (missing ${missing.slice(0, 5).map((s) => `seq ${s}`).join(', ')}${missing.length > 5 ? ', …' : ''})`;
      this.findings.push(
        finding('window-root-mismatch', `window ${w.index} (${describe(w)}): the root recomputed from the ledger is ${short(root)}, the chain has ${short(w.root)}${held}`, {
          window: w.index,
          seq: missing[0],
        }),
      );
    }
    this.pending.delete(w.index);
    this.done.add(w.index);
  }
}
