// RFC 6962 / RFC 9162 Merkle trees, the one server-side implementation: sealing, proofs, the roll root and
// the test vectors all run this code. Leaf hash H(0x00 || leaf), node hash H(0x01 || left || right),
// MTH({}) = H(""). No sorted pairs. Built bottom-up: pairing adjacent nodes level by level and promoting a
// lone last node gives exactly the RFC's split tree (largest power of two below n), without recursion.
import { hash as nodeCryptoHash } from 'node:crypto';
import { sha256 } from './hash.js';

export const LEAF_PREFIX = 0x00;
export const NODE_PREFIX = 0x01;

// One-shot crypto.hash over reused buffers: about twice as fast as createHash for these 33- and 65-byte
// inputs, which is most of the cost of sealing a window. Safe to share: nothing awaits between filling a
// buffer and hashing it.
const leafInput = Buffer.alloc(33, LEAF_PREFIX);
const nodeInput = Buffer.alloc(65, NODE_PREFIX);
const digest = (b: Buffer) => nodeCryptoHash('sha256', b, 'buffer') as unknown as Buffer;

/** H(0x00 || leaf). */
export function leafHash(leaf: Uint8Array): Buffer {
  if (leaf.length === 32) {
    leafInput.set(leaf, 1);
    return digest(leafInput);
  }
  return sha256(Buffer.concat([Buffer.from([LEAF_PREFIX]), leaf]));
}

/** H(0x00 || the 32-byte leaf at `offset` of `leaves`): leaves packed back to back, as the ledger reads them. */
export function leafHashAt(leaves: Buffer, offset: number): Buffer {
  leaves.copy(leafInput, 1, offset, offset + 32);
  return digest(leafInput);
}

/** H(0x01 || left || right) for 32-byte nodes. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  nodeInput.set(left, 1);
  nodeInput.set(right, 33);
  return digest(nodeInput);
}

/** nodeHash of two 32-byte nodes read in place from packed buffers. */
function nodeHashAt(left: Buffer, leftOffset: number, right: Buffer, rightOffset: number): Buffer {
  left.copy(nodeInput, 1, leftOffset, leftOffset + 32);
  right.copy(nodeInput, 33, rightOffset, rightOffset + 32);
  return digest(nodeInput);
}

export const EMPTY_ROOT: Buffer = sha256(new Uint8Array(0));

/**
 * Streaming MTH in O(log n) memory: push leaves in order, read the root at the end. Keeps the stack of
 * perfect subtrees (sizes strictly decreasing), so a 10-million-key roll or a million-ballot window never
 * sits in memory.
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

/**
 * A whole tree, level by level (each level one Buffer of 32-byte hashes): about 64 bytes per leaf, and
 * audit paths are then O(log n).
 */
export class MerkleTree {
  readonly levels: Buffer[];

  /** `leafHashes`: the leaf hashes packed back to back (32 bytes each, at least one). */
  constructor(leafHashes: Buffer) {
    if (leafHashes.length === 0 || leafHashes.length % 32 !== 0) {
      throw new RangeError('a Merkle tree needs at least one 32-byte leaf hash');
    }
    const levels = [leafHashes];
    let level = leafHashes;
    while (level.length > 32) {
      const n = level.length / 32;
      const next = Buffer.allocUnsafe(Math.ceil(n / 2) * 32);
      for (let i = 0; i + 1 < n; i += 2) nodeHashAt(level, i * 32, level, i * 32 + 32).copy(next, (i / 2) * 32);
      if (n % 2 === 1) level.copy(next, ((n - 1) / 2) * 32, (n - 1) * 32, n * 32);
      levels.push(next);
      level = next;
    }
    this.levels = levels;
  }

  /** The tree over raw leaves (each hashed with the leaf prefix). */
  static fromLeaves(leaves: readonly Uint8Array[]): MerkleTree {
    const packed = Buffer.allocUnsafe(leaves.length * 32);
    leaves.forEach((leaf, i) => {
      leafHash(leaf).copy(packed, i * 32);
    });
    return new MerkleTree(packed);
  }

  get size(): number {
    return this.levels[0]!.length / 32;
  }

  get byteLength(): number {
    return this.levels.reduce((s, l) => s + l.length, 0);
  }

  root(): Buffer {
    return Buffer.from(this.levels[this.levels.length - 1]!);
  }

  /** PATH(m, D[n]) of RFC 6962, leaf-most sibling first. */
  auditPath(leafIndex: number): Buffer[] {
    if (!Number.isInteger(leafIndex) || leafIndex < 0 || leafIndex >= this.size) {
      throw new RangeError(`leaf index ${leafIndex} outside tree of size ${this.size}`);
    }
    const path: Buffer[] = [];
    let i = leafIndex;
    for (let l = 0; l < this.levels.length - 1; l++) {
      const level = this.levels[l]!;
      const sibling = i ^ 1;
      if (sibling * 32 < level.length) path.push(Buffer.from(level.subarray(sibling * 32, sibling * 32 + 32)));
      i = Math.floor(i / 2);
    }
    return path;
  }
}

/** MTH(D[n]) over raw leaves. */
export function merkleRoot(leaves: readonly Uint8Array[]): Buffer {
  const builder = new MerkleRootBuilder();
  for (const leaf of leaves) builder.push(leaf);
  return builder.root();
}

/** The RFC 6962 audit path PATH(m, D[n]) for leaf index m, leaf-most sibling first. */
export function auditPath(leaves: readonly Uint8Array[], index: number): Buffer[] {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length) {
    throw new RangeError(`leaf index ${index} outside tree of size ${leaves.length}`);
  }
  return MerkleTree.fromLeaves(leaves).auditPath(index);
}

/**
 * RFC 9162 §2.1.3.2: verify an inclusion proof. Returns the computed root (or null when the path length
 * does not fit the tree), so callers compare it with a root they trust.
 */
export function rootFromInclusionProof(
  leaf: Uint8Array,
  index: number,
  treeSize: number,
  path: readonly Uint8Array[],
): Buffer | null {
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

export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  treeSize: number,
  path: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  const computed = rootFromInclusionProof(leaf, index, treeSize, path);
  return computed?.equals(root) === true;
}
