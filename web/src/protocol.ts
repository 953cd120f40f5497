// The page's own implementation of what it signs, hashes and checks (docs/protocol.md): JCS, ballots,
// receipts, credentials, RFC 9162 inclusion proofs and shards (section 13). Browser code: noble for the cryptography, no
// Node built-ins, nothing imported from the server's folders.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import canonicalizeModule from 'canonicalize';

// canonicalize is CommonJS (module.exports = fn): a bundler's or Node's default import is the function
// itself, while TypeScript's NodeNext typing sees a namespace; accept both.
const canonicalize = ((canonicalizeModule as unknown as { default?: unknown }).default ?? canonicalizeModule) as (
  input: unknown,
) => string | undefined;

export const BALLOT_PREFIX = 'tallyproof:ballot:v1:';
export const RECEIPT_PREFIX = 'tallyproof:receipt:v1:';
export const CREDENTIAL_SALT_PREFIX = 'tallyproof:credential:v1:';
/** scrypt cost of derived credentials (protocol.md section 4). */
export const SCRYPT_PARAMS = { N: 2 ** 15, r: 8, p: 1, dkLen: 32 } as const;

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
  /** Section 13.1: present only in an election split into shards (absent: one shard). */
  shards?: number;
}
export type Selections = Record<string, string[]>;
export interface Ballot {
  version: 1;
  electionId: string;
  credential: string;
  selections: Selections;
}
export interface Submission {
  ballot: Ballot;
  signature: string;
}
export interface Receipt {
  version: 1;
  electionId: string;
  /** Section 13.3: present exactly in an election of several shards, and signed like the rest. */
  shard?: number;
  seq: number;
  ballotHash: string;
  receivedAt: string;
  signature: string;
}

export interface ProofBundle {
  receipt: Receipt;
  status: 'pending' | 'sealed' | 'anchored';
  window?: { shard?: number; index: number; firstSeq: number; count: number; root: string };
  inclusion?: { leafIndex: number; auditPath: string[] };
  /** Section 13.3: a sharded election's window record in its anchor interval (the tree of `windowCount`). */
  interval?: IntervalProof;
  anchor?: { chainId: number | null; contract: string | null; txHash: string; blockNumber: number | null };
}

export interface IntervalProof {
  index: number;
  windowCount: number;
  ballotCount: number;
  root: string;
  recordIndex: number;
  auditPath: string[];
}

export const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Lowercase hex of exactly `bytes` bytes (no 0x), as the wire format writes bytes. */
export function isHex(value: unknown, bytes: number): value is string {
  return typeof value === 'string' && value.length === 2 * bytes && /^[0-9a-f]*$/.test(value);
}

/** RFC 8785 canonical JSON. */
export function jcs(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON form');
  return text;
}

export function sha256Hex(data: Uint8Array | string): string {
  return bytesToHex(sha256(typeof data === 'string' ? utf8ToBytes(data) : data));
}

/** RFC 8032 public key (credential) of a 32-byte seed. */
export function publicKeyOf(seed: Uint8Array): string {
  return bytesToHex(ed25519.getPublicKey(seed));
}

/** seed = scrypt(secret, "tallyproof:credential:v1:" || electionId, N=2^15, r=8, p=1, 32). */
export async function deriveSeed(
  secret: string,
  electionId: string,
  onProgress?: (fraction: number) => void,
): Promise<Uint8Array> {
  return scryptAsync(utf8ToBytes(secret), utf8ToBytes(CREDENTIAL_SALT_PREFIX + electionId), {
    ...SCRYPT_PARAMS,
    // Yield to the page every few ms so the progress bar moves and the page stays responsive.
    asyncTick: 20,
    onProgress,
  });
}

export function ballotMessage(ballot: Ballot): Uint8Array {
  return utf8ToBytes(BALLOT_PREFIX + jcs(ballot));
}

export function signBallot(seed: Uint8Array, ballot: Ballot): Submission {
  return { ballot, signature: bytesToHex(ed25519.sign(ballotMessage(ballot), seed)) };
}

/** ballotHash = H(JCS({"ballot","signature"})): the receipt hash and the Merkle leaf. */
export function ballotHash(submission: Submission): string {
  return sha256Hex(jcs({ ballot: submission.ballot, signature: submission.signature }));
}

