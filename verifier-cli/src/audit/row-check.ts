// The per-row half of the audit: everything about one ledger line that needs no other line. Pure and
// self-contained so that worker threads run it in parallel (worker.ts) and the main thread can run it
// inline (--threads 0). The cross-row checks (seq, duplicates, roll, windows, tally) are in audit.ts.
//
// A ledger line is {"seq","ballotHash","ballot","signature","receivedAt"}. `ballot` is the ballot
// object (its raw text is taken from the line) or a string holding the stored JCS text.
//
// A block's results travel back to the main thread packed (PackedRows): a few typed arrays, transferred
// rather than cloned, with the 32-byte leaves and credentials as bytes; only rows with problems carry
// objects. checkLedgerRow() / unpackRows() give the same results as plain objects (RowResult).
import { verifyStrict, type Engine } from '../ed25519.js';
import type { FindingCode } from '../errors.js';
import { isHex, sha256Hex, short, toHex } from '../hex.js';
import { isPlainlyCanonical, jcs, rawMemberOnce } from '../jcs.js';
import { BALLOT_DOMAIN, checkBallotRules, isPlainObject, timeMs, type BallotRules } from '../protocol.js';

export interface RowContext {
  rules: BallotRules;
  engine: Engine;
}

export interface RowProblem {
  code: FindingCode;
  message: string;
}

export interface RowResult {
  /** 1-based line number in the stream. */
  line: number;
  /** The row's seq, or -1 when the line is not a readable row. */
  seq: number;
  /** The Merkle leaf: ballotHash recomputed from the ballot and signature (not the stored one), or '' for an unreadable line. */
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
 * The results of a block of rows, in line order, as columns. Row i: lines[i], seqs[i] (-1 when not a
 * readable row), receivedAtMs[i] (NaN when unreadable), flags[i] (ROW_*), its leaf at
 * leaves[32i .. 32i+32) (zeros when unreadable), its credential at credentials[32i .. 32i+32) (when
 * ROW_HAS_CREDENTIAL), its choices (when ROW_COUNTABLE) at choices[choiceStarts[i] .. choiceStarts[i+1]).
 * `problems` lists the rows' problems in row order.
 */
export interface PackedRows {
  count: number;
  lines: Float64Array;
  seqs: Float64Array;
  receivedAtMs: Float64Array;
  flags: Uint8Array;
  leaves: Uint8Array;
  credentials: Uint8Array;
  choiceStarts: Uint32Array;
  choices: Uint32Array;
  problems: PackedProblem[];
}

/** The buffers of `rows`, to transfer with it. */
export function packedTransferList(rows: PackedRows): ArrayBuffer[] {
  return [rows.lines, rows.seqs, rows.receivedAtMs, rows.flags, rows.leaves, rows.credentials, rows.choiceStarts, rows.choices].map((a) => a.buffer as ArrayBuffer);
}

/** Fills PackedRows one row at a time (capacity: the most rows the block can hold). */
class RowPacker {
  private readonly out: PackedRows;
  private choiceCount = 0;

  constructor(capacity: number, private readonly maxChoices: number) {
    this.out = {
      count: 0,
      lines: new Float64Array(capacity),
      seqs: new Float64Array(capacity),
      receivedAtMs: new Float64Array(capacity),
      flags: new Uint8Array(capacity),
      leaves: new Uint8Array(capacity * 32),
      credentials: new Uint8Array(capacity * 32),
      choiceStarts: new Uint32Array(capacity + 1),
      choices: new Uint32Array(capacity * maxChoices),
      problems: [],
    };
  }

  /** Starts the next row; its index. */
  begin(line: number): number {
    const i = this.out.count++;
    this.out.lines[i] = line;
    this.out.seqs[i] = -1;
    this.out.receivedAtMs[i] = Number.NaN;
    return i;
  }

  get rows(): PackedRows {
    return this.out;
  }

  /** Records row i's choices (the ballot is countable); call at most once per row, in row order. */
  setChoices(i: number, choices: readonly number[]): void {
    if (choices.length > this.maxChoices) throw new RangeError('more choices than the manifest has');
    this.out.choices.set(choices, this.choiceCount);
    this.choiceCount += choices.length;
  }

  /** Ends row i (after setChoices, if any). */
  end(i: number): void {
    this.out.choiceStarts[i + 1] = this.choiceCount;
  }

