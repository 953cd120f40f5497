// RFC 6962 / RFC 9162 Merkle trees, the verifier's own code.
//   - merkleTreeHead(): MTH (RFC 9162 §2.1.1), computed level by level: leaves hashed with the 0x00
//     prefix, then each level's nodes paired left to right and hashed with the 0x01 prefix, an odd
//     last node promoted unchanged to the next level. For every n this is the same tree as RFC 6962's
//     recursive split at the largest power of two below n (the left subtree is always complete, so
//     only the right edge ever has an unpaired node). Used for window roots and the roll root, over
//     32-byte leaves packed back to back (no per-node allocation). test/vectors.test.ts checks it
//     against docs/test-vectors, a recursive reference written from the RFC, and merkletreejs.
//   - verifyInclusion(): RFC 9162 §2.1.3.2, hand-written, step by step.
//   - inclusionPath(): RFC 6962 §2.1.1 PATH, for small trees (an interval's window records; a window's paths
//     are read from its tiles, tiles.ts).
// Indices are JavaScript numbers (safe up to 2^53): no 32-bit bitwise operators anywhere.
import { bytesEqual, sha256, sha256Into, sha256Parts } from './hex.js';
import { counted } from './plural.js';

/** RFC 6962 §2.1 domain separation: leaf hashes start with 0x00, interior nodes with 0x01. */
export const LEAF_HASH_PREFIX = 0x00;
export const NODE_HASH_PREFIX = 0x01;

/** MTH({}) = HASH() — the hash of the empty string. */
export const EMPTY_TREE_HEAD: Uint8Array = sha256(new Uint8Array(0));

const LEAF_PREFIX_BYTES = Uint8Array.of(LEAF_HASH_PREFIX);
const NODE_PREFIX_BYTES = Uint8Array.of(NODE_HASH_PREFIX);
const HASH_BYTES = 32;

/** HASH(0x00 || leaf). */
export function leafHash(leaf: Uint8Array): Uint8Array {
  return sha256Parts(LEAF_PREFIX_BYTES, leaf);
}

/** HASH(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256Parts(NODE_PREFIX_BYTES, left, right);
}

/**
 * MTH from the leaf hashes packed back to back in `level` (n = level.byteLength / 32 > 0), reducing
 * in place: level by level, node i of the next level = HASH(0x01 || node 2i || node 2i+1), written
 * over node i (i <= 2i, so nothing is overwritten before it is read); an odd last node moves up as is.
 */
function reduceLevels(level: Buffer): Uint8Array {
  const scratch = Buffer.alloc(1 + 2 * HASH_BYTES);
  scratch[0] = NODE_HASH_PREFIX;
  let width = level.byteLength / HASH_BYTES;
  while (width > 1) {
    const pairs = Math.floor(width / 2);
    for (let i = 0; i < pairs; i++) {
      level.copy(scratch, 1, 2 * i * HASH_BYTES, (2 * i + 2) * HASH_BYTES);
      sha256Into(scratch, level, i * HASH_BYTES);
    }
    if (width % 2 === 1) {
      level.copyWithin(pairs * HASH_BYTES, (width - 1) * HASH_BYTES, width * HASH_BYTES);
      width = pairs + 1;
    } else {
      width = pairs;
    }
  }
  return new Uint8Array(level.subarray(0, HASH_BYTES)); // a copy with a buffer of its own
}

/** RFC 6962 MTH over the leaf data `leaves` (each hashed with the 0x00 prefix first). */
export function merkleTreeHead(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return EMPTY_TREE_HEAD.slice();
  const level = Buffer.alloc(leaves.length * HASH_BYTES);
  for (const [i, leaf] of leaves.entries()) level.set(leafHash(leaf), i * HASH_BYTES);
  return reduceLevels(level);
}

/** RFC 6962 MTH over 32-byte leaves packed back to back (`packed` is only read). */
export function merkleTreeHeadPacked(packed: Uint8Array): Uint8Array {
  if (packed.byteLength % HASH_BYTES !== 0)
    throw new RangeError('packed leaves must be a whole number of 32-byte leaves');
  const n = packed.byteLength / HASH_BYTES;
  if (n === 0) return EMPTY_TREE_HEAD.slice();
  const level = Buffer.alloc(packed.byteLength);
  const leaves = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
  const scratch = Buffer.alloc(1 + HASH_BYTES);
  scratch[0] = LEAF_HASH_PREFIX;
  for (let i = 0; i < n; i++) {
    leaves.copy(scratch, 1, i * HASH_BYTES, (i + 1) * HASH_BYTES);
    sha256Into(scratch, level, i * HASH_BYTES);
  }
  return reduceLevels(level);
}

