// Wire format v1 (docs/protocol.md, normative), re-implemented from the text: the field rules every document
// shares, the manifest (and the ballot rules it sets), receipts and resultHash. A ballot, its signed
// message and ballotHash are in ballot.ts; the roll in roll.ts. Everything parsed here comes from the
// server or a file, so it is checked field by field and never trusted to have the right shape.
import { VerificationError } from './errors.js';
import { isHex, sha256, utf8 } from './hex.js';
import { jcs } from './jcs.js';

/** Domain prefix of the message the ledger key signs (a voter's: ballot.ts BALLOT_DOMAIN). */
export const RECEIPT_DOMAIN = 'tallyproof:receipt:v1:';
/** How long after receivedAt the ledger promises the anchor, beyond windowSeconds. */
export const ANCHOR_GRACE_SECONDS = 30;

export const ID_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** RFC 3339 UTC with milliseconds. */
export const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

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
export interface Manifest {
  version: 1;
  electionId: string;
  title: string;
  contests: Contest[];
  opensAt: string;
  closesAt: string;
  windowSeconds: number;
  ledgerKey: string;
  /** The ledger's shards (docs/protocol.md 13.1), 1..1024; absent means 1. */
  shards?: number;
}
export interface Receipt {
  version: 1;
  electionId: string;
  /** Present exactly in an election of several shards (docs/protocol.md 13.3), and signed. */
  shard?: number;
  seq: number;
  ballotHash: string;
  receivedAt: string;
  signature: string;
}
/** Tally: contest id → choice id → count, every choice listed. */
export type Tally = Record<string, Record<string, number>>;

/** Per contest: ballots counted (the basis of percentages) and blank ballots; not part of resultHash. */
export type ContestCounts = Record<string, { ballotsCounted: number; blank: number }>;

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function hasExactKeys(v: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(v);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(v, k));
}

/** `v` has every key of `keys`, and otherwise only keys of `optional`. */
export function hasKeys(v: Record<string, unknown>, keys: readonly string[], optional: readonly string[]): boolean {
  const extra = Object.keys(v).filter((k) => !keys.includes(k));
  return keys.every((k) => Object.hasOwn(v, k)) && extra.every((k) => optional.includes(k));
}

export function isTime(v: unknown): v is string {
  return !Number.isNaN(timeMs(v));
}