  problem(row: number, code: FindingCode, message: string): void {
    this.out.problems.push({ row, code, message });
  }
}

/** A readable row: the fields, with the ballot's value and its text as sent. */
export interface LedgerRow {
  seq: number;
  ballotHash: string;
  ballot: unknown;
  ballotText: string;
  signature: string;
  receivedAt: string;
  /** receivedAt in ms since the epoch. */
  receivedAtMs: number;
  /** `ballotText` is the text `ballot` was parsed from (false when the line repeats the "ballot" member). */
  ballotTextIsSource: boolean;
}

/** Step 1: parse the line into a row, or say why it is not one. */
export function parseLedgerRow(line: string): LedgerRow | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (!isPlainObject(value)) return 'not a JSON object';
  const { seq, ballotHash: hash, ballot, signature, receivedAt } = value;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return 'seq is not a non-negative integer';
  if (!isHex(hash, 32)) return 'ballotHash is not 32-byte lowercase hex';
  if (!isHex(signature, 64)) return 'signature is not 64-byte lowercase hex';
  const receivedAtMs = timeMs(receivedAt);
  if (Number.isNaN(receivedAtMs)) return 'receivedAt is not an RFC 3339 UTC time with milliseconds';
  if (typeof ballot === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(ballot);
    } catch {
      return 'ballot text is not JSON';
    }
    return { seq, ballotHash: hash, ballot: parsed, ballotText: ballot, signature, receivedAt: receivedAt as string, receivedAtMs, ballotTextIsSource: true };
  }
  const member = rawMemberOnce(line, 'ballot');
  if (member === undefined || !isPlainObject(ballot)) return 'ballot is missing or not an object';
  return { seq, ballotHash: hash, ballot, ballotText: member.text, signature, receivedAt: receivedAt as string, receivedAtMs, ballotTextIsSource: member.once };
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Check a block of whole lines (LF or CRLF; blank lines skipped), the first being line `firstLine`
 * of the stream. A line that is not UTF-8 is a malformed line.
 */
export function checkLedgerBlockPacked(bytes: Uint8Array, firstLine: number, ctx: RowContext): PackedRows {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let capacity = 1;
  for (let i = buf.indexOf(NEWLINE); i !== -1; i = buf.indexOf(NEWLINE, i + 1)) capacity++;
  const packer = new RowPacker(capacity, ctx.rules.flatChoices.length);
  let lineNumber = firstLine;
  for (let start = 0; start < buf.length; lineNumber++) {
    let end = buf.indexOf(NEWLINE, start);
    if (end === -1) end = buf.length;
    const next = end + 1;
    if (end > start && buf[end - 1] === CARRIAGE_RETURN) end--;
    let line: string | undefined;
    try {
      line = utf8Decoder.decode(buf.subarray(start, end));
    } catch {
      const i = packer.begin(lineNumber);
      packer.problem(i, 'malformed-line', `line ${lineNumber}: not UTF-8`);
      packer.end(i);
    }
    if (line !== undefined && line.trim().length > 0) checkRowInto(line, lineNumber, ctx, packer);
    start = next;
  }
  return packer.rows;
}

/** checkLedgerBlockPacked, as objects. */
export function checkLedgerBlock(bytes: Uint8Array, firstLine: number, ctx: RowContext): RowResult[] {
  return unpackRows(checkLedgerBlockPacked(bytes, firstLine, ctx));
}

/** Check one ledger line. Never throws on bad input: problems are returned. */
export function checkLedgerRow(line: string, lineNumber: number, ctx: RowContext): RowResult {
  const packer = new RowPacker(1, ctx.rules.flatChoices.length);
  checkRowInto(line, lineNumber, ctx, packer);
  return unpackRows(packer.rows)[0]!;
}

/** PackedRows as one RowResult per row. */
export function unpackRows(rows: PackedRows): RowResult[] {
  const out: RowResult[] = [];
  let p = 0;
  for (let i = 0; i < rows.count; i++) {
    const flags = rows.flags[i]!;
    const problems: RowProblem[] = [];
    for (; p < rows.problems.length && rows.problems[p]!.row === i; p++) problems.push({ code: rows.problems[p]!.code, message: rows.problems[p]!.message });
    out.push({
      line: rows.lines[i]!,
      seq: rows.seqs[i]!,
      leaf: (flags & ROW_READABLE) !== 0 ? toHex(rows.leaves.subarray(32 * i, 32 * i + 32)) : '',
      credential: (flags & ROW_HAS_CREDENTIAL) !== 0 ? toHex(rows.credentials.subarray(32 * i, 32 * i + 32)) : '',
      receivedAtMs: rows.receivedAtMs[i]!,
      signatureValid: (flags & ROW_SIGNATURE_VALID) !== 0,
      choices: (flags & ROW_COUNTABLE) !== 0 ? Array.from(rows.choices.subarray(rows.choiceStarts[i]!, rows.choiceStarts[i + 1]!)) : null,
      problems,
    });
  }
  return out;
}

// The bytes hashed and signed, built in one reused buffer with one UTF-8 encoding of JCS(ballot):
//   [ pad | "tallyproof:ballot:v1:" or (pad + '{"ballot":') | JCS(ballot) | ',"signature":"<hex>"}' ]
// The signed message is DOMAIN || JCS(ballot); the hashed text is '{"ballot":' || JCS(ballot) || tail,
// i.e. JCS({"ballot","signature"}) ("ballot" sorts before "signature", and lowercase hex needs no
// escaping; protocol.ts submissionJcs). Both prefixes end where JCS(ballot) starts.
const DOMAIN_BYTES = Buffer.from(BALLOT_DOMAIN, 'utf8');
const SUBMISSION_HEAD = Buffer.from('{"ballot":', 'utf8');
const BODY_AT = Math.max(DOMAIN_BYTES.length, SUBMISSION_HEAD.length);
const SIGNATURE_HEAD = Buffer.from(',"signature":"', 'utf8');
const TAIL_BYTES = SIGNATURE_HEAD.length + 128 + 2;
let scratch = Buffer.alloc(16 * 1024);
const signatureBytes = Buffer.alloc(64);