export function receiptMessage(receipt: Receipt): Uint8Array {
  const { signature: _omit, ...unsigned } = receipt;
  return utf8ToBytes(RECEIPT_PREFIX + jcs(unsigned));
}

/** L, the order of the prime-order subgroup (RFC 8032 §5.1). */
const GROUP_ORDER = ed25519.Point.Fn.ORDER;

function littleEndianToBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/**
 * Strict Ed25519 verification as docs/protocol.md section 5 requires it, the same rules as the server and
 * the verifier: A and R canonical (y < p, no x = 0 with the sign bit set) and not of small order, S < L,
 * and the cofactorless equation [S]B = R + [k]A. noble's own verify checks the cofactored equation and lets
 * a small-order R through, so only its point decoding and arithmetic are used here.
 */
export function verifyEd25519Strict(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  const rBytes = signature.subarray(0, 32);
  let A: ReturnType<typeof ed25519.Point.fromBytes>;
  let R: ReturnType<typeof ed25519.Point.fromBytes>;
  try {
    // zip215 = false is RFC 8032 §5.1.3 decoding: y >= p and "negative zero" x throw.
    A = ed25519.Point.fromBytes(publicKey, false);
    R = ed25519.Point.fromBytes(rBytes, false);
  } catch {
    return false;
  }
  if (A.isSmallOrder() || R.isSmallOrder()) return false;
  const S = littleEndianToBigInt(signature.subarray(32, 64));
  if (S >= GROUP_ORDER) return false;
  const k = littleEndianToBigInt(sha512(concatBytes(rBytes, publicKey, message))) % GROUP_ORDER;
  return ed25519.Point.BASE.multiplyUnsafe(S).equals(R.add(A.multiplyUnsafe(k)));
}

/** Strict RFC 8032 check (verifyEd25519Strict) of a receipt's signature by the ledger key. */
export function verifyReceiptSignature(receipt: Receipt, ledgerKey: string): boolean {
  if (!isHex(receipt.signature, 64) || !isHex(ledgerKey, 32)) return false;
  try {
    return verifyEd25519Strict(hexToBytes(ledgerKey), receiptMessage(receipt), hexToBytes(receipt.signature));
  } catch {
    return false; // a receipt JCS cannot serialise
  }
}

/** Is `value` a receipt of the wire format's shape (exactly its keys, typed)? */
export function isReceipt(value: unknown): value is Receipt {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const r = value as Record<string, unknown>;
  const keys = Object.keys(r).sort().join(',');
  // With "shard" (section 13.3) it is a sharded election's receipt; whether the election has shards is
  // the check's to decide (src/check.ts), with the manifest in hand.
  const sharded = keys === 'ballotHash,electionId,receivedAt,seq,shard,signature,version';
  if (sharded && !(Number.isSafeInteger(r.shard) && (r.shard as number) >= 0)) return false;
  return (
    (sharded || keys === 'ballotHash,electionId,receivedAt,seq,signature,version') &&
    r.version === 1 &&
    typeof r.electionId === 'string' &&
    Number.isSafeInteger(r.seq) &&
    (r.seq as number) >= 0 &&
    isHex(r.ballotHash, 32) &&
    typeof r.receivedAt === 'string' &&
    isHex(r.signature, 64)
  );
}

// ---------------------------------------------------------------------------------------------
// RFC 6962 / RFC 9162 inclusion proofs

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** H(0x00 || leaf). */
export function leafHash(leaf: Uint8Array): Uint8Array {
  return sha256(concatBytes(LEAF_PREFIX, leaf));
}

/** H(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(concatBytes(NODE_PREFIX, left, right));
}

export class InclusionProofError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InclusionProofError';
  }
}

/**
 * RFC 9162 §2.1.3.2: the root an inclusion proof leads to from `leaf` (its data; the leaf hash is
 * taken here). Throws InclusionProofError when the proof cannot be for a tree of `treeSize`.
 * Plain arithmetic (no 32-bit bitwise operators): indices stay exact up to 2^53.
 */