/** `v` as ms since the epoch when it is an RFC 3339 UTC time with milliseconds (and a real date), else NaN. */
export function timeMs(v: unknown): number {
  if (typeof v !== 'string' || !TIME_RE.test(v)) return Number.NaN;
  const ms = Date.parse(v);
  return !Number.isNaN(ms) && new Date(ms).toISOString() === v ? ms : Number.NaN;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

// ---------------------------------------------------------------------------------------------
// Manifest
// ---------------------------------------------------------------------------------------------

const MANIFEST_KEYS = [
  'version',
  'electionId',
  'title',
  'contests',
  'opensAt',
  'closesAt',
  'windowSeconds',
  'ledgerKey',
] as const;
const CONTEST_KEYS = ['id', 'title', 'choices', 'minSelections', 'maxSelections'] as const;
/** The largest `shards` a manifest may name (docs/protocol.md 13.1). */
export const MAX_SHARDS = 1024;

/** Why a manifest's `shards` (absent, or an integer 1..1024) is not acceptable, or null. */
export function shardsProblem(input: Record<string, unknown>): string | null {
  if (!Object.hasOwn(input, 'shards')) return null;
  const s = input.shards;
  return typeof s === 'number' && Number.isSafeInteger(s) && s >= 1 && s <= MAX_SHARDS
    ? null
    : `manifest.shards must be an integer from 1 to ${MAX_SHARDS}`;
}

/** The manifest's shard count: 1 when it names none. */
export function shardCount(manifest: { shards?: number }): number {
  return manifest.shards ?? 1;
}

/** Why `input` is not a stored v1 manifest, or null. */
export function manifestProblem(input: unknown): string | null {
  if (!isPlainObject(input)) return 'the manifest is not a JSON object';
  if (!hasKeys(input, MANIFEST_KEYS, ['shards']))
    return `the manifest must have exactly the keys ${MANIFEST_KEYS.join(', ')} (and optionally shards)`;
  if (input.version !== 1) return 'manifest.version must be 1';
  const shards = shardsProblem(input);
  if (shards !== null) return shards;
  if (typeof input.electionId !== 'string' || !ID_RE.test(input.electionId))
    return 'manifest.electionId must match ^[a-z0-9][a-z0-9-]{0,63}$';
  if (typeof input.title !== 'string') return 'manifest.title must be a string';
  if (!isTime(input.opensAt) || !isTime(input.closesAt))
    return 'manifest.opensAt and closesAt must be RFC 3339 UTC times with milliseconds';
  if (!isCount(input.windowSeconds) || input.windowSeconds < 1) return 'manifest.windowSeconds must be an integer >= 1';
  if (!isHex(input.ledgerKey, 32)) return 'manifest.ledgerKey must be 32-byte lowercase hex';
  if (!Array.isArray(input.contests) || input.contests.length === 0)
    return 'manifest.contests must be a non-empty array';
  const contestIds = new Set<string>();
  for (const [i, c] of input.contests.entries()) {
    const at = `manifest.contests[${i}]`;
    if (!isPlainObject(c) || !hasExactKeys(c, CONTEST_KEYS))
      return `${at} must have exactly the keys ${CONTEST_KEYS.join(', ')}`;
    if (typeof c.id !== 'string' || !ID_RE.test(c.id) || contestIds.has(c.id)) return `${at}.id must be a unique id`;
    contestIds.add(c.id);
    if (typeof c.title !== 'string') return `${at}.title must be a string`;
    if (!Array.isArray(c.choices) || c.choices.length === 0) return `${at}.choices must be a non-empty array`;
    const choiceIds = new Set<string>();
    for (const [j, k] of c.choices.entries()) {
      if (!isPlainObject(k) || !hasExactKeys(k, ['id', 'label'])) return `${at}.choices[${j}] must be {"id","label"}`;
      if (typeof k.id !== 'string' || !ID_RE.test(k.id) || choiceIds.has(k.id))
        return `${at}.choices[${j}].id must be a unique id`;
      if (typeof k.label !== 'string') return `${at}.choices[${j}].label must be a string`;
      choiceIds.add(k.id);
    }
    if (
      !isCount(c.minSelections) ||
      !isCount(c.maxSelections) ||
      c.minSelections > c.maxSelections ||
      c.maxSelections > c.choices.length
    ) {
      return `${at} must have 0 <= minSelections <= maxSelections <= number of choices`;
    }
  }
  return null;
}

/** The manifest, typed, or VerificationError('manifest-invalid'). */
export function parseManifest(input: unknown): Manifest {
  const problem = manifestProblem(input);
  if (problem !== null) throw new VerificationError('manifest-invalid', problem);
  return input as Manifest;
}

/** manifestHash = H(JCS(manifest)), over the manifest exactly as served. */
export function manifestHash(manifest: unknown): Uint8Array {
  return sha256(utf8(jcs(manifest)));
}

// ---------------------------------------------------------------------------------------------
// Ballot rules (what the manifest allows a ballot; ballot.ts checks ballots against them)
// ---------------------------------------------------------------------------------------------

/**
 * The manifest's contests in a form the hot path can use: per contest, choice id → position in the
 * flat list of all choices (the tally's counters).
 */
export interface BallotRules {
  electionId: string;
  contests: { id: string; min: number; max: number; choices: Map<string, number> }[];
  /** Flat list of [contestId, choiceId], indexed as in `choices`. */
  flatChoices: [string, string][];
}

export function ballotRules(manifest: Manifest): BallotRules {
  const flatChoices: [string, string][] = [];
  const contests = manifest.contests.map((c) => {
    const choices = new Map<string, number>();
    for (const k of c.choices) {
      choices.set(k.id, flatChoices.length);
      flatChoices.push([c.id, k.id]);
    }
    return { id: c.id, min: c.minSelections, max: c.maxSelections, choices };
  });
  return { electionId: manifest.electionId, contests, flatChoices };
}

// ---------------------------------------------------------------------------------------------
// Receipts
// ---------------------------------------------------------------------------------------------

const RECEIPT_KEYS = ['version', 'electionId', 'seq', 'ballotHash', 'receivedAt', 'signature'] as const;

/** Why `input` is not a v1 receipt, or null. */
export function receiptProblem(input: unknown): string | null {
  if (!isPlainObject(input) || !hasKeys(input, RECEIPT_KEYS, ['shard']))
    return `a receipt has exactly the keys ${RECEIPT_KEYS.join(', ')} (and shard in an election of several shards)`;
  if (input.version !== 1) return 'receipt.version must be 1';
  if (typeof input.electionId !== 'string' || !ID_RE.test(input.electionId))
    return 'receipt.electionId is not an election id';
  if (Object.hasOwn(input, 'shard') && (!isCount(input.shard) || input.shard >= MAX_SHARDS))
    return `receipt.shard must be an integer from 0 to ${MAX_SHARDS - 1}`;
  if (!isCount(input.seq)) return 'receipt.seq must be a non-negative integer';
  if (!isHex(input.ballotHash, 32)) return 'receipt.ballotHash must be 32-byte lowercase hex';
  if (!isTime(input.receivedAt)) return 'receipt.receivedAt must be an RFC 3339 UTC time with milliseconds';
  if (!isHex(input.signature, 64)) return 'receipt.signature must be 64-byte lowercase hex';
  return null;
}

/**
 * The bytes the ledger key signs: "tallyproof:receipt:v1:" || JCS(receipt without "signature"), `shard` included
 * when the receipt has one (docs/protocol.md 13.3).
 */
export function receiptMessage(receipt: Receipt): Uint8Array {
  const { version, electionId, shard, seq, ballotHash: hash, receivedAt } = receipt;
  const body =
    shard === undefined
      ? { version, electionId, seq, ballotHash: hash, receivedAt }
      : { version, electionId, shard, seq, ballotHash: hash, receivedAt };
  return utf8(RECEIPT_DOMAIN + jcs(body));
}

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

/** resultHash = H(JCS({"electionId","tally","totalBallots"})). */
export function resultHash(electionId: string, tally: Tally, totalBallots: number): Uint8Array {
  return sha256(utf8(jcs({ electionId, tally, totalBallots })));
}

/** A tally with every contest and choice of the manifest at zero. */
export function emptyTally(manifest: Manifest): Tally {
  // Object.fromEntries defines own data properties: ids may be names objects inherit (`constructor`).
  return Object.fromEntries(manifest.contests.map((c) => [c.id, Object.fromEntries(c.choices.map((k) => [k.id, 0]))]));
}

/** `v[key]` when `key` is an own property of `v`, else undefined: never a value inherited from a prototype. */
export function ownValue(v: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(v, key) ? v[key] : undefined;
}
