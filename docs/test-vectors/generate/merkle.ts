// rfc6962-merkle.json: MTH and every audit path for the trees of 0..33 leaves.
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { H, hex, mth, path } from './reference.js';

export function merkleVectors() {
  const leaves = Array.from({ length: 33 }, (_, i) => H(utf8ToBytes(`tallyproof test leaf ${i}`)));
  return {
    description:
      'RFC 6962 Merkle tree hashes (MTH) and audit paths (PATH), leaf-most sibling first, ' +
      'for every tree size 0..33 and every leaf. ' +
      'The tree of size n has leaves[0..n-1]; leaf i is SHA-256(utf8("tallyproof test leaf " + i)).',
    leaves: leaves.map(hex),
    trees: Array.from({ length: 34 }, (_, n) => ({
      size: n,
      root: hex(mth(leaves.slice(0, n))),
      proofs: Array.from({ length: n }, (_, m) => ({ leafIndex: m, auditPath: path(m, leaves.slice(0, n)).map(hex) })),
    })),
  };
}
