// Strict Ed25519 verification (RFC 8032 §5.1.7, cofactorless), as docs/protocol.md requires it:
//   1. the public key A and the signature's R are canonical encodings (RFC 8032 §5.1.3: y < p, and
//      no "negative zero" x) and are not one of the 8 points of small order;
//   2. S < L;
//   3. [S]B = R + [k]A with k = SHA-512(R || A || M) mod L, checked without the cofactor.
// Step 1 and 2 are ours (node:crypto checks neither all of them nor in this order). Step 3 has two
// engines: node:crypto (OpenSSL, fast, used in bulk) and noble's point arithmetic (pure JS, for
// cross-checks). Both give the same answer on every case of docs/test-vectors/ed25519-strict.json.
import { createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import type { EdwardsPoint } from '@noble/curves/abstract/edwards.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';

/** L, the order of the prime-order subgroup: 2^252 + 27742317777372353535851937790883648493. */
export const GROUP_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;

/** L as 32 little-endian bytes, the encoding S is compared against. */
const GROUP_ORDER_LE = Uint8Array.from(
  Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex'),
);

/** Canonical encodings of the eight points of small order (the torsion subgroup E[8]). */
export const SMALL_ORDER_ENCODINGS: readonly string[] = Object.freeze([
  '0100000000000000000000000000000000000000000000000000000000000000', // identity
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // (0, -1), order 2
  '0000000000000000000000000000000000000000000000000000000000000000', // order 4
  '0000000000000000000000000000000000000000000000000000000000000080', // order 4
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85', // order 8
]);
const SMALL_ORDER = new Set(SMALL_ORDER_ENCODINGS);
/** First bytes of the small-order encodings and of the negative-zero ones: a cheap pre-filter. */
const SUSPECT_FIRST_BYTES = new Set([0x00, 0x01, 0x26, 0xc7, 0xec]);

/** The two points with x = 0 (y = 1 and y = -1) encoded with the sign bit set: "negative zero". */
const NEGATIVE_ZERO_X = new Set([
  '0100000000000000000000000000000000000000000000000000000000000080',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
]);

/** Why a key or signature is refused; the vectors' `reason` values. */
export type StrictProblem =
  | 'key-length'
  | 'key-non-canonical'
  | 'key-small-order'
  | 'key-not-on-curve'
  | 'signature-length'
  | 'r-non-canonical'
  | 'r-small-order'
  | 's-non-canonical'
  | 'signature-invalid';

export type Engine = 'node' | 'noble';

const hexOf = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** RFC 8032 §5.1.3 decoding, steps 1 and 4: y < p = 2^255 - 19, and x = 0 is never encoded with x_0 = 1. */
export function isCanonicalPointEncoding(point: Uint8Array): boolean {
  if (point.length !== 32) return false;
  let yAtLeastP = (point[31]! & 0x7f) === 0x7f && point[0]! >= 0xed;
  for (let i = 1; yAtLeastP && i < 31; i++) if (point[i] !== 0xff) yAtLeastP = false;
  if (yAtLeastP) return false;
  return !SUSPECT_FIRST_BYTES.has(point[0]!) || !NEGATIVE_ZERO_X.has(hexOf(point));
}

/** The canonical encoding of a point of small order (order 1, 2, 4 or 8). */
export function isSmallOrderEncoding(point: Uint8Array): boolean {
  return SUSPECT_FIRST_BYTES.has(point[0]!) && SMALL_ORDER.has(hexOf(point));
}

/** RFC 8032 §5.1.7 step 1: 0 <= S < L, comparing 256-bit little-endian integers. */
export function isCanonicalScalar(s: Uint8Array): boolean {
  if (s.length !== 32) return false;
  for (let i = 31; i >= 0; i--) {
    if (s[i]! < GROUP_ORDER_LE[i]!) return true;
    if (s[i]! > GROUP_ORDER_LE[i]!) return false;
  }
  return false; // S == L
}

/**
 * Whether publicKeyProblem can refuse a 32-byte key whose first byte is `firstByte`: y >= p needs a first
 * byte of at least 0xed, and the small-order and negative-zero encodings start with one of SUSPECT_FIRST_BYTES.
 * Any other key is acceptable without looking further.
 */
export function keyMayBeRefused(firstByte: number): boolean {
  return firstByte >= 0xed || SUSPECT_FIRST_BYTES.has(firstByte);
}

/** A public key (or a credential on the roll) is acceptable: canonical, not of small order. */
export function publicKeyProblem(publicKey: Uint8Array): StrictProblem | null {
  if (publicKey.length !== 32) return 'key-length';
  if (!isCanonicalPointEncoding(publicKey)) return 'key-non-canonical';
  if (isSmallOrderEncoding(publicKey)) return 'key-small-order';
  return null;
}

/** Like publicKeyProblem, and the encoding decodes to a curve point (roll keys are checked this way). */
export function credentialProblem(publicKey: Uint8Array): StrictProblem | null {
  const problem = publicKeyProblem(publicKey);
  if (problem !== null) return problem;
  try {
    ed25519.Point.fromBytes(publicKey, false);
  } catch {
    return 'key-not-on-curve';
  }
  return null;
}

/** Steps 1 and 2 for the signature: R canonical and not of small order, S < L. */
export function signatureEncodingProblem(signature: Uint8Array): StrictProblem | null {
  if (signature.length !== 64) return 'signature-length';
  const r = signature.subarray(0, 32);
  if (!isCanonicalPointEncoding(r)) return 'r-non-canonical';
  if (isSmallOrderEncoding(r)) return 'r-small-order';
  if (!isCanonicalScalar(signature.subarray(32, 64))) return 's-non-canonical';
  return null;
}

/** node:crypto public key from 32 raw bytes, through JWK (no DER wrapping). */
export function nodePublicKey(publicKey: Uint8Array): KeyObject {
  return createPublicKey({
    key: {
      kty: 'OKP',
      crv: 'Ed25519',
      x: Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('base64url'),
    },
    format: 'jwk',
  });
}

/** Step 3 with node:crypto (OpenSSL's cofactorless check). Encodings must already be checked. */
export function verifyEquationNode(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): StrictProblem | null {
  let key: KeyObject;
  try {
    key = nodePublicKey(publicKey);
  } catch {
    return 'key-not-on-curve';
  }
  try {
    return nodeVerify(null, message, key, signature) ? null : 'signature-invalid';
  } catch {
    return 'signature-invalid';
  }
}

function littleEndianToBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/**
 * Step 3 with noble's point arithmetic, cofactorless as RFC 8032 §5.1.7 writes it:
 * k = SHA-512(dom || R || A || M) mod L (dom empty for pure Ed25519), then [S]B == R + [k]A.
 */
export function verifyEquationNoble(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): StrictProblem | null {
  const rBytes = signature.subarray(0, 32);
  let A: EdwardsPoint;
  let R: EdwardsPoint;
  try {
    A = ed25519.Point.fromBytes(publicKey, false);
  } catch {
    return 'key-not-on-curve';
  }
  try {
    R = ed25519.Point.fromBytes(rBytes, false);
  } catch {
    return 'signature-invalid';
  }
  const S = littleEndianToBigInt(signature.subarray(32, 64));
  const digest = new Uint8Array(64 + message.length);
  digest.set(rBytes, 0);
  digest.set(publicKey, 32);
  digest.set(message, 64);
  const k = littleEndianToBigInt(sha512(digest)) % GROUP_ORDER;
  const sB = ed25519.Point.BASE.multiplyUnsafe(S);
  const rPlusKA = R.add(A.multiplyUnsafe(k));
  return sB.equals(rPlusKA) ? null : 'signature-invalid';
}

/**
 * Strict verification: null when the signature is valid, else the first rule it breaks.
 * Defensive about lengths; never throws.
 */
export function verifyStrict(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  engine: Engine = 'node',
): StrictProblem | null {
  const keyProblem = publicKeyProblem(publicKey);
  if (keyProblem !== null) return keyProblem;
  const sigProblem = signatureEncodingProblem(signature);
  if (sigProblem !== null) return sigProblem;
  return engine === 'node'
    ? verifyEquationNode(publicKey, message, signature)
    : verifyEquationNoble(publicKey, message, signature);
}
