// The per-row half of the audit: everything about one ledger line that needs no other line. Pure and
// self-contained so that worker threads run it in parallel (worker.ts) and the main thread can run it
// inline (--threads 0). The cross-row checks (seq, duplicates, roll, windows, tally) are in
// ledger-scan.ts.
//
// Per line, step 1 reads the fields (ledger-row.ts); steps 2 to 5 (the ballot's canonical form, its
// rules, ballotHash, the voter's signature) run here in one function over one reused buffer: the hot
// path. In an election of several shards, step 6 checks that the row is in the shard its credential names.
// A block's results are packed (packed-rows.ts); the names of it that the workers and the pool use are
// re-exported here, next to the block check they go with.
import { BALLOT_DOMAIN, checkBallotRules } from '../ballot.js';
import { verifyStrict, type Engine } from '../ed25519.js';
import type { FindingCode } from '../errors.js';
import { isHex, sha256Hex, short } from '../hex.js';
import { isPlainlyCanonical, jcs } from '../jcs.js';
import { isPlainObject, type BallotRules } from '../protocol.js';
import { shardOf } from '../shards.js';
import { blockSums } from '../v2/aggregate.js';
import {
  BALLOT_V2_DOMAIN,
  checkBallotV2,
  CIPHERTEXT_BYTES,
  flatChoiceCount,
  type BallotV2Context,
} from '../v2/ballot.js';
import { parseLedgerRow } from './ledger-row.js';
import {
  ROW_COUNTABLE,
  ROW_HAS_CREDENTIAL,
  ROW_READABLE,
  ROW_SIGNATURE_VALID,
  RowPacker,
  unpackRows,
  type PackedRows,
  type RowResult,
} from './packed-rows.js';
import { counted } from '../plural.js';

export interface RowContext {
  rules: BallotRules;
  engine: Engine;
  /** An encrypted election (wire format v2): its ballots are checked against this instead of `rules`. */
  v2?: BallotV2Context;
  /** The manifest's shards (docs/protocol.md 13.1); absent: 1. */
  shards?: number;
}

/** A row's ciphertext bytes in an encrypted election (0 for a plaintext one). */
function rowCiphertextBytes(ctx: RowContext): number {
  return ctx.v2 === undefined ? 0 : flatChoiceCount(ctx.v2) * CIPHERTEXT_BYTES;
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
  const packer = new RowPacker(capacity, ctx.rules.flatChoices.length, rowCiphertextBytes(ctx));
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
  const rows = packer.rows;
  if (ctx.v2 !== undefined) {
    const countable = (i: number): boolean => (rows.flags[i]! & ROW_COUNTABLE) !== 0;
    rows.aggregate = blockSums(rows.ciphertexts!, rows.count, flatChoiceCount(ctx.v2), countable);
  }
  return rows;
}

/** checkLedgerBlockPacked, as objects. */
export function checkLedgerBlock(bytes: Uint8Array, firstLine: number, ctx: RowContext): RowResult[] {
  return unpackRows(checkLedgerBlockPacked(bytes, firstLine, ctx));
}

/** Check one ledger line. Never throws on bad input: problems are returned. */
export function checkLedgerRow(line: string, lineNumber: number, ctx: RowContext): RowResult {
  const packer = new RowPacker(1, ctx.rules.flatChoices.length, rowCiphertextBytes(ctx));
  checkRowInto(line, lineNumber, ctx, packer);
  return unpackRows(packer.rows)[0]!;
}

// The bytes hashed and signed, built in one reused buffer with one UTF-8 encoding of JCS(ballot):
//   [ pad | "tallyproof:ballot:v1:" or (pad + '{"ballot":') | JCS(ballot) | ',"signature":"<hex>"}' ]
// The signed message is DOMAIN || JCS(ballot); the hashed text is '{"ballot":' || JCS(ballot) || tail,
// i.e. JCS({"ballot","signature"}) ("ballot" sorts before "signature", and lowercase hex needs no
// escaping; ballot.ts submissionJcs). Both prefixes end where JCS(ballot) starts.
const DOMAIN_BYTES = Buffer.from(BALLOT_DOMAIN, 'utf8');
/** Version 2's prefix, as long as version 1's: both end where JCS(ballot) starts in the scratch buffer. */
const DOMAIN_V2_BYTES = Buffer.from(BALLOT_V2_DOMAIN, 'utf8');
if (DOMAIN_V2_BYTES.length !== DOMAIN_BYTES.length) throw new Error('the v1 and v2 ballot domains differ in length');
const SUBMISSION_HEAD = Buffer.from('{"ballot":', 'utf8');
const BODY_AT = Math.max(DOMAIN_BYTES.length, SUBMISSION_HEAD.length);
const SIGNATURE_HEAD = Buffer.from(',"signature":"', 'utf8');
const TAIL_BYTES = SIGNATURE_HEAD.length + 128 + 2;
let scratch = Buffer.alloc(16 * 1024);
const signatureBytes = Buffer.alloc(64);

