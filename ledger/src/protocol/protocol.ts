// Wire format v1 (docs/protocol.md): the shapes Tallyproof signs and hashes, their validation, and the
// derived values (manifestHash, rollRoot, ballotHash, receipt signatures). Validation is strict: exact
// key sets, exact types, lowercase hex; a signed object is refused, never rewritten.
import { scrypt } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { jcs, jcsBytes } from './jcs.js';
import { isHex, sha256, toHex } from './hash.js';
import { merkleRoot } from './merkle.js';
import { keyPairFromSeed, signMessage, publicKeyProblem } from './ed25519.js';

export const BALLOT_DOMAIN = 'tallyproof:ballot:v1:';
export const RECEIPT_DOMAIN = 'tallyproof:receipt:v1:';
export const CREDENTIAL_SALT_PREFIX = 'tallyproof:credential:v1:';
export const ID_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** RFC 3339 UTC with milliseconds, as `Date.prototype.toISOString` writes it. */
export const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const DEFAULT_WINDOW_SECONDS = 60;
export const MAX_TITLE_LENGTH = 500;
export const MAX_CONTESTS = 64;
export const MAX_CHOICES = 256;

export interface Choice {
  id: string;
  label: string;
}
export interface Contest {
  id: string;
  title: string;
  choices: Choice[];
  minSelections: number;
  maxSelections: number;
}
/** A trustee of an encrypted election (docs/protocol.md 12.2): its id and Ed25519 message-signing key. */
export interface Trustee {
  id: string;
  key: string;
}
/**
 * An election manifest. Version 1 is a plaintext election and has none of the optional keys; version 2
 * (docs/protocol.md 12.2) is an encrypted one and has all three.
 */
export interface Manifest {
  version: 1 | 2;
  electionId: string;
  title: string;
  contests: Contest[];
  opensAt: string;
  closesAt: string;
  windowSeconds: number;
  ledgerKey: string;
  ballotMode?: 'encrypted';
  trustees?: Trustee[];
  threshold?: number;
  /** Shards of the ledger (docs/protocol.md 13.1), 1..1024; absent means 1. */
  shards?: number;
}
export const MAX_SHARDS = 1024;
export const MAX_TRUSTEES = 16;
/** Version 2: the sum over contests of the number of choices. */
export const MAX_ENCRYPTED_CHOICES = 64;
export interface Ballot {
  version: 1;
  electionId: string;
  credential: string;
  selections: Record<string, string[]>;
}
export interface Submission {
  ballot: Ballot;
  signature: string;
}
export interface ReceiptBody {
  version: 1;
  electionId: string;
  /** Present exactly in an election of several shards (docs/protocol.md 13.3), and then signed too. */
  shard?: number;
  seq: number;
  ballotHash: string;
  receivedAt: string;
}
export interface Receipt extends ReceiptBody {
  signature: string;
}

/** A problem found while validating; `path` names the offending field. */
export class ValidationError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'ValidationError';
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

function exactKeys(
  v: Record<string, unknown>,
  required: readonly string[],
  optional: readonly string[],
  path: string,
): void {
  for (const k of required) if (!Object.hasOwn(v, k)) throw new ValidationError(`${path}.${k}`, 'is required');
  for (const k of Object.keys(v))
    if (!required.includes(k) && !optional.includes(k)) throw new ValidationError(`${path}.${k}`, 'is not allowed');
}

function str(v: unknown, path: string, max: number): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max)
    throw new ValidationError(path, `must be a string of 1..${max} characters`);
  return v;
}

function id(v: unknown, path: string): string {
  if (typeof v !== 'string' || !ID_RE.test(v)) throw new ValidationError(path, 'must match ^[a-z0-9][a-z0-9-]{0,63}$');
  return v;
}

function int(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new ValidationError(path, `must be an integer in [${min}, ${max}]`);
  return v;
}

