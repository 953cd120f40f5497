// A block's row-check results as they travel from a worker to the main thread (PackedRows): a few typed
// arrays, transferred rather than cloned, with the 32-byte leaves and credentials as bytes; only rows
// with problems carry objects. RowPacker fills them (row-check.ts); unpackRows() turns them into plain
// objects (RowResult) for tests and one-line checks.
import type { FindingCode } from '../errors.js';
import { toHex } from '../hex.js';

export interface RowProblem {
  code: FindingCode;
  message: string;
}

export interface RowResult {
  /** 1-based line number in the stream. */
  line: number;
  /** The row's shard (an election of several shards), -1 when it names none or is not a readable row. */
  shard: number;
  /** The row's seq, or -1 when the line is not a readable row. */
  seq: number;
  /**
   * The Merkle leaf: ballotHash recomputed from the ballot and signature (not the stored one), or '' for
   * an unreadable line.
   */
  leaf: string;
  /** The ballot's credential (lowercase hex), or '' when it has none. */
  credential: string;
  /** receivedAt in ms since the epoch, NaN when unreadable. */
  receivedAtMs: number;
  /** The voter's signature verified (which also proves the credential decodes to a curve point). */
  signatureValid: boolean;
  /** Flat choice indexes when the ballot obeys the manifest and its signature verifies, else null: not countable. */
  choices: number[] | null;
  problems: RowProblem[];
}

/** Bits of PackedRows.flags. */
export const ROW_READABLE = 1;
export const ROW_HAS_CREDENTIAL = 2;
export const ROW_SIGNATURE_VALID = 4;
export const ROW_COUNTABLE = 8;

/** A problem of row `row` (an index into the block's rows). */
export interface PackedProblem extends RowProblem {
  row: number;
}

/**
 * The results of a block of rows, in line order, as columns. Row i: lines[i], shards[i] (-1 when it names
 * none), seqs[i] (-1 when not a readable row), receivedAtMs[i] (NaN when unreadable), flags[i] (ROW_*), its leaf at
 * leaves[32i .. 32i+32) (zeros when unreadable), its credential at credentials[32i .. 32i+32) (when
 * ROW_HAS_CREDENTIAL), its choices (when ROW_COUNTABLE) at choices[choiceStarts[i] .. choiceStarts[i+1]).
 * `problems` lists the rows' problems in row order.
 */
export interface PackedRows {
  count: number;
  lines: Float64Array;
  shards: Int32Array;
  seqs: Float64Array;
  receivedAtMs: Float64Array;
  flags: Uint8Array;
  leaves: Uint8Array;
  credentials: Uint8Array;
  choiceStarts: Uint32Array;
  choices: Uint32Array;
  problems: PackedProblem[];
  /**
   * Encrypted elections (v2) only: row i's ciphertexts (α || β per choice, 64 bytes each) at
   * ciphertexts[i·rowCiphertextBytes ..) when ROW_COUNTABLE, and `aggregate`, their sums over the block's
   * ROW_COUNTABLE rows (v2/aggregate.ts).
   */
  ciphertexts?: Uint8Array;
  aggregate?: Uint8Array;
}

/** The buffers of `rows`, to transfer with it. */
export function packedTransferList(rows: PackedRows): ArrayBuffer[] {
  const arrays: ArrayBufferView[] = [
    rows.lines,
    rows.shards,
    rows.seqs,
    rows.receivedAtMs,
    rows.flags,
    rows.leaves,
    rows.credentials,
    rows.choiceStarts,
    rows.choices,
  ];
  if (rows.ciphertexts !== undefined) arrays.push(rows.ciphertexts);
  if (rows.aggregate !== undefined) arrays.push(rows.aggregate);
  return arrays.map((a) => a.buffer as ArrayBuffer);
}

/** Fills PackedRows one row at a time (capacity: the most rows the block can hold). */
export class RowPacker {
  private readonly out: PackedRows;
  private choiceCount = 0;

  /** `rowCiphertextBytes`: an encrypted election's ciphertext bytes per row (0: none kept). */
  constructor(
    capacity: number,
    private readonly maxChoices: number,
    private readonly rowCiphertextBytes = 0,
  ) {
    this.out = {
      count: 0,
      lines: new Float64Array(capacity),
      shards: new Int32Array(capacity),
      seqs: new Float64Array(capacity),
      receivedAtMs: new Float64Array(capacity),
      flags: new Uint8Array(capacity),
      leaves: new Uint8Array(capacity * 32),
      credentials: new Uint8Array(capacity * 32),
      choiceStarts: new Uint32Array(capacity + 1),
      choices: new Uint32Array(capacity * maxChoices),
      problems: [],
    };
    if (rowCiphertextBytes > 0) this.out.ciphertexts = new Uint8Array(capacity * rowCiphertextBytes);
  }

  /** Starts the next row; its index. */
  begin(line: number): number {
    const i = this.out.count++;
    this.out.lines[i] = line;
    this.out.shards[i] = -1;
    this.out.seqs[i] = -1;
    this.out.receivedAtMs[i] = Number.NaN;
    return i;
  }

  get rows(): PackedRows {
    return this.out;
  }

  /** Records the current row's choices (the ballot is countable); call at most once per row, before end(). */
  setChoices(choices: readonly number[]): void {
    if (choices.length > this.maxChoices) throw new RangeError('more choices than the manifest has');
    this.out.choices.set(choices, this.choiceCount);
    this.choiceCount += choices.length;
  }

  /** Records row i's ciphertexts (an encrypted election's countable row). */
  setCiphertexts(i: number, ciphertexts: Uint8Array): void {
    if (ciphertexts.length !== this.rowCiphertextBytes) throw new RangeError('ciphertexts of another size');
    this.out.ciphertexts!.set(ciphertexts, i * this.rowCiphertextBytes);
  }

  /** Ends row i (after setChoices, if any). */
  end(i: number): void {
    this.out.choiceStarts[i + 1] = this.choiceCount;
  }

  problem(row: number, code: FindingCode, message: string): void {
    this.out.problems.push({ row, code, message });
  }
}

/** PackedRows as one RowResult per row. */
export function unpackRows(rows: PackedRows): RowResult[] {
  const out: RowResult[] = [];
  let p = 0;
  for (let i = 0; i < rows.count; i++) {
    const flags = rows.flags[i]!;
    const problems: RowProblem[] = [];
    for (; p < rows.problems.length && rows.problems[p]!.row === i; p++)
      problems.push({ code: rows.problems[p]!.code, message: rows.problems[p]!.message });
    out.push({
      line: rows.lines[i]!,
      shard: rows.shards[i]!,
      seq: rows.seqs[i]!,
      leaf: (flags & ROW_READABLE) !== 0 ? toHex(rows.leaves.subarray(32 * i, 32 * i + 32)) : '',
      credential: (flags & ROW_HAS_CREDENTIAL) !== 0 ? toHex(rows.credentials.subarray(32 * i, 32 * i + 32)) : '',
      receivedAtMs: rows.receivedAtMs[i]!,
      signatureValid: (flags & ROW_SIGNATURE_VALID) !== 0,
      choices:
        (flags & ROW_COUNTABLE) !== 0
          ? Array.from(rows.choices.subarray(rows.choiceStarts[i]!, rows.choiceStarts[i + 1]!))
          : null,
      problems,
    });
  }
  return out;
}
