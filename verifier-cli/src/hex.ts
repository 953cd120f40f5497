// Bytes and hex as the wire format has them: lowercase hex without 0x (EVM values: 0x-prefixed).
// Attacker input is checked (isHex) before it is decoded; fromHex throws rather than truncate.
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

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

/** H(x) = SHA-256 (noble). */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/** H(a || b || …) without concatenating first (noble's incremental interface). */
export function sha256Parts(...parts: Uint8Array[]): Uint8Array {
  const h = nobleSha256.create();
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
