// The group of docs/protocol.md section 12.1: the prime-order subgroup of edwards25519 (order ℓ, base point
// G of RFC 8032), elements as 32-byte compressed encodings in lowercase hex, scalars as 32-byte little-endian
// hex below ℓ, and Hs, the hash to a scalar. Browser code on @noble/curves; nothing from the server.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { isHex, jcs } from '../protocol.js';

export type Point = ReturnType<typeof ed25519.Point.fromBytes>;

/** ℓ = 2^252 + 27742317777372353535851937790883648493. */
export const ORDER: bigint = ed25519.Point.Fn.ORDER;
/** p = 2^255 − 19, the field of the coordinates. */
const FIELD: bigint = ed25519.Point.Fp.ORDER;
export const G: Point = ed25519.Point.BASE;
export const IDENTITY: Point = ed25519.Point.ZERO;

/** Why an encoding is not a group element or a scalar (the four rules of 12.1, in the order checked). */
export type DecodeReason = 'not-hex' | 'non-canonical' | 'not-on-curve' | 'small-order' | 'not-in-subgroup';

export class DecodeError extends Error {
  constructor(
    readonly reason: DecodeReason,
    message: string,
  ) {
    super(message);
    this.name = 'DecodeError';
  }
}

export function mod(n: bigint): bigint {
  const r = n % ORDER;
  return r < 0n ? r + ORDER : r;
}

function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/** The 32-byte RFC 8032 encoding of a point, lowercase hex. */
export function encodePoint(P: Point): string {
  return bytesToHex(P.toBytes());
}

/**
 * A group element from its hex encoding, or a DecodeError naming the first rule broken: (1) canonical
 * (y < p, and not x = 0 with the sign bit set: the "negative zero" encodings), (2) on the curve, (3) not
 * of small order (the identity included), (4) in the prime-order subgroup (ℓ·P is the identity).
 */
export function decodePoint(hex: unknown): Point {
  if (!isHex(hex, 32)) throw new DecodeError('not-hex', 'a group element is 64 lowercase hex characters');
  const bytes = hexToBytes(hex);
  const signBit = (bytes[31]! & 0x80) !== 0;
  const yBytes = bytes.slice();
  yBytes[31] = yBytes[31]! & 0x7f;
  const y = littleEndian(yBytes);
  if (y >= FIELD) throw new DecodeError('non-canonical', 'the encoding is not canonical (y ≥ p)');
  // x = 0 only for y = ±1: with the sign bit set that is a "negative zero", which RFC 8032 refuses.
  if (signBit && (y === 1n || y === FIELD - 1n))
    throw new DecodeError('non-canonical', 'the encoding is not canonical (x = 0 with the sign bit set)');
  let P: Point;
  try {
    P = ed25519.Point.fromBytes(bytes, false);
  } catch {
    throw new DecodeError('not-on-curve', 'the encoding is not a point of the curve');
  }
  if (P.isSmallOrder()) throw new DecodeError('small-order', 'the point is of small order');
  if (!P.isTorsionFree()) throw new DecodeError('not-in-subgroup', 'the point is not in the prime-order subgroup');
  return P;
}

/** Whether `hex` is a group element (decodePoint would accept it). */
export function isGroupElement(hex: unknown): boolean {
  try {
    decodePoint(hex);
    return true;
  } catch {
    return false;
  }
}

/** A scalar from its hex encoding: 32 bytes little-endian, canonical (< ℓ); else a DecodeError. */
export function decodeScalar(hex: unknown): bigint {
  if (!isHex(hex, 32)) throw new DecodeError('not-hex', 'a scalar is 64 lowercase hex characters');
  const n = littleEndian(hexToBytes(hex));
  if (n >= ORDER) throw new DecodeError('non-canonical', 'the scalar is not canonical (≥ ℓ)');
  return n;
}

export function encodeScalar(n: bigint): string {
  let v = mod(n);
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return bytesToHex(bytes);
}

/** k·P for public values (variable time); any k, reduced mod ℓ. */
export function mul(P: Point, k: bigint): Point {
  return P.multiplyUnsafe(mod(k));
}

/** k·P for a secret k (the randomness of a ballot, a proof's nonce): noble's constant-time ladder. */
export function mulSecret(P: Point, k: bigint): Point {
  const r = mod(k);
  return r === 0n ? IDENTITY : P.multiply(r);
}

/** A uniformly random non-zero scalar: 64 bytes from crypto.getRandomValues reduced mod ℓ. */
export function randomScalar(): bigint {
  for (;;) {
    const n = mod(littleEndian(crypto.getRandomValues(new Uint8Array(64))));
    if (n !== 0n) return n;
  }
}

/** Hs(domain, obj) = int_le(SHA-512(UTF-8(domain) || UTF-8(JCS(obj)))) mod ℓ. */
export function hashToScalar(domain: string, obj: unknown): bigint {
  return mod(littleEndian(sha512(concatBytes(utf8ToBytes(domain), utf8ToBytes(jcs(obj))))));
}

/** a^{-1} mod ℓ (a ≠ 0 mod ℓ). */
export function invert(a: bigint): bigint {
  return ed25519.Point.Fn.inv(mod(a));
}

/** A point with its multiples precomputed: for H and the trustees' keys, multiplied many times. */
export function precomputed(P: Point): Point {
  return P.precompute(8, true);
}
