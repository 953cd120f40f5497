// The homomorphic tally of wire format v2 (docs/protocol.md 12.5): the aggregate (per choice, the sum of
// every ballot's ciphertext), and the combination of K partial decryptions into counts.
import { jcs } from '../jcs.js';
import { sha256 } from '../hash.js';
import type { Manifest } from '../protocol.js';
import { add, type Element, discreteLog, elementFromHex, hex, IDENTITY, invert, mod, mul, sub } from './group.js';
import type { EncryptedBallot } from './ballot.js';
import {
  aggregateHashOf,
  ceremonyKeys,
  commitsOf,
  type DecryptMessage,
  decryptMessageProblem,
  type TrusteeEnvelope,
  trusteeIndex,
} from './trustees.js';

export interface Aggregate {
  version: 2;
  electionId: string;
  manifestHash: string;
  publicKey: string;
  totalBallots: number;
  contests: Record<string, Record<string, { alpha: string; beta: string }>>;
}

/** Sums ciphertexts choice by choice; feed it the ledger's ballots in any order. */
export class Aggregator {
  private readonly sums = new Map<string, [Element, Element]>();
  private count = 0;
  constructor(private readonly manifest: Manifest) {
    for (const c of manifest.contests)
      for (const k of c.choices) this.sums.set(`${c.id}/${k.id}`, [Buffer.from(IDENTITY), Buffer.from(IDENTITY)]);
  }

  /** Adds a ballot that passed the validity rule (its points are group elements). */
  add(ballot: EncryptedBallot): void {
    for (const c of this.manifest.contests) {
      const enc = ballot.contests[c.id]!;
      c.choices.forEach((k, i) => {
        const key = `${c.id}/${k.id}`;
        const [a, b] = this.sums.get(key)!;
        const e = enc.choices[i]!;
        this.sums.set(key, [add(a, Buffer.from(e.alpha, 'hex')), add(b, Buffer.from(e.beta, 'hex'))]);
      });
    }
    this.count++;
  }

  result(manifestHash: string, publicKey: string): Aggregate {
    const contests: Aggregate['contests'] = {};
    for (const c of this.manifest.contests) {
      contests[c.id] = {};
      for (const k of c.choices) {
        const [a, b] = this.sums.get(`${c.id}/${k.id}`)!;
        contests[c.id]![k.id] = { alpha: hex(a), beta: hex(b) };
      }
    }
    return {
      version: 2,
      electionId: this.manifest.electionId,
      manifestHash,
      publicKey,
      totalBallots: this.count,
      contests,
    };
  }
}

/** The decrypted result of 12.5. */
export interface DecryptionResult {
  version: 2;
  electionId: string;
  aggregateHash: string;
  trustees: string[];
  tally: Record<string, Record<string, number>>;
  totalBallots: number;
}

/** λ_j for the set of trustee indexes S: Π_{m∈S, m≠j} m·(m−j)^−1 mod ℓ. */
export function lagrange(indexes: readonly number[], j: number): bigint {
  let acc = 1n;
  for (const m of indexes) {
    if (m === j) continue;
    acc = mod(acc * BigInt(m) * invert(BigInt(m - j)));
  }
  return acc;
}

/**
 * Combine the first K valid decrypt messages by trustee index into counts. Returns null while fewer than
 * K valid ones are given. Throws when a combined count is not in [0, totalBallots] (it cannot happen with
 * valid proofs and a correct aggregate).
 */
export function combineDecryptions(
  manifest: Manifest,
  manifestHash: string,
  accepted: readonly TrusteeEnvelope[],
  aggregate: Aggregate,
): DecryptionResult | null {
  const k = manifest.threshold ?? 0;
  const aggregateHash = aggregateHashOf(aggregate);
  const tally: Record<string, Record<string, number>> = {};
  if (aggregate.totalBallots === 0) {
    for (const c of manifest.contests) tally[c.id] = Object.fromEntries(c.choices.map((x) => [x.id, 0]));
    return { version: 2, electionId: manifest.electionId, aggregateHash, trustees: [], tally, totalBallots: 0 };
  }
  const valid = accepted
    .filter((e) => e.message.kind === 'decrypt' && e.message.aggregateHash === aggregateHash)
    .map((e) => e.message as DecryptMessage)
    .filter((m) => decryptMessageProblem(manifest, manifestHash, accepted, aggregate, m) === null)
    .sort((a, b) => trusteeIndex(manifest, a.trustee) - trusteeIndex(manifest, b.trustee))
    .slice(0, k);
  if (valid.length < k) return null;
  const indexes = valid.map((m) => trusteeIndex(manifest, m.trustee));
  const lambdas = indexes.map((j) => lagrange(indexes, j));
  for (const c of manifest.contests) {
    tally[c.id] = {};
    for (const choice of c.choices) {
      const beta = elementFromHex(aggregate.contests[c.id]![choice.id]!.beta) ?? Buffer.from(IDENTITY);
      let combined: Element = Buffer.from(IDENTITY);
      valid.forEach((m, i) => {
        combined = add(combined, mul(lambdas[i]!, Buffer.from(m.shares[c.id]![choice.id]!.share, 'hex')));
      });
      const n = discreteLog(sub(beta, combined), aggregate.totalBallots);
      if (n === null) throw new Error(`${c.id}/${choice.id}: the decrypted count is not in [0, totalBallots]`);
      tally[c.id]![choice.id] = n;
    }
  }
  return {
    version: 2,
    electionId: manifest.electionId,
    aggregateHash,
    trustees: valid.map((m) => m.trustee),
    tally,
    totalBallots: aggregate.totalBallots,
  };
}

/** resultHash = H(JCS({electionId, tally, totalBallots})), as in version 1. */
export function decryptedResultHash(result: DecryptionResult): string {
  return sha256(
    jcs({ electionId: result.electionId, tally: result.tally, totalBallots: result.totalBallots }),
  ).toString('hex');
}

/** H, once every trustee confirmed; null before. */
export function electionPublicKey(manifest: Manifest, accepted: readonly TrusteeEnvelope[]): string | null {
  const confirmed = new Set(accepted.filter((e) => e.message.kind === 'keygen-confirm').map((e) => e.message.trustee));
  if (!(manifest.trustees ?? []).every((t) => confirmed.has(t.id))) return null;
  return ceremonyKeys(manifest, commitsOf(accepted)).publicKey;
}