/** Step 2 to 5 for one line, appended to `packer`. */
function checkRowInto(line: string, lineNumber: number, ctx: RowContext, packer: RowPacker): void {
  const i = packer.begin(lineNumber);
  const out = packer.rows;
  const row = parseLedgerRow(line);
  if (typeof row === 'string') {
    packer.problem(i, 'malformed-line', `line ${lineNumber}: ${row}`);
    packer.end(i);
    return;
  }
  out.seqs[i] = row.seq;
  out.receivedAtMs[i] = row.receivedAtMs;

  // Step 2: the stored ballot is its own JCS serialisation (RFC 8785). Text that plainly is (jcs.ts,
  // isPlainlyCanonical) is not serialised again: JCS(ballot) is that text.
  const canonical = row.ballotTextIsSource && isPlainlyCanonical(row.ballotText) ? row.ballotText : jcs(row.ballot);
  if (canonical !== row.ballotText) {
    packer.problem(i, 'not-canonical', `seq ${row.seq}: the stored ballot is not JCS-canonical (${row.ballotText.length} bytes stored, ${canonical.length} canonical)`);
  }

  // Step 3: the ballot obeys the manifest.
  const rules = checkBallotRules(row.ballot, ctx.rules);
  if (!rules.ok) packer.problem(i, 'ballot-invalid', `seq ${row.seq}: ${rules.problem}`);
  // (A ballot that obeys the rules has a credential of 32-byte lowercase hex: checked there.)
  const credential = rules.ok ? (row.ballot as { credential: string }).credential : isPlainObject(row.ballot) && isHex(row.ballot.credential, 32) ? row.ballot.credential : '';

  // The message and the hashed text around one UTF-8 encoding of JCS(ballot). A UTF-16 code unit takes
  // at most 3 UTF-8 bytes (a surrogate pair 4 for 2 units, a lone surrogate U+FFFD's 3).
  const need = BODY_AT + 3 * canonical.length + TAIL_BYTES;
  if (scratch.length < need) scratch = Buffer.alloc(2 * need);
  const bodyEnd = BODY_AT + scratch.write(canonical, BODY_AT, 'utf8');
  SIGNATURE_HEAD.copy(scratch, bodyEnd);
  let end = bodyEnd + SIGNATURE_HEAD.length;
  end += scratch.write(row.signature, end, 'latin1'); // lowercase hex: ASCII
  scratch[end++] = 0x22; // "
  scratch[end++] = 0x7d; // }

  // Step 4: ballotHash = H(JCS({"ballot","signature"})), compared with the stored one.
  SUBMISSION_HEAD.copy(scratch, BODY_AT - SUBMISSION_HEAD.length);
  const leaf = sha256Hex(scratch.subarray(BODY_AT - SUBMISSION_HEAD.length, end));
  Buffer.from(out.leaves.buffer, out.leaves.byteOffset + 32 * i, 32).write(leaf, 0, 32, 'hex');
  out.flags[i] = ROW_READABLE;
  if (leaf !== row.ballotHash) {
    packer.problem(i, 'ballot-hash-mismatch', `seq ${row.seq}: ballotHash is ${short(row.ballotHash)} but H(JCS({ballot, signature})) is ${short(leaf)}`);
  }

  // Step 5: the voter's signature over "tallyproof:ballot:v1:" || JCS(ballot), strictly.
  let signatureValid = false;
  if (credential === '') {
    packer.problem(i, 'bad-signature', `seq ${row.seq}: the ballot has no credential to verify its signature with`);
  } else {
    const key = out.credentials.subarray(32 * i, 32 * i + 32);
    Buffer.from(key.buffer, key.byteOffset, 32).write(credential, 0, 32, 'hex');
    out.flags[i]! |= ROW_HAS_CREDENTIAL;
    signatureBytes.write(row.signature, 0, 64, 'hex');
    DOMAIN_BYTES.copy(scratch, BODY_AT - DOMAIN_BYTES.length);
    const problem = verifyStrict(key, scratch.subarray(BODY_AT - DOMAIN_BYTES.length, bodyEnd), signatureBytes, ctx.engine);
    if (problem === null) signatureValid = true;
    else packer.problem(i, 'bad-signature', `seq ${row.seq}: the signature does not verify (${problem}) for credential ${short(credential)}`);
  }

  if (signatureValid) out.flags[i]! |= ROW_SIGNATURE_VALID;
  if (rules.ok && signatureValid) {
    out.flags[i]! |= ROW_COUNTABLE;
    packer.setChoices(i, rules.choices);
  }
  packer.end(i);
}
