// RFC 6962 §2.1 written out as the RFC defines it (recursive MTH and PATH, createHash), as an independent
// reference for the production tree in src/protocol/merkle.ts. Slow on purpose: tests only.
import { createHash } from 'node:crypto';

const h = (...parts: Uint8Array[]) => {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p);
  return hash.digest();
};

/** The largest power of two strictly smaller than n (n >= 2). */
function k(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}

/** MTH over leaf hashes already computed (H(0x00 || leaf)). */
export function referenceRoot(leafHashes: readonly Buffer[]): Buffer {
  if (leafHashes.length === 0) return h();
  if (leafHashes.length === 1) return leafHashes[0]!;
  const split = k(leafHashes.length);
  return h(Buffer.from([1]), referenceRoot(leafHashes.slice(0, split)), referenceRoot(leafHashes.slice(split)));
}

/** PATH(m, D[n]) over leaf hashes, leaf-most sibling first. */
export function referencePath(m: number, leafHashes: readonly Buffer[]): Buffer[] {
  const n = leafHashes.length;
  if (n <= 1) return [];
  const split = k(n);
  return m < split
    ? [...referencePath(m, leafHashes.slice(0, split)), referenceRoot(leafHashes.slice(split))]
    : [...referencePath(m - split, leafHashes.slice(split)), referenceRoot(leafHashes.slice(0, split))];
}

/** H(0x00 || leaf). */
export const referenceLeafHash = (leaf: Uint8Array) => h(Buffer.from([0]), leaf);
