// RFC 6962 / RFC 9162 Merkle trees: leaf hash H(0x00 || leaf), node hash H(0x01 || left || right),
// MTH({}) = H(""), split at the largest power of two strictly below n. No sorted pairs.
import { createHash } from 'node:crypto';
import { sha256 } from './hash.js';

export const LEAF_PREFIX = 0x00;
export const NODE_PREFIX = 0x01;

const LEAF_PREFIX_BYTES = Buffer.from([LEAF_PREFIX]);
const NODE_PREFIX_BYTES = Buffer.from([NODE_PREFIX]);

export function leafHash(leaf: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX_BYTES).update(leaf).digest();
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX_BYTES).update(left).update(right).digest();
}

export const EMPTY_ROOT: Buffer = sha256(new Uint8Array(0));

/** Largest power of two strictly smaller than n (n >= 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * MTH over already-computed leaf hashes, bottom-up. Pairing adjacent nodes level by level and
 * promoting a lone last node gives exactly the RFC 6962 split tree, without recursion, so a window of
 * millions of ballots is hashed in one pass with O(n) memory.
 */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Buffer {
  if (leafHashes.length === 0) return EMPTY_ROOT;
  let level: Uint8Array[] = leafHashes.slice();
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return Buffer.from(level[0]!);
}

/** MTH(D[n]) over raw leaves. */
export function merkleRoot(leaves: readonly Uint8Array[]): Buffer {
  return rootFromLeafHashes(leaves.map(leafHash));
}

/** The RFC 6962 audit path PATH(m, D[n]) for leaf index m, leaf-most sibling first. */
export function auditPath(leaves: readonly Uint8Array[], index: number): Buffer[] {
  return auditPathFromLeafHashes(leaves.map(leafHash), index);
}

export function auditPathFromLeafHashes(leafHashes: readonly Uint8Array[], index: number): Buffer[] {
  const n = leafHashes.length;
  if (!Number.isInteger(index) || index < 0 || index >= n) throw new RangeError(`leaf index ${index} outside tree of size ${n}`);
  const path: Buffer[] = [];
  // Walk the same bottom-up levels as rootFromLeafHashes, recording the sibling at each level where one exists.
  let level: Uint8Array[] = leafHashes.slice();
  let i = index;
  while (level.length > 1) {
    const sibling = i ^ 1;
    if (sibling < level.length) path.push(Buffer.from(level[sibling]!));
    const next: Uint8Array[] = [];
    for (let j = 0; j + 1 < level.length; j += 2) next.push(nodeHash(level[j]!, level[j + 1]!));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
    i = Math.floor(i / 2);
  }
  return path;
}

/**
 * RFC 9162 §2.1.3.2: verify an inclusion proof. Returns the computed root (or null when the path length
 * does not fit the tree), so callers compare it with a root they trust.
 */
export function rootFromInclusionProof(leaf: Uint8Array, index: number, treeSize: number, path: readonly Uint8Array[]): Buffer | null {
  if (!Number.isInteger(index) || !Number.isInteger(treeSize) || index < 0 || index >= treeSize) return null;
  let fn = index;
  let sn = treeSize - 1;
  let r: Buffer = leafHash(leaf);
  for (const p of path) {
    if (sn === 0) return null;
    if ((fn & 1) === 1 || fn === sn) {
      r = nodeHash(p, r);
      if ((fn & 1) === 0) {
        while ((fn & 1) === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

export function verifyInclusion(leaf: Uint8Array, index: number, treeSize: number, path: readonly Uint8Array[], root: Uint8Array): boolean {
  const computed = rootFromInclusionProof(leaf, index, treeSize, path);
  return computed !== null && computed.equals(root);
}

/**
 * Streaming MTH in O(log n) memory: push leaves in order, read the root at the end. Keeps the stack of
 * perfect subtrees (sizes strictly decreasing), so a 10-million-key roll never sits in memory.
 */
export class MerkleRootBuilder {
  private readonly stack: { hash: Buffer; size: number }[] = [];
  private n = 0;

  get size(): number {
    return this.n;
  }

  push(leaf: Uint8Array): void {
    this.pushLeafHash(leafHash(leaf));
  }

  pushLeafHash(h: Buffer): void {
    let node = { hash: h, size: 1 };
    while (this.stack.length > 0 && this.stack[this.stack.length - 1]!.size === node.size) {
      const left = this.stack.pop()!;
      node = { hash: nodeHash(left.hash, node.hash), size: left.size * 2 };
    }
    this.stack.push(node);
    this.n++;
  }

  root(): Buffer {
    if (this.stack.length === 0) return EMPTY_ROOT;
    let r = this.stack[this.stack.length - 1]!.hash;
    for (let i = this.stack.length - 2; i >= 0; i--) r = nodeHash(this.stack[i]!.hash, r);
    return r;
  }
}
