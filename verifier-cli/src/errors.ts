// One coded error and one closed set of finding codes (sigstore-js `error.ts` shape). Every check the
// verifier makes either passes or yields a Finding whose `code` is one of FINDING_CODES; the tests
// assert codes, never message text. docs/auditors.md explains each code (a test keeps them in step).

/** Every code a check can report. Closed: adding one means updating docs/auditors.md too. */
export const FINDING_CODES = [
  // --- a ledger row (names the seq) ---
  'malformed-line', // an NDJSON line that is not a ledger row {"seq","ballotHash","ballot","signature","receivedAt"}
  'not-canonical', // the stored ballot text is not its own RFC 8785 (JCS) serialisation
  'ballot-invalid', // the ballot breaks the manifest's rules (contests, choices, counts, election id, shape)
  'ballot-hash-mismatch', // the row's ballotHash is not H(JCS({"ballot","signature"}))
  'bad-signature', // the voter's Ed25519 signature does not verify strictly
  'not-on-roll', // the ballot's credential is not on the credential roll
  'duplicate-credential', // a second ballot of one credential
  'duplicate-hash', // a second row with the same ballot hash
  'duplicate-seq', // a second row with the same seq
  'seq-gap', // seqs missing below the ledger's highest seq
  'seq-out-of-order', // a row whose seq is lower than a row before it
  'missing-ballot', // a seq the chain anchored (or a receipt promised) that the ledger does not serve
  // --- windows (names the window) ---
  'window-root-mismatch', // the MTH recomputed from the ledger differs from the root on chain
  'window-range-mismatch', // a window's seq range breaks contiguity, or a server's claim disagrees with the chain
  'unanchored', // ledger rows beyond the last anchored window (warning while open, failure after close)
  'late-anchor', // a window anchored after the receipt promise (receivedAt + windowSeconds + 30 s)
  // --- an election of several shards (names the shard, and the seq or window) ---
  'wrong-shard', // a ballot in another shard than the one its credential names
  'interval-mismatch', // an interval's records do not give the chain's root, windowCount or ballotCount (interval)
  'window-interval-mismatch', // a shard's window in no anchored interval while later ones are, in two, or out of order
  // --- the election ---
  'not-registered', // the election is not registered on the contract
  'manifest-invalid', // the manifest is not a v1 manifest, nor a valid v2 one
  'manifest-hash-mismatch', // H(JCS(manifest)) differs from the chain's manifestHash
  'roll-invalid', // a roll key that is not canonical, of small order, off the curve, or repeated
  'roll-root-mismatch', // the roll's MTH differs from the chain's rollRoot
  'tally-mismatch', // the published results differ from the recount
  'result-hash-mismatch', // the chain's resultHash differs from H(JCS(recount))
  'total-ballots-mismatch', // the chain's totalBallots differs from the ledger's ballot count
  'chain-mismatch', // the server names another chain or contract than the one checked
  // --- an encrypted election (wire format v2) ---
  'invalid-proof', // a v2 ballot's point is not a group element, a scalar not canonical, or a proof fails (seq)
  'trustee-message-invalid', // a trustee's message is unsigned, malformed, out of order, or its proof fails (trustee)
  'transcript-invalid', // the key ceremony's transcript does not give the election key, or says otherwise
  'aggregate-mismatch', // the published aggregate is not the sum of the ledger's ballots, or not what was decrypted
  'partial-decryption-invalid', // a trustee's partial decryption proof fails (trustee, contest, choice)
  'decryption-mismatch', // the published decryption differs from the recombination of the trustees' shares
  'decryption-incomplete', // fewer than threshold valid partial decryptions (warning before the close, then error)
  'opening-mismatch', // an audited ballot's opening does not give its ciphertexts or its ballotHash
  // --- a receipt ---
  'bad-receipt-signature', // the receipt's signature does not verify against the manifest's ledgerKey
  'receipt-mismatch', // the server's receipt differs from the voter's copy, or from the requested hash
  'inclusion-proof-invalid', // the audit path does not lead to the anchored root (own code or the contract's)
  'not-anchored', // the ballot is pending or sealed: not on chain yet
  'anchor-overdue', // not anchored although the receipt's promise has expired
] as const;

export type FindingCode = (typeof FINDING_CODES)[number];

export type Severity = 'error' | 'warning';

/**
 * One result of a check that did not hold. `shard`, `seq`, `window`, `interval` and `trustee` name where, when
 * they apply (`shard` only in an election of several shards, where seqs and windows are the shard's own).
 */
export interface Finding {
  code: FindingCode;
  severity: Severity;
  message: string;
  shard?: number;
  seq?: number;
  window?: number;
  /** An election of several shards: the anchor interval. */
  interval?: number;
  /** An encrypted election's trustee (its id), for its transcript messages and partial decryptions. */
  trustee?: string;
}

export function isFindingCode(value: string): value is FindingCode {
  return (FINDING_CODES as readonly string[]).includes(value);
}

/**
 * A check that failed. Pure steps throw it; the commands turn it into a Finding. The message says
 * what failed and names the seq or window.
 */
export class VerificationError extends Error {
  readonly code: FindingCode;
  readonly seq?: number;
  readonly window?: number;

  constructor(code: FindingCode, message: string, where: { seq?: number; window?: number } = {}) {
    super(message);
    this.name = 'VerificationError';
    this.code = code;
    if (where.seq !== undefined) this.seq = where.seq;
    if (where.window !== undefined) this.window = where.window;
  }

  toFinding(severity: Severity = 'error'): Finding {
    return finding(this.code, this.message, { seq: this.seq, window: this.window }, severity);
  }
}

/**
 * Not a verification result: the verifier could not do its job (bad arguments, unreadable file, a
 * server or RPC endpoint that does not answer). Exit code 2.
 */
export class InputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InputError';
  }
}

/** Where a finding is. */
export interface FindingPlace {
  shard?: number | undefined;
  seq?: number | undefined;
  window?: number | undefined;
  interval?: number | undefined;
  trustee?: string | undefined;
}

export function finding(
  code: FindingCode,
  message: string,
  where: FindingPlace = {},
  severity: Severity = 'error',
): Finding {
  const f: Finding = { code, severity, message };
  if (where.shard !== undefined) f.shard = where.shard;
  if (where.seq !== undefined) f.seq = where.seq;
  if (where.window !== undefined) f.window = where.window;
  if (where.interval !== undefined) f.interval = where.interval;
  if (where.trustee !== undefined) f.trustee = where.trustee;
  return f;
}

/** Exit codes of every command (documented in --help and docs/auditors.md). */
export const EXIT = {
  /** Every check holds. */
  ok: 0,
  /** At least one check failed. */
  failed: 1,
  /** Usage error, unreadable input, unreachable server or chain. */
  usage: 2,
  /** `receipt` only: the ballot is acknowledged but not yet anchored; try again later. */
  notYetAnchored: 3,
} as const;