/** Steps 1 to 5 for one line, appended to `packer`. */
function checkRowInto(line: string, lineNumber: number, ctx: RowContext, packer: RowPacker): void {
  const i = packer.begin(lineNumber);
  const out = packer.rows;
  const row = parseLedgerRow(line);
  if (typeof row === 'string') {
    packer.problem(i, 'malformed-line', `line ${lineNumber}: ${row}`);
    packer.end(i);
    return;
  }
  // An election of several shards names each row's shard, one of its own; an election of one names none
  // (or shard 0).
  const shards = ctx.shards ?? 1;
  if (shards > 1 ? row.shard < 0 || row.shard >= shards : row.shard > 0) {
    const named = row.shard < 0 ? 'names no shard' : `names shard ${row.shard}`;
    packer.problem(
      i,
      'malformed-line',
      `line ${lineNumber}: the row ${named}, in an election of ${counted(shards, 'shard')}`,
    );
    packer.end(i);
    return;
  }
  const at = shards > 1 ? `shard ${row.shard} seq ${row.seq}` : `seq ${row.seq}`;
  out.shards[i] = row.shard;
  out.seqs[i] = row.seq;
  out.receivedAtMs[i] = row.receivedAtMs;

  // Step 2: the stored ballot is its own JCS serialisation (RFC 8785). Text that plainly is (jcs.ts,
  // isPlainlyCanonical) is not serialised again: JCS(ballot) is that text.
  const canonical = row.ballotTextIsSource && isPlainlyCanonical(row.ballotText) ? row.ballotText : jcs(row.ballot);
  if (canonical !== row.ballotText) {
    packer.problem(
      i,
      'not-canonical',
      `${at}: the stored ballot is not JCS-canonical (${counted(row.ballotText.length, 'byte')} stored, ` +
        `${canonical.length} canonical)`,
    );
  }

  // Step 3: the ballot obeys the manifest (in an encrypted election: its shape, points and proofs).
  const rules = ctx.v2 === undefined ? checkBallotRules(row.ballot, ctx.rules) : checkBallotV2(row.ballot, ctx.v2);
  if (!rules.ok) {
    const code = (rules as { code?: FindingCode }).code ?? 'ballot-invalid';
    packer.problem(i, code, `${at}: ${rules.problem}`);
  }
  // (A ballot that obeys the rules has a credential of 32-byte lowercase hex: checked there.)
  const credential = rules.ok
    ? (row.ballot as { credential: string }).credential
    : isPlainObject(row.ballot) && isHex(row.ballot.credential, 32)
      ? row.ballot.credential
      : '';

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
    packer.problem(
      i,
      'ballot-hash-mismatch',
      `${at}: ballotHash is ${short(row.ballotHash)} but H(JCS({ballot, signature})) is ${short(leaf)}`,
    );
  }

  // Step 5: the voter's signature over "tallyproof:ballot:v1:" || JCS(ballot), strictly.
  let signatureValid = false;
  if (credential === '') {
    packer.problem(i, 'bad-signature', `${at}: the ballot has no credential to verify its signature with`);
  } else {
    const key = out.credentials.subarray(32 * i, 32 * i + 32);
    Buffer.from(key.buffer, key.byteOffset, 32).write(credential, 0, 32, 'hex');
    out.flags[i]! |= ROW_HAS_CREDENTIAL;
    signatureBytes.write(row.signature, 0, 64, 'hex');
    (ctx.v2 === undefined ? DOMAIN_BYTES : DOMAIN_V2_BYTES).copy(scratch, BODY_AT - DOMAIN_BYTES.length);
    const problem = verifyStrict(
      key,
      scratch.subarray(BODY_AT - DOMAIN_BYTES.length, bodyEnd),
      signatureBytes,
      ctx.engine,
    );
    if (problem === null) signatureValid = true;
    else
      packer.problem(
        i,
        'bad-signature',
        `${at}: the signature does not verify (${problem}) for credential ${short(credential)}`,
      );
  }

  // Step 6 (several shards): the shard is the credential's, uint32_be(SHA-256(credential)[0..4]) mod S. A
  // ballot elsewhere escaped its shard's one-ballot-per-credential rule: it is not counted.
  let inItsShard = true;
  if (shards > 1 && credential !== '') {
    const expected = shardOf(out.credentials.subarray(32 * i, 32 * i + 32), shards);
    if (expected !== row.shard) {
      inItsShard = false;
      packer.problem(i, 'wrong-shard', `${at}: credential ${short(credential)} belongs in shard ${expected}`);
    }
  }

  if (signatureValid) out.flags[i]! |= ROW_SIGNATURE_VALID;
  if (rules.ok && signatureValid && inItsShard) {
    out.flags[i]! |= ROW_COUNTABLE;
    if ('ciphertexts' in rules) packer.setCiphertexts(i, rules.ciphertexts);
    else packer.setChoices(rules.choices);
  }
  packer.end(i);
}