function time(v: unknown, path: string): string {
  if (typeof v !== 'string' || !TIME_RE.test(v) || new Date(v).toISOString() !== v)
    throw new ValidationError(path, 'must be RFC 3339 UTC with milliseconds, e.g. 2026-01-01T00:00:00.000Z');
  return v;
}

/**
 * Validate a manifest as submitted by an election creator and fill in the server's defaults
 * (`windowSeconds`, `ledgerKey`). Throws ValidationError. A given ledgerKey must equal `serverLedgerKey`.
 */
export function normalizeManifest(input: unknown, serverLedgerKey: string): Manifest {
  if (!isPlainObject(input)) throw new ValidationError('manifest', 'must be an object');
  if (input.version !== 1 && input.version !== 2) throw new ValidationError('manifest.version', 'must be 1 or 2');
  const encrypted = input.version === 2;
  exactKeys(
    input,
    ['version', 'electionId', 'title', 'contests', 'opensAt', 'closesAt', ...(encrypted ? V2_KEYS : [])],
    ['windowSeconds', 'ledgerKey', 'shards'],
    'manifest',
  );
  const electionId = id(input.electionId, 'manifest.electionId');
  const title = str(input.title, 'manifest.title', MAX_TITLE_LENGTH);
  if (!Array.isArray(input.contests) || input.contests.length === 0 || input.contests.length > MAX_CONTESTS)
    throw new ValidationError('manifest.contests', `must be an array of 1..${MAX_CONTESTS} contests`);
  const contestIds = new Set<string>();
  const contests: Contest[] = input.contests.map((c, i) => {
    const p = `manifest.contests[${i}]`;
    if (!isPlainObject(c)) throw new ValidationError(p, 'must be an object');
    exactKeys(c, ['id', 'title', 'choices', 'minSelections', 'maxSelections'], [], p);
    const cid = id(c.id, `${p}.id`);
    if (contestIds.has(cid)) throw new ValidationError(`${p}.id`, `repeats contest id ${cid}`);
    contestIds.add(cid);
    if (!Array.isArray(c.choices) || c.choices.length === 0 || c.choices.length > MAX_CHOICES)
      throw new ValidationError(`${p}.choices`, `must be an array of 1..${MAX_CHOICES} choices`);
    const choiceIds = new Set<string>();
    const choices: Choice[] = c.choices.map((k, j) => {
      const q = `${p}.choices[${j}]`;
      if (!isPlainObject(k)) throw new ValidationError(q, 'must be an object');
      exactKeys(k, ['id', 'label'], [], q);
      const kid = id(k.id, `${q}.id`);
      if (choiceIds.has(kid)) throw new ValidationError(`${q}.id`, `repeats choice id ${kid}`);
      choiceIds.add(kid);
      return { id: kid, label: str(k.label, `${q}.label`, MAX_TITLE_LENGTH) };
    });
    const minSelections = int(c.minSelections, `${p}.minSelections`, 0, choices.length);
    const maxSelections = int(c.maxSelections, `${p}.maxSelections`, 1, choices.length);
    if (minSelections > maxSelections) throw new ValidationError(`${p}.minSelections`, 'must not exceed maxSelections');
    return { id: cid, title: str(c.title, `${p}.title`, MAX_TITLE_LENGTH), choices, minSelections, maxSelections };
  });
  const opensAt = time(input.opensAt, 'manifest.opensAt');
  const closesAt = time(input.closesAt, 'manifest.closesAt');
  if (Date.parse(opensAt) >= Date.parse(closesAt))
    throw new ValidationError('manifest.closesAt', 'must be after opensAt');
  const windowSeconds =
    input.windowSeconds === undefined
      ? DEFAULT_WINDOW_SECONDS
      : int(input.windowSeconds, 'manifest.windowSeconds', 1, 86_400);
  let ledgerKey = serverLedgerKey;
  if (input.ledgerKey !== undefined) {
    if (!isHex(input.ledgerKey, 32)) throw new ValidationError('manifest.ledgerKey', 'must be 32-byte lowercase hex');
    if (input.ledgerKey !== serverLedgerKey)
      throw new ValidationError('manifest.ledgerKey', "is not this server's ledger key");
    ledgerKey = input.ledgerKey;
  }
  // Absent stays absent, so that a manifest without shards keeps its bytes and its hash.
  const shards = input.shards === undefined ? {} : { shards: int(input.shards, 'manifest.shards', 1, MAX_SHARDS) };
  const common = { electionId, title, contests, opensAt, closesAt, windowSeconds, ledgerKey };
  if (!encrypted) return { version: 1, ...common, ...shards };
  return { version: 2, ...common, ...encryptedManifestFields(input, contests), ...shards };
}

