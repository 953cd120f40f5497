// Checks shared by the commands: the manifest against the chain's registration, and the chain the
// server names against the one being read.
import type { ChainElection } from './chain.js';
import { finding, type Finding } from './errors.js';
import { short, toHex } from './hex.js';
import { manifestHash } from './protocol.js';

/** H(JCS(manifest)) against the chain's registration (and against what the server claims). */
export function checkManifestHash(manifest: unknown, registration: ChainElection, claimed?: string): Finding[] {
  const out: Finding[] = [];
  const computed = toHex(manifestHash(manifest));
  if (computed !== registration.manifestHash) {
    out.push(
      finding(
        'manifest-hash-mismatch',
        `H(JCS(manifest)) is ${short(computed)}, the chain registered ${short(registration.manifestHash)}`,
      ),
    );
  } else if (claimed !== undefined && claimed !== computed) {
    out.push(
      finding(
        'manifest-hash-mismatch',
        `the server claims manifestHash ${short(claimed)}, but its manifest hashes to ${short(computed)} (which the chain holds)`,
      ),
    );
  }
  return out;
}

/** The chain and contract the server names, against the ones checked (warnings). */
export function checkChainClaims(
  claims: { chainId?: number; contract?: string },
  chain: { chainId: number; address: string },
): Finding[] {
  const out: Finding[] = [];
  if (claims.chainId !== undefined && claims.chainId !== chain.chainId) {
    out.push(
      finding(
        'chain-mismatch',
        `the server names chain ${claims.chainId}, the RPC endpoint serves chain ${chain.chainId}`,
        {},
        'warning',
      ),
    );
  }
  if (claims.contract !== undefined && claims.contract.toLowerCase() !== chain.address.toLowerCase()) {
    out.push(
      finding(
        'chain-mismatch',
        `the server names contract ${claims.contract}, the audit reads ${chain.address}`,
        {},
        'warning',
      ),
    );
  }
  return out;
}
