// Ed25519 for the server: keys from seeds, signing, and strict RFC 8032 verification — the encoding checks
// node:crypto (OpenSSL) does not make on its own, then OpenSSL's cofactorless equation. The main thread
// and the worker threads (workers/) share this module.
import { createPrivateKey, createPublicKey, sign as nodeSign, verify, type KeyObject } from 'node:crypto';

/** PKCS#8 DER prefix of an Ed25519 private key: the 32-byte seed follows it. */
export const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * Why a key or signature is refused, in the order they are checked. The index is how worker threads
 * answer (one byte per key or signature, 0 for acceptable); the first five apply to a key alone.
 */
export const ED25519_PROBLEMS = [
  'ok',
  'key-length',
  'key-non-canonical',
  'key-small-order',
  'key-not-on-curve',
  'signature-length',
  'r-non-canonical',
  'r-small-order',
  's-non-canonical',
  'signature-invalid',
] as const;

export type Ed25519Problem = Exclude<(typeof ED25519_PROBLEMS)[number], 'ok'>;

const PROBLEM_CODES = new Map<string, number>(ED25519_PROBLEMS.map((p, i) => [p, i]));

/** A problem as its one-byte code (0 for none); a string not in the table is a bug, and throws. */
export function ed25519ProblemCode(problem: string | null): number {
  if (problem === null) return 0;
  const code = PROBLEM_CODES.get(problem);
  if (code === undefined) throw new Error(`not an Ed25519 problem: ${problem}`);
  return code;
}

/** A one-byte code back to its problem (null for 0). */
export function ed25519ProblemOf(code: number): Ed25519Problem | null {
  return code === 0 ? null : ((ED25519_PROBLEMS[code] ?? 'signature-invalid') as Ed25519Problem);
}

// L = 2^252 + 27742317777372353535851937790883648493, little-endian, as the signature's S is encoded.
const L_LE = Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex');

// Canonical encodings of the eight points of small order (the torsion subgroup E[8]). A point that
// decodes to one of them, key or R, is refused. Non-canonical encodings are refused before this check.
const SMALL_ORDER = new Set([
  '0100000000000000000000000000000000000000000000000000000000000000', // identity, order 1
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // (0, -1), order 2
  '0000000000000000000000000000000000000000000000000000000000000000', // order 4
  '0000000000000000000000000000000000000000000000000000000000000080', // order 4
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85', // order 8
]);

/** S < L, compared as 256-bit little-endian integers. */
export function isScalarCanonical(s: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    if (s[i]! < L_LE[i]!) return true;
    if (s[i]! > L_LE[i]!) return false;
  }
  return false; // S == L
}

// The two points with x = 0, (0, 1) and (0, -1), encoded with the sign bit set ("negative zero"): RFC 8032
// §5.1.3 step 4 refuses them, OpenSSL decodes them as if the bit were clear.
const NEGATIVE_ZERO_X = new Set([
  '0100000000000000000000000000000000000000000000000000000000000080',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
]);

/** RFC 8032 §5.1.3: the encoded y (sign bit cleared) is < p = 2^255 - 19, and x = 0 has the sign bit clear. */
export function isPointEncodingCanonical(p: Uint8Array): boolean {
  // x = 0 only for y = 1 and y = p - 1: their first bytes spare every other key the hex encoding.
  if ((p[0] === 0x01 || p[0] === 0xec) && NEGATIVE_ZERO_X.has(Buffer.from(p.buffer, p.byteOffset, 32).toString('hex')))
    return false;
  if ((p[31]! & 0x7f) !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (p[i] !== 0xff) return true;
  return p[0]! < 0xed;
}

export function isSmallOrderEncoding(p: Uint8Array): boolean {
  return SMALL_ORDER.has(Buffer.from(p.buffer, p.byteOffset, 32).toString('hex'));
}

/** Why an encoded public key is unacceptable, or null when it is a canonical point not of small order. */
export function publicKeyProblem(key: Uint8Array): Ed25519Problem | null {
  if (key.length !== 32) return 'key-length';
  if (!isPointEncodingCanonical(key)) return 'key-non-canonical';
  if (isSmallOrderEncoding(key)) return 'key-small-order';
  return null;
}

/** Why a signature's encoding is unacceptable before the curve equation is checked, or null. */
export function signatureEncodingProblem(sig: Uint8Array): Ed25519Problem | null {
  if (sig.length !== 64) return 'signature-length';
  const r = sig.subarray(0, 32);
  if (!isPointEncodingCanonical(r)) return 'r-non-canonical';
  if (isSmallOrderEncoding(r)) return 'r-small-order';
  if (!isScalarCanonical(sig.subarray(32, 64))) return 's-non-canonical';
  return null;
}

/** node:crypto KeyObject from a raw 32-byte key via JWK (the fast path: no SPKI DER per call). */
export function keyObjectFromRaw(key: Uint8Array): KeyObject {
  const x = Buffer.from(key).toString('base64url');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

/**
 * Strict Ed25519 verification: the encoding checks above, then OpenSSL's cofactorless check.
 * Returns null when valid, else why not. `keyObject` may be passed to skip re-importing.
 */
export function strictVerify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  keyObject?: KeyObject,
): Ed25519Problem | null {
  const keyProblem = publicKeyProblem(publicKey);
  if (keyProblem) return keyProblem;
  const sigProblem = signatureEncodingProblem(signature);
  if (sigProblem) return sigProblem;
  let ko = keyObject;
  if (!ko) {
    try {
      ko = keyObjectFromRaw(publicKey);
    } catch {
      return 'key-not-on-curve';
    }
  }
  return verify(null, message, ko, signature) ? null : 'signature-invalid';
}

/** True when the signature verifies under strict RFC 8032 rules. */
export function verifyStrict(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  keyObject?: KeyObject,
): boolean {
  return strictVerify(publicKey, message, signature, keyObject) === null;
}

/** The private KeyObject of a 32-byte seed. */
export function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export interface Ed25519KeyPair {
  seed: Buffer;
  publicKey: Buffer;
  privateKeyObject: KeyObject;
}

/** RFC 8032 key pair from a 32-byte seed. */
export function keyPairFromSeed(seed: Uint8Array): Ed25519KeyPair {
  if (seed.length !== 32) throw new RangeError('an Ed25519 seed is 32 bytes');
  const privateKeyObject = privateKeyFromSeed(seed);
  const jwk = privateKeyObject.export({ format: 'jwk' });
  return { seed: Buffer.from(seed), publicKey: Buffer.from(jwk.x!, 'base64url'), privateKeyObject };
}

export function signMessage(privateKeyObject: KeyObject, message: Uint8Array): Buffer {
  return nodeSign(null, message, privateKeyObject);
}

/** Is `key` acceptable as a credential: canonical encoding of a point on the curve, not of small order. */
export function isAcceptableCredential(key: Uint8Array): boolean {
  if (publicKeyProblem(key) !== null) return false;
  try {
    keyObjectFromRaw(key);
    return true;
  } catch {
    return false;
  }
}
