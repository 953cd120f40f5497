// Test elections and voters: deterministic seeds, a manifest open now, signed ballots.
import { createHash } from 'node:crypto';
import { keyPairFromSeed } from '../../ledger/src/protocol/ed25519.js';
import {
  normalizeManifest,
  signBallot,
  type Ballot,
  type Manifest,
  type Submission,
} from '../../ledger/src/protocol/protocol.js';

export interface Voter {
  seed: Buffer;
  publicKey: Buffer;
  credential: string;
}

export function voter(label: string | number): Voter {
  const seed = createHash('sha256').update(`tallyproof test voter ${label}`).digest();
  const kp = keyPairFromSeed(seed);
  return { seed, publicKey: kp.publicKey, credential: kp.publicKey.toString('hex') };
}

export function voters(n: number, prefix = ''): Voter[] {
  return Array.from({ length: n }, (_, i) => voter(`${prefix}${i}`));
}

export function testManifest(electionId: string, ledgerKey: string, over: Partial<Manifest> = {}): Manifest {
  const now = Date.now();
  return normalizeManifest(
    {
      version: 1,
      electionId,
      title: `Test election ${electionId}`,
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
          title: 'Council',
          choices: [
            { id: 'ana', label: 'Ana' },
            { id: 'bo', label: 'Bo' },
            { id: 'chloe', label: 'Chloé' },
          ],
          minSelections: 0,
          maxSelections: 2,
        },
      ],
      opensAt: new Date(now - 60_000).toISOString(),
      closesAt: new Date(now + 24 * 3600_000).toISOString(),
      windowSeconds: 60,
      ...over,
    },
    ledgerKey,
  );
}

export function ballotFor(
  v: Voter,
  electionId: string,
  selections: Record<string, string[]> = { q1: ['oui'], council: ['ana'] },
): Submission {
  const ballot: Ballot = { version: 1, electionId, credential: v.credential, selections };
  return signBallot(v.seed, ballot);
}

/** A legal selection varied by i, so ballots differ. */
export function selectionsFor(i: number): Record<string, string[]> {
  const council = [[], ['ana'], ['bo'], ['chloe'], ['ana', 'bo'], ['bo', 'chloe']][i % 6]!;
  return { q1: [i % 3 === 0 ? 'non' : 'oui'], council };
}

/** A seeded PRNG (mulberry32) giving numbers in [0, 1): a test's random choices replay from its seed. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A copy of `items` in an order fixed by `seed` (Fisher–Yates over seededRandom): tests that mix their
 * traffic get the same mix on every run, so a failure can be replayed.
 */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const next = seededRandom(seed);
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
