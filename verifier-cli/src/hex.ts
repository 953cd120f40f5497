// Bytes and hex as the wire format has them: lowercase hex without 0x (EVM values: 0x-prefixed).
// Attacker input is checked (isHex) before it is decoded; fromHex throws rather than truncate.
// SHA-256 is node:crypto's (OpenSSL, like the Ed25519 equation of the default engine): the audit hashes
// every ballot and about four Merkle nodes per ballot, and a one-shot OpenSSL hash of a 65-byte node
// costs half of what a pure-JS one does. The tests check it against noble's SHA-256 and the vectors.
import * as nodeCrypto from 'node:crypto';

const HEX_RE = /^(?:[0-9a-f]{2})*$/;

/** `value` is lowercase hex of exactly `bytes` bytes (no 0x). */
export function isHex(value: unknown, bytes: number): value is string {
  return typeof value === 'string' && value.length === bytes * 2 && HEX_RE.test(value);
}

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** The bytes of an even-length hex string; throws on anything else (no silent truncation). */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new TypeError(`not a hex string: ${short(hex)}`);
  return Buffer.from(hex, 'hex');
}

/** fromHex for a string already checked with isHex (the hot path skips the second check). */
export function fromCheckedHex(hex: string): Uint8Array {
  return Buffer.from(hex, 'hex');
}

const encoder = new TextEncoder();

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** crypto.hash (one-shot, Node >= 20.12 / 21.7), when this Node has it. */
const oneShotHash = (
  nodeCrypto as {
    hash?: (algorithm: string, data: Uint8Array, encoding: 'buffer' | 'latin1' | 'hex') => Buffer | string;
  }
).hash;

/** H(x) = SHA-256. */
export function sha256(data: Uint8Array): Uint8Array {
  return oneShotHash !== undefined
    ? (oneShotHash('sha256', data, 'buffer') as Buffer)
    : nodeCrypto.createHash('sha256').update(data).digest();
}

// The hot paths take the digest as a string: crypto.hash allocates a Buffer per call when asked for
// one, which costs about as much as the hashing itself for a 65-byte Merkle node.

/** H(x) as lowercase hex. */
export function sha256Hex(data: Uint8Array): string {
  return oneShotHash !== undefined
    ? (oneShotHash('sha256', data, 'hex') as string)
    : nodeCrypto.createHash('sha256').update(data).digest('hex');
}

/** Writes H(x) into `out` at `offset` (32 bytes). */
export function sha256Into(data: Uint8Array, out: Buffer, offset: number): void {
  const digest =
    oneShotHash !== undefined
      ? (oneShotHash('sha256', data, 'latin1') as string)
      : nodeCrypto.createHash('sha256').update(data).digest('binary');
  out.write(digest, offset, 32, 'latin1');
}

/** H(a || b || …) without concatenating first. */
export function sha256Parts(...parts: Uint8Array[]): Uint8Array {
  const h = nodeCrypto.createHash('sha256');
  for (const part of parts) h.update(part);
  return h.digest();
}

/** 0x-prefixed lowercase hex of a 32-byte value, as ethers takes bytes32. */
export function toBytes32(hex: string): string {
  return `0x${hex}`;
}

/** Lowercase hex without 0x from an ethers bytes32 (`0x…`). */
export function fromBytes32(value: string): string {
  return value.toLowerCase().replace(/^0x/, '');
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Bytewise ascending order (the roll's sort order). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** A short form of a hex value for messages: first 12 characters and an ellipsis. */
export function short(hex: string): string {
  return hex.length > 16 ? `${hex.slice(0, 12)}…` : hex;
}
