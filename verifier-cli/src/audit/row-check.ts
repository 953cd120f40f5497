// The per-row half of the audit: everything about one ledger line that needs no other line. Pure and
// self-contained so that worker threads run it in parallel (worker.ts) and the main thread can run it
// inline (--threads 0). The cross-row checks (seq, duplicates, roll, windows, tally) are in audit.ts.
//
// A ledger line is {"seq","ballotHash","ballot","signature","receivedAt"}. `ballot` is the ballot
// object (its raw text is taken from the line) or a string holding the stored JCS text.
import { verifyStrict, type Engine } from '../ed25519.js';
import type { FindingCode } from '../errors.js';
import { fromCheckedHex, isHex, short, toHex, utf8 } from '../hex.js';
import { jcs, rawMember } from '../jcs.js';
import { ballotHash, ballotMessage, checkBallotRules, isPlainObject, isTime, type BallotRules } from '../protocol.js';

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

/** A readable row: the fields, with the ballot's value and its text as sent. */
export interface LedgerRow {
  seq: number;
  ballotHash: string;
  ballot: unknown;
  ballotText: string;
  signature: string;
  receivedAt: string;
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
  if (!isTime(receivedAt)) return 'receivedAt is not an RFC 3339 UTC time with milliseconds';
  if (typeof ballot === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(ballot);
    } catch {
      return 'ballot text is not JSON';
    }
    return { seq, ballotHash: hash, ballot: parsed, ballotText: ballot, signature, receivedAt };
  }
  const ballotText = rawMember(line, 'ballot');
  if (ballotText === undefined || !isPlainObject(ballot)) return 'ballot is missing or not an object';
  return { seq, ballotHash: hash, ballot, ballotText, signature, receivedAt };
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Check a block of whole lines (LF or CRLF; blank lines skipped), the first being line `firstLine`
 * of the stream. A line that is not UTF-8 is a malformed line.
 */
export function checkLedgerBlock(bytes: Uint8Array, firstLine: number, ctx: RowContext): RowResult[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: RowResult[] = [];
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
      out.push(malformed(lineNumber, 'not UTF-8'));
    }
    if (line !== undefined && line.trim().length > 0) out.push(checkLedgerRow(line, lineNumber, ctx));
    start = next;
  }
  return out;
}

function malformed(lineNumber: number, why: string): RowResult {
  return {
    line: lineNumber,
    seq: -1,
    leaf: '',
    credential: '',
    receivedAtMs: Number.NaN,
    signatureValid: false,
    choices: null,
    problems: [{ code: 'malformed-line', message: `line ${lineNumber}: ${why}` }],
  };
}

/** Check one ledger line. Never throws on bad input: problems are returned. */
export function checkLedgerRow(line: string, lineNumber: number, ctx: RowContext): RowResult {
  const row = parseLedgerRow(line);
  if (typeof row === 'string') return malformed(lineNumber, row);
  const at = `seq ${row.seq}`;
  const problems: RowProblem[] = [];

  // Step 2: the stored ballot is its own JCS serialisation (RFC 8785).
  const canonical = jcs(row.ballot);
  if (canonical !== row.ballotText) {
    problems.push({ code: 'not-canonical', message: `${at}: the stored ballot is not JCS-canonical (${row.ballotText.length} bytes stored, ${canonical.length} canonical)` });
  }

  // Step 3: the ballot obeys the manifest.
  const rules = checkBallotRules(row.ballot, ctx.rules);
  if (!rules.ok) problems.push({ code: 'ballot-invalid', message: `${at}: ${rules.problem}` });
  const credential = isPlainObject(row.ballot) && isHex(row.ballot.credential, 32) ? row.ballot.credential : '';

  // Step 4: ballotHash = H(JCS({"ballot","signature"})), compared with the stored one.
  const canonicalBytes = utf8(canonical);
  const leaf = toHex(ballotHash(canonical, row.signature, canonicalBytes));
  if (leaf !== row.ballotHash) {
    problems.push({ code: 'ballot-hash-mismatch', message: `${at}: ballotHash is ${short(row.ballotHash)} but H(JCS({ballot, signature})) is ${short(leaf)}` });
  }

  // Step 5: the voter's signature over "tallyproof:ballot:v1:" || JCS(ballot), strictly.
  let signatureValid = false;
  if (credential === '') {
    problems.push({ code: 'bad-signature', message: `${at}: the ballot has no credential to verify its signature with` });
  } else {
    const problem = verifyStrict(fromCheckedHex(credential), ballotMessage(canonical, canonicalBytes), fromCheckedHex(row.signature), ctx.engine);
    if (problem === null) signatureValid = true;
    else problems.push({ code: 'bad-signature', message: `${at}: the signature does not verify (${problem}) for credential ${short(credential)}` });
  }

  return {
    line: lineNumber,
    seq: row.seq,
    leaf,
    credential,
    receivedAtMs: Date.parse(row.receivedAt),
    signatureValid,
    choices: rules.ok && signatureValid ? rules.choices : null,
    problems,
  };
}
