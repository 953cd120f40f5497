// What every vector family shares: hashing and hex from @noble/hashes, JCS from canonicalize,
// deterministic seeds, and the RFC 6962 Merkle tree written recursively straight from §2.1.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import canonicalizeImport from 'canonicalize';

export const canonicalize = canonicalizeImport as unknown as (v: unknown) => string;
export const hex = bytesToHex;
export const H = (b: Uint8Array) => sha256(b);

/** Deterministic seeds: SHA-256 of a label, so anyone can re-derive them. */
export const seedOf = (label: string) => H(utf8ToBytes(label));

// ---------- RFC 6962 reference, recursive, straight from §2.1 ----------
const leafHash = (d: Uint8Array) => H(concatBytes(new Uint8Array([0]), d));
const nodeHash = (l: Uint8Array, r: Uint8Array) => H(concatBytes(new Uint8Array([1]), l, r));
const k = (n: number) => {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
};

/** MTH(D[n]). */
export function mth(d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return H(new Uint8Array(0));
  if (d.length === 1) return leafHash(d[0]!);
  const s = k(d.length);
  return nodeHash(mth(d.slice(0, s)), mth(d.slice(s)));
}

/** PATH(m, D[n]): the audit path of leaf m, leaf-most sibling first. */
export function path(m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  const s = k(d.length);
  return m < s ? [...path(m, d.slice(0, s)), mth(d.slice(s))] : [...path(m - s, d.slice(s)), mth(d.slice(0, s))];
}