export function rootFromInclusionProof(
  leaf: Uint8Array,
  leafIndex: number,
  treeSize: number,
  auditPath: readonly Uint8Array[],
): Uint8Array {
  if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize) || leafIndex < 0) {
    throw new InclusionProofError('the leaf index and tree size must be non-negative integers');
  }
  // 1. leaf_index must be below tree_size.
  if (leafIndex >= treeSize)
    throw new InclusionProofError(`leaf index ${leafIndex} is not below the tree size ${treeSize}`);
  // 2. fn = leaf_index, sn = tree_size - 1.
  let fn = leafIndex;
  let sn = treeSize - 1;
  // 3. r = the leaf hash.
  let r = leafHash(leaf);
  const odd = (n: number) => n % 2 === 1;
  const half = (n: number) => Math.floor(n / 2);
  // 4. for each p in the path:
  for (const p of auditPath) {
    if (p.length !== 32) throw new InclusionProofError('audit path entries must be 32 bytes');
    // a. a path longer than the tree is deep
    if (sn === 0)
      throw new InclusionProofError(
        `the audit path has ${auditPath.length} entries, more than a tree of ${treeSize} needs`,
      );
    if (odd(fn) || fn === sn) {
      // b. r = H(0x01 || p || r); then, while fn is even and not 0, shift fn and sn right.
      r = nodeHash(p, r);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      // otherwise r = H(0x01 || r || p)
      r = nodeHash(r, p);
    }
    // c. shift fn and sn right once.
    fn = half(fn);
    sn = half(sn);
  }
  // 5. sn must be 0 (else the path is too short); the caller compares r with the trusted root.
  if (sn !== 0)
    throw new InclusionProofError(
      `the audit path has ${auditPath.length} entries, fewer than a tree of ${treeSize} needs`,
    );
  return r;
}

// ---------------------------------------------------------------------------------------------
// Shards (section 13)

/** The largest `shards` a manifest may name (13.1). */
export const MAX_SHARDS = 1024;

/** The manifest's shard count: 1 when it names none, null when what it names is not 1..1024. */
export function shardCountOf(manifest: Pick<Manifest, 'shards'>): number | null {
  const s: unknown = manifest.shards;
  if (s === undefined) return 1;
  return Number.isSafeInteger(s) && (s as number) >= 1 && (s as number) <= MAX_SHARDS ? (s as number) : null;
}

/** shard(credential) = uint32_be(SHA-256(credential)[0..4]) mod S, over the credential's 32 raw bytes (13.2). */
export function shardOf(credential: Uint8Array, shards: number): number {
  if (shards === 1) return 0;
  const digest = sha256(credential);
  // getUint32 reads unsigned big-endian (the 32-bit bitwise operators would be signed).
  return new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0, false) % shards;
}

/** A shard's window as its anchor interval names it. */
export interface WindowRecord {
  shard: number;
  windowIndex: number;
  firstSeq: number;
  count: number;
  /** The window's RFC 6962 root, lowercase hex. */
  root: string;
}

export const WINDOW_RECORD_BYTES = 60;

/**
 * The interval tree's leaf data (13.4): uint32_be(shard) || uint64_be(windowIndex) || uint64_be(firstSeq) ||
 * uint64_be(count) || root, 60 bytes. Throws RangeError for a field the record cannot hold.
 */
export function windowRecordBytes(r: WindowRecord): Uint8Array {
  const uint = (v: number, max: number) => Number.isSafeInteger(v) && v >= 0 && v <= max;
  if (!uint(r.shard, 0xffffffff)) throw new RangeError(`shard ${r.shard} is not a uint32`);
  for (const [name, v] of [
    ['windowIndex', r.windowIndex],
    ['firstSeq', r.firstSeq],
    ['count', r.count],
  ] as const) {
    if (!uint(v, Number.MAX_SAFE_INTEGER)) throw new RangeError(`${name} ${v} is not a non-negative integer`);
  }
  if (!isHex(r.root, 32)) throw new RangeError('the window root is not 32-byte hex');
  const out = new Uint8Array(WINDOW_RECORD_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, r.shard, false);
  view.setBigUint64(4, BigInt(r.windowIndex), false);
  view.setBigUint64(12, BigInt(r.firstSeq), false);
  view.setBigUint64(20, BigInt(r.count), false);
  out.set(hexToBytes(r.root), 28);
  return out;
}

export { bytesToHex, hexToBytes };