const V2_KEYS = ['ballotMode', 'trustees', 'threshold'];

/** The version 2 keys (docs/protocol.md 12.2), checked. */
function encryptedManifestFields(
  input: Record<string, unknown>,
  contests: Contest[],
): { ballotMode: 'encrypted'; trustees: Trustee[]; threshold: number } {
  if (input.ballotMode !== 'encrypted') throw new ValidationError('manifest.ballotMode', 'must be "encrypted"');
  const totalChoices = contests.reduce((n, c) => n + c.choices.length, 0);
  if (totalChoices > MAX_ENCRYPTED_CHOICES)
    throw new ValidationError('manifest.contests', `may have at most ${MAX_ENCRYPTED_CHOICES} choices in all`);
  if (!Array.isArray(input.trustees) || input.trustees.length === 0 || input.trustees.length > MAX_TRUSTEES)
    throw new ValidationError('manifest.trustees', `must be an array of 1..${MAX_TRUSTEES} trustees`);
  const ids = new Set<string>();
  const keys = new Set<string>();
  const trustees = input.trustees.map((t, i): Trustee => {
    const p = `manifest.trustees[${i}]`;
    if (!isPlainObject(t)) throw new ValidationError(p, 'must be an object');
    exactKeys(t, ['id', 'key'], [], p);
    const tid = id(t.id, `${p}.id`);
    if (ids.has(tid)) throw new ValidationError(`${p}.id`, `repeats trustee id ${tid}`);
    if (!isHex(t.key, 32)) throw new ValidationError(`${p}.key`, 'must be 32-byte lowercase hex');
    if (credentialProblem(Buffer.from(t.key, 'hex')) !== null)
      throw new ValidationError(`${p}.key`, 'must be a canonical Ed25519 key not of small order');
    if (keys.has(t.key)) throw new ValidationError(`${p}.key`, 'repeats a trustee key');
    ids.add(tid);
    keys.add(t.key);
    return { id: tid, key: t.key };
  });
  const threshold = int(input.threshold, 'manifest.threshold', 1, trustees.length);
  return { ballotMode: 'encrypted', trustees, threshold };
}

export function manifestHash(manifest: Manifest): Buffer {
  return sha256(jcsBytes(manifest));
}

/** Why a credential key is refused (non-canonical, small order, not a curve point), or null. */
export function credentialProblem(raw: Uint8Array): string | null {
  const problem = publicKeyProblem(raw);
  if (problem) return problem;
  try {
    ed25519.Point.fromBytes(raw, false);
  } catch {
    return 'key-not-on-curve';
  }
  return null;
}

/** rollRoot = MTH over the keys' 32 raw bytes, sorted ascending. */
export function rollRoot(sortedKeys: readonly Uint8Array[]): Buffer {
  return merkleRoot(sortedKeys);
}

/**
 * Check the submission's shape (not the manifest rules, not the signature). Returns it typed.
 * Throws ValidationError; `invalid-hex` problems are flagged through `hexError`.
 */
