// A small encrypted election built with the page's own v2 code (web/src/v2/), for the unit tests: a key
// ceremony of `n` trustees with threshold `k` (Pedersen DKG with Feldman commitments, section 12.3 of
// docs/protocol.md; the shares are added up here directly, the encrypted share transport is not the page's
// business), ballots, the aggregate, and the partial decryptions of the trustees asked for.
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { jcs, publicKeyOf, sha256Hex, type Contest, type Selections } from '../src/protocol.js';
import { encryptBallot, type ManifestV2, type SubmissionV2 } from '../src/v2/ballot.js';
import { decodePoint, encodePoint, G, IDENTITY, mod, mul, randomScalar } from '../src/v2/group.js';
import { provePok, proveDecryptShare } from '../src/v2/proofs.js';
import {
  aggregateHashOf,
  TRUSTEE_PREFIX,
  type Aggregate,
  type Decryption,
  type Transcript,
  type TrusteeEnvelope,
} from '../src/v2/tally-check.js';

export const CONTESTS: Contest[] = [
  {
    id: 'referendum',
    title: 'Referendum',
    choices: [
      { id: 'yes', label: 'Yes' },
      { id: 'no', label: 'No' },
    ],
    minSelections: 0,
    maxSelections: 1,
  },
  {
    id: 'council',
    title: 'Council',
    choices: [
      { id: 'ada', label: 'Ada' },
      { id: 'bob', label: 'Bob' },
      { id: 'cyd', label: 'Cyd' },
    ],
    minSelections: 1,
    maxSelections: 2,
  },
];