/** rollRoot = MTH over the credentials' 32 raw bytes, sorted ascending (docs/protocol.md). */
export function rollRoot(sortedKeys: readonly Uint8Array[]): Uint8Array {
  return merkleTreeHead(sortedKeys);
}

export interface InclusionProof {
  /** Index of the leaf in the tree (0-based). */
  leafIndex: number;
  /** Number of leaves in the tree. */
  treeSize: number;
  /** Sibling hashes from the leaf's level up to the root's child (RFC 9162 inclusion_path). */
  auditPath: readonly Uint8Array[];
}

/**
 * RFC 9162 §2.1.3.2: the root that `proof` leads to from `leaf` (the leaf data, hashed here with the
 * 0x00 prefix). Throws InclusionProofError saying which RFC step failed; callers name the seq and
 * window.
 */
export function rootFromInclusionProof(leaf: Uint8Array, proof: InclusionProof): Uint8Array {
  return rootFromLeafHash(leafHash(leaf), proof);
}

/** The same from the leaf's hash HASH(0x00 || leaf) (e.g. as a level-0 tile holds it). */
export function rootFromLeafHash(hash: Uint8Array, proof: InclusionProof): Uint8Array {
  const { leafIndex, treeSize, auditPath } = proof;
  if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize) || leafIndex < 0 || treeSize < 0) {
    throw new InclusionProofError('leaf index and tree size must be non-negative integers');
  }
  // Step 1: leaf_index < tree_size.
  if (leafIndex >= treeSize)
    throw new InclusionProofError(`leaf index ${leafIndex} is not below tree size ${treeSize}`);
  // Step 2: fn = leaf_index, sn = tree_size - 1.
  let fn = leafIndex;
  let sn = treeSize - 1;
  // Step 3: r = hash (the leaf hash).
  let r = hash;
  // Step 4: for each p in inclusion_path.
  for (const p of auditPath) {
    if (p.length !== 32) throw new InclusionProofError('audit path entries must be 32 bytes');
    // 4a: sn = 0 means the path is longer than the tree is deep.
    if (sn === 0)
      throw new InclusionProofError(
        `audit path has ${counted(auditPath.length, 'entry', 'entries')}, more than the tree of ${treeSize} needs`,
      );
    if (isOdd(fn) || fn === sn) {
      // 4b: r = HASH(0x01 || p || r), then climb past the levels where the node has no right sibling.
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      // 4b otherwise: r = HASH(0x01 || r || p).
      r = nodeHash(r, p);
    }
    // 4c: right-shift fn and sn once.
    fn = half(fn);
    sn = half(sn);
  }
  // Step 5: sn = 0, else the path is shorter than the tree is deep.
  if (sn !== 0)
    throw new InclusionProofError(
      `audit path has ${counted(auditPath.length, 'entry', 'entries')}, fewer than the tree of ${treeSize} needs`,
    );
  return r;
}

/**
 * RFC 6962 §2.1.1 PATH(m, D[n]) over the leaf data `leaves` (small trees: an interval's window records): the
 * siblings from the leaf up, by the recursive split at the largest power of two below the range's size.
 */
export function inclusionPath(leaves: readonly Uint8Array[], m: number): Uint8Array[] {
  if (!Number.isSafeInteger(m) || m < 0 || m >= leaves.length)
    throw new RangeError(`leaf ${m} is not in a tree of ${leaves.length} leaves`);
  const path: Uint8Array[] = [];
  let lo = 0;
  let hi = leaves.length;
  while (hi - lo > 1) {
    let k = 1;
    while (k * 2 < hi - lo) k *= 2;
    if (m < lo + k) {
      path.push(merkleTreeHead(leaves.slice(lo + k, hi)));
      hi = lo + k;
    } else {
      path.push(merkleTreeHead(leaves.slice(lo, lo + k)));
      lo += k;
    }
  }
  return path.reverse();
}

/** RFC 9162 §2.1.3.2 step 5: the proof leads to `root`. Returns false instead of throwing. */
export function verifyInclusion(leaf: Uint8Array, proof: InclusionProof, root: Uint8Array): boolean {
  try {
    return bytesEqual(rootFromInclusionProof(leaf, proof), root);
  } catch (err) {
    if (err instanceof InclusionProofError) return false;
    throw err;
  }
}

/** A malformed inclusion proof (wrong length, index out of range). */
export class InclusionProofError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InclusionProofError';
  }
}

function isOdd(n: number): boolean {
  return n % 2 === 1;
}

function half(n: number): number {
  return Math.floor(n / 2);
}
