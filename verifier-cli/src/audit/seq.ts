// Sequence numbers: the ledger is seq 0..n-1, each once, served in order (docs/protocol.md); in an election of
// several shards, each shard is (13.2), with a tracker of its own whose findings name the shard.
// A bitset remembers which seqs were seen (n bits), so gaps are found at the end of the stream.
// A seq far beyond the rows seen so far is reported at once and not tracked (no huge allocation).
import { finding, type Finding } from '../errors.js';
import { counted } from '../plural.js';

/** How far past the highest seq so far a row may jump and still be tracked. */
const MAX_JUMP = 1 << 24;

export class SeqTracker {
  private seen = new Uint8Array(1024);
  private previous = -1;
  /** Highest seq seen, -1 before any row. */
  maxSeq = -1;
  /** Rows observed with a readable seq. */
  rows = 0;

  /** `shard`: an election of several shards' shard, named in every finding (undefined: one shard). */
  constructor(private readonly shard?: number) {}

  private find(
    code: 'seq-gap' | 'duplicate-seq' | 'seq-out-of-order' | 'missing-ballot',
    message: string,
    seq: number,
  ): Finding {
    return this.shard === undefined
      ? finding(code, message, { seq })
      : finding(code, `shard ${this.shard}: ${message}`, { shard: this.shard, seq });
  }

  /** Record a row's seq; a finding when it repeats or goes backwards. */
  observe(seq: number): Finding | null {
    this.rows++;
    if (seq > this.maxSeq + MAX_JUMP) {
      return this.find(
        'seq-gap',
        `seq ${seq} jumps more than ${MAX_JUMP} past seq ${this.maxSeq}; the rows between are missing`,
        seq,
      );
    }
    this.grow(seq);
    const byte = Math.floor(seq / 8);
    const bit = 1 << (seq % 8);
    const repeated = (this.seen[byte]! & bit) !== 0;
    this.seen[byte]! |= bit;
    const previous = this.previous;
    this.previous = seq;
    if (seq > this.maxSeq) this.maxSeq = seq;
    if (repeated) return this.find('duplicate-seq', `seq ${seq} appears more than once`, seq);
    if (seq < previous) return this.find('seq-out-of-order', `seq ${seq} comes after seq ${previous}`, seq);
    return null;
  }

  has(seq: number): boolean {
    return seq >= 0 && seq <= this.maxSeq && (this.seen[Math.floor(seq / 8)]! & (1 << (seq % 8))) !== 0;
  }

  /**
   * Gaps below the highest seq (seq-gap), and seqs the chain anchored beyond the ledger's last row
   * (missing-ballot), one finding per missing range, named by its first seq.
   */
  finish(anchoredBallots: number): Finding[] {
    const out: Finding[] = [];
    let start = -1;
    for (let seq = 0; seq <= this.maxSeq + 1; seq++) {
      const missing = seq <= this.maxSeq && !this.has(seq);
      if (missing && start === -1) start = seq;
      if (!missing && start !== -1) {
        out.push(
          this.find(
            'seq-gap',
            `${range(start, seq - 1)} missing from the ledger (rows run up to seq ${this.maxSeq})`,
            start,
          ),
        );
        start = -1;
      }
    }
    if (anchoredBallots > this.maxSeq + 1) {
      out.push(
        this.find(
          'missing-ballot',
          `the chain anchors ${counted(anchoredBallots, 'ballot')} but the ledger stops at seq ${this.maxSeq}: ${range(this.maxSeq + 1, anchoredBallots - 1)} not served`,
          this.maxSeq + 1,
        ),
      );
    }
    return out;
  }

  private grow(seq: number): void {
    const need = Math.floor(seq / 8) + 1;
    if (need <= this.seen.length) return;
    let size = this.seen.length;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.seen);
    this.seen = next;
  }
}

/** "seq 4" or "seq 4..9". */
export function range(first: number, last: number): string {
  return first === last ? `seq ${first}` : `seq ${first}..${last}`;
}