export function parseSubmission(input: unknown): Submission {
  if (!isPlainObject(input)) throw new ValidationError('body', 'must be an object');
  exactKeys(input, ['ballot', 'signature'], [], 'body');
  const b = input.ballot;
  if (!isPlainObject(b)) throw new ValidationError('body.ballot', 'must be an object');
  exactKeys(b, ['version', 'electionId', 'credential', 'selections'], [], 'body.ballot');
  if (b.version !== 1) throw new ValidationError('body.ballot.version', 'must be 1');
  id(b.electionId, 'body.ballot.electionId');
  if (!isHex(b.credential, 32)) throw new HexError('body.ballot.credential', 'must be 32-byte lowercase hex');
  if (!isPlainObject(b.selections)) throw new ValidationError('body.ballot.selections', 'must be an object');
  const contests = Object.keys(b.selections);
  if (contests.length > MAX_CONTESTS)
    throw new ValidationError('body.ballot.selections', `has more than ${MAX_CONTESTS} contests`);
  for (const c of contests) {
    const list = b.selections[c];
    if (!Array.isArray(list) || list.length > MAX_CHOICES)
      throw new ValidationError(`body.ballot.selections.${c.slice(0, 64)}`, 'must be an array of choice ids');
    for (const k of list)
      if (typeof k !== 'string' || k.length > 64)
        throw new ValidationError(`body.ballot.selections.${c.slice(0, 64)}`, 'must contain choice id strings');
  }
  if (!isHex(input.signature, 64)) throw new HexError('body.signature', 'must be 64-byte lowercase hex');
  return input as unknown as Submission;
}

/** A shape problem in a byte field: reported as `invalid-hex`. */
export class HexError extends ValidationError {}

/** Why the selections break the manifest, or null when they are legal. */
export function selectionsProblem(manifest: Manifest, selections: Record<string, string[]>): string | null {
  const given = Object.keys(selections);
  for (const c of given) if (!manifest.contests.some((x) => x.id === c)) return `unknown contest ${c.slice(0, 64)}`;
  for (const contest of manifest.contests) {
    // Own properties only: ids such as `constructor` are also names every object inherits.
    if (!Object.hasOwn(selections, contest.id)) return `contest ${contest.id} is missing`;
    const list = selections[contest.id]!;
    const seen = new Set<string>();
    for (const k of list) {
      if (!contest.choices.some((x) => x.id === k)) return `contest ${contest.id}: unknown choice ${k.slice(0, 64)}`;
      if (seen.has(k)) return `contest ${contest.id}: choice ${k} repeats`;
      seen.add(k);
    }
    if (list.length < contest.minSelections || list.length > contest.maxSelections) {
      return `contest ${contest.id}: ${list.length} selections, allowed ${contest.minSelections}..${contest.maxSelections}`;
    }
  }
  return null;
}

/** The bytes a voter signs: "tallyproof:ballot:v1:" || JCS(ballot). */
export function ballotMessage(ballot: Ballot): Buffer {
  return Buffer.from(BALLOT_DOMAIN + jcs(ballot), 'utf8');
}

/** ballotHash = H(JCS({"ballot":…,"signature":…})), the receipt hash and the Merkle leaf. */
export function ballotHash(submission: Submission): Buffer {
  return sha256(jcsBytes({ ballot: submission.ballot, signature: submission.signature }));
}

export function signBallot(seed: Uint8Array, ballot: Ballot): Submission {
  const kp = keyPairFromSeed(seed);
  return { ballot, signature: toHex(signMessage(kp.privateKeyObject, ballotMessage(ballot))) };
}

// Receipts live in receipt.ts; exported from here too, with the rest of wire format v1.
export { receiptJcs, receiptMessage, signReceipt, verifyReceipt } from './receipt.js';

/** Credential seed from a voter secret: scrypt(secret, "tallyproof:credential:v1:" || electionId, N=2^15, r=8, p=1, 32). */
export function deriveCredentialSeed(secret: string, electionId: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      Buffer.from(secret, 'utf8'),
      Buffer.from(CREDENTIAL_SALT_PREFIX + electionId, 'utf8'),
      32,
      { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

export async function deriveCredential(
  secret: string,
  electionId: string,
): Promise<{ seed: Buffer; publicKey: Buffer }> {
  const seed = await deriveCredentialSeed(secret, electionId);
  return { seed, publicKey: keyPairFromSeed(seed).publicKey };
}