export function randomSeed(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

export function signEnvelope(message: TrusteeEnvelope['message'], seed: Uint8Array): TrusteeEnvelope {
  const signature = bytesToHex(ed25519.sign(utf8ToBytes(TRUSTEE_PREFIX + jcs(message)), seed));
  return { message, signature };
}

export interface Fixture {
  manifest: ManifestV2;
  manifestHash: string;
  publicKey: string;
  trusteeSeeds: Uint8Array[];
  /** x_j, the key share of trustee j (index j, 1-based: keyShares[j - 1]). */
  keyShares: bigint[];
  transcript: Transcript;
}

export function keyCeremony(n: number, k: number, contests: Contest[] = CONTESTS): Fixture {
  const trusteeSeeds = Array.from({ length: n }, randomSeed);
  const manifest: ManifestV2 = {
    version: 2,
    electionId: 'secret-2026',
    title: 'Secret ballot test',
    contests,
    opensAt: '2026-03-01T08:00:00.000Z',
    closesAt: '2026-03-01T20:00:00.000Z',
    windowSeconds: 60,
    ledgerKey: publicKeyOf(randomSeed()),
    ballotMode: 'encrypted',
    trustees: trusteeSeeds.map((s, i) => ({ id: `trustee-${i + 1}`, key: publicKeyOf(s) })),
    threshold: k,
  };
  const manifestHash = sha256Hex(jcs(manifest));
  const polys = trusteeSeeds.map(() => Array.from({ length: k }, randomScalar));
  const messages: TrusteeEnvelope[] = manifest.trustees.map((t, i) => {
    const ctx = { electionId: manifest.electionId, manifestHash, trustee: t.id };
    const e = randomScalar();
    return signEnvelope(
      {
        version: 2,
        kind: 'keygen-commit',
        electionId: manifest.electionId,
        manifestHash,
        trustee: t.id,
        commitments: polys[i]!.map((a) => encodePoint(mul(G, a))),
        commitmentProof: provePok({ ...ctx, purpose: 'commitment' }, polys[i]![0]!),
        shareKey: encodePoint(mul(G, e)),
        shareKeyProof: provePok({ ...ctx, purpose: 'share-key' }, e),
      },
      trusteeSeeds[i]!,
    );
  });
  const evaluate = (poly: bigint[], x: number) => mod(poly.reduceRight((acc, a) => acc * BigInt(x) + a, 0n));
  const keyShares = manifest.trustees.map((_t, j) => mod(polys.reduce((sum, p) => sum + evaluate(p, j + 1), 0n)));
  const H = polys.reduce((P, p) => P.add(mul(G, p[0]!)), IDENTITY);
  const publicKey = encodePoint(H);
  const transcript: Transcript = {
    electionId: manifest.electionId,
    threshold: k,
    trustees: manifest.trustees,
    publicKey,
    verificationKeys: Object.fromEntries(manifest.trustees.map((t, j) => [t.id, encodePoint(mul(G, keyShares[j]!))])),
    keyCeremony: 'complete',
    messages,
    refused: [],
  };
  return { manifest, manifestHash, publicKey, trusteeSeeds, keyShares, transcript };
}

export async function castBallots(f: Fixture, votes: Selections[]): Promise<SubmissionV2[]> {
  const ctx = { manifest: f.manifest, manifestHash: f.manifestHash, publicKey: f.publicKey };
  const out: SubmissionV2[] = [];
  for (const v of votes) out.push((await encryptBallot(ctx, randomSeed(), v)).submission);
  return out;
}

export function aggregateOf(f: Fixture, ballots: SubmissionV2[]): Aggregate {
  const contests = Object.fromEntries(
    f.manifest.contests.map((c) => [
      c.id,
      Object.fromEntries(
        c.choices.map((k, i) => {
          let alpha = IDENTITY;
          let beta = IDENTITY;
          for (const b of ballots) {
            const ct = b.ballot.contests[c.id]!.choices[i]!;
            alpha = alpha.add(decodePoint(ct.alpha));
            beta = beta.add(decodePoint(ct.beta));
          }
          return [k.id, { alpha: encodePoint(alpha), beta: encodePoint(beta) }];
        }),
      ),
    ]),
  );
  return {
    version: 2,
    electionId: f.manifest.electionId,
    manifestHash: f.manifestHash,
    publicKey: f.publicKey,
    totalBallots: ballots.length,
    contests,
  };
}

/** Trustee `index` (1-based)'s signed decrypt message for the aggregate. */
export function decryptMessage(f: Fixture, aggregate: Aggregate, index: number): TrusteeEnvelope {
  const t = f.manifest.trustees[index - 1]!;
  const aggregateHash = aggregateHashOf(aggregate);
  const shares = Object.fromEntries(
    f.manifest.contests.map((c) => [
      c.id,
      Object.fromEntries(
        c.choices.map((k) => {
          const alpha = decodePoint(aggregate.contests[c.id]![k.id]!.alpha);
          const ctx = {
            electionId: f.manifest.electionId,
            manifestHash: f.manifestHash,
            aggregateHash,
            trustee: t.id,
            contest: c.id,
            choice: k.id,
          };
          const { share, proof } = proveDecryptShare(ctx, alpha, f.keyShares[index - 1]!);
          return [k.id, { share: encodePoint(share), proof }];
        }),
      ),
    ]),
  );
  return signEnvelope(
    {
      version: 2,
      kind: 'decrypt',
      electionId: f.manifest.electionId,
      manifestHash: f.manifestHash,
      trustee: t.id,
      aggregateHash,
      shares,
    },
    f.trusteeSeeds[index - 1]!,
  );
}

export function plainTally(f: Fixture, votes: Selections[]): Record<string, Record<string, number>> {
  return Object.fromEntries(
    f.manifest.contests.map((c) => [
      c.id,
      Object.fromEntries(c.choices.map((k) => [k.id, votes.filter((v) => v[c.id]?.includes(k.id)).length])),
    ]),
  );
}

export function decryptionOf(
  f: Fixture,
  aggregate: Aggregate,
  trustees: number[],
  tally: Record<string, Record<string, number>>,
): Decryption {
  return {
    version: 2,
    electionId: f.manifest.electionId,
    aggregateHash: aggregateHashOf(aggregate),
    trustees: trustees.map((i) => f.manifest.trustees[i - 1]!.id),
    tally,
    totalBallots: aggregate.totalBallots,
  };
}
