// The test election every signed vector belongs to: its manifest, its ledger key and five voters, and
// the vectors of the election itself (manifest.json, roll-root.json).
import { ed25519 } from '@noble/curves/ed25519.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { canonicalize, H, hex, mth, seedOf } from './reference.js';

export const ledgerSeed = seedOf('tallyproof test vector ledger key');
export const ledgerKey = ed25519.getPublicKey(ledgerSeed);

export const manifest = {
  version: 1,
  electionId: 'vectors-2026',
  title: 'Test-vector election — référendum',
  contests: [
    {
      id: 'q1',
      title: 'Approve the law?',
      choices: [
        { id: 'oui', label: 'Oui' },
        { id: 'non', label: 'Non' },
      ],
      minSelections: 1,
      maxSelections: 1,
    },
    {
      id: 'council',
      title: 'Council (up to 2)',
      choices: [
        { id: 'ana', label: 'Ana' },
        { id: 'bo', label: 'Bo' },
        { id: 'chloe', label: 'Chloé' },
      ],
      minSelections: 0,
      maxSelections: 2,
    },
  ],
  opensAt: '2026-01-01T00:00:00.000Z',
  closesAt: '2026-12-31T23:59:59.999Z',
  windowSeconds: 60,
  ledgerKey: hex(ledgerKey),
};

export const voters = Array.from({ length: 5 }, (_, i) => {
  const seed = seedOf(`tallyproof test vector voter ${i}`);
  return { seed, publicKey: ed25519.getPublicKey(seed) };
});

export function manifestVectors() {
  return {
    description: 'An election manifest, its JCS text and manifestHash = SHA-256(JCS(manifest)).',
    manifest,
    jcs: canonicalize(manifest),
    manifestHash: hex(H(utf8ToBytes(canonicalize(manifest)))),
  };
}

export function rollRootVectors() {
  return {
    description:
      "rollRoot = RFC 6962 MTH over the credentials' 32 raw bytes sorted ascending (bytewise). " +
      'Rolls of 0, 1, 2 and 5 keys.',
    cases: [0, 1, 2, 5].map((n) => {
      const keys = voters.slice(0, n).map((v) => v.publicKey);
      const sorted = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      return { roll: keys.map(hex), sorted: sorted.map(hex), rollRoot: hex(mth(sorted)) };
    }),
  };
}
