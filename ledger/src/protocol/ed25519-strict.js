// Strict RFC 8032 Ed25519 checks that node:crypto (OpenSSL) does not make on its own, shared by the main
// thread and the verification worker threads. Plain JavaScript so that worker threads can load it
// without a TypeScript loader. Cofactorless verification itself is OpenSSL's.
import { createPublicKey, verify } from 'node:crypto';

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
export function isScalarCanonical(s) {
  for (let i = 31; i >= 0; i--) {
    if (s[i] < L_LE[i]) return true;
    if (s[i] > L_LE[i]) return false;
  }
  return false; // S == L
}

/** The encoded y (sign bit cleared) is < p = 2^255 - 19. */
export function isPointEncodingCanonical(p) {
  if ((p[31] & 0x7f) !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (p[i] !== 0xff) return true;
  return p[0] < 0xed;
}

export function isSmallOrderEncoding(p) {
  return SMALL_ORDER.has(Buffer.from(p.buffer, p.byteOffset, 32).toString('hex'));
}

/** Why an encoded public key is unacceptable, or null when it is a canonical point not of small order. */
export function publicKeyProblem(key) {
  if (key.length !== 32) return 'key-length';
  if (!isPointEncodingCanonical(key)) return 'key-non-canonical';
  if (isSmallOrderEncoding(key)) return 'key-small-order';
  return null;
}

/** Why a signature's encoding is unacceptable before the curve equation is checked, or null. */
export function signatureEncodingProblem(sig) {
  if (sig.length !== 64) return 'signature-length';
  const r = sig.subarray(0, 32);
  if (!isPointEncodingCanonical(r)) return 'r-non-canonical';
  if (isSmallOrderEncoding(r)) return 'r-small-order';
  if (!isScalarCanonical(sig.subarray(32, 64))) return 's-non-canonical';
  return null;
}

/** node:crypto KeyObject from a raw 32-byte key via JWK (the fast path: no SPKI DER per call). */
export function keyObjectFromRaw(key) {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(key).toString('base64url') }, format: 'jwk' });
}

/**
 * Strict Ed25519 verification: the encoding checks above, then OpenSSL's cofactorless check.
 * Returns null when valid, else a short reason code. `keyObject` may be passed to skip re-importing.
 */
export function strictVerify(publicKey, message, signature, keyObject) {
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
