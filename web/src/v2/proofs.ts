// The zero-knowledge proofs of docs/protocol.md section 12: the disjunctive Chaum–Pedersen proof that a
// ciphertext encrypts one of a list of values (12.4: a choice is 0 or 1, a contest's sum is within
// [minSelections, maxSelections]), the Schnorr proof of knowledge of a trustee's commitments (12.3) and the
// Chaum–Pedersen proof of a partial decryption (12.5). Fiat–Shamir challenges are Hs over the domain
// string and the whole statement, so a proof is bound to its election, credential, contest and choice.
import type { Ciphertext } from './elgamal.js';
import {
  DecodeError,
  decodeScalar,
  encodePoint,
  encodeScalar,
  G,
  hashToScalar,
  invert,
  mod,
  mul,
  mulSecret,
  randomScalar,
  type Point,
} from './group.js';

export const BALLOT_PROOF_DOMAIN = 'tallyproof:ballot-proof:v2:';
export const POK_DOMAIN = 'tallyproof:pok:v2:';
export const DECRYPT_DOMAIN = 'tallyproof:decrypt:v2:';

export interface DisjunctiveProof {
  c: string[];
  s: string[];
}

export interface ScalarProof {
  c: string;
  s: string;
}

/** What a ballot proof's challenge binds besides the ciphertext: `choice` is null for a contest's proof. */
export interface BallotProofContext {
  electionId: string;
  manifestHash: string;
  /** The election key H, hex. */
  publicKey: string;
  credential: string;
  contest: string;
  choice: string | null;
}

function ballotChallenge(
  ctx: BallotProofContext,
  ct: Ciphertext,
  values: readonly number[],
  commitments: readonly [Point, Point][],
): bigint {
  return hashToScalar(BALLOT_PROOF_DOMAIN, {
    electionId: ctx.electionId,
    manifestHash: ctx.manifestHash,
    publicKey: ctx.publicKey,
    credential: ctx.credential,
    contest: ctx.contest,
    choice: ctx.choice,
    alpha: encodePoint(ct.alpha),
    beta: encodePoint(ct.beta),
    values: [...values],
    commitments: commitments.map(([A, B]) => [encodePoint(A), encodePoint(B)]),
  });
}

/** Branch j's commitments from its challenge and response: A = s·G − c·α, B = s·H − c·(β − v·G). */
function simulatedCommitments(ct: Ciphertext, H: Point, v: number, c: bigint, s: bigint): [Point, Point] {
  const A = mul(G, s).subtract(mul(ct.alpha, c));
  const B = mul(H, s).subtract(mul(ct.beta.subtract(mul(G, BigInt(v))), c));
  return [A, B];
}

/**
 * Proof that (α, β) = (r·G, v·G + r·H) with v = values[trueIndex]. The other branches are simulated with
 * random challenges and responses; the true one takes the rest of the challenge.
 */
export function proveDisjunctive(
  ctx: BallotProofContext,
  ct: Ciphertext,
  H: Point,
  values: readonly number[],
  trueIndex: number,
  r: bigint,
): DisjunctiveProof {
  if (!(trueIndex >= 0 && trueIndex < values.length)) throw new RangeError('the true branch is not in the values');
  const cs: bigint[] = [];
  const ss: bigint[] = [];
  const commitments: [Point, Point][] = [];
  const w = randomScalar();
  for (let j = 0; j < values.length; j++) {
    if (j === trueIndex) {
      cs.push(0n);
      ss.push(0n);
      commitments.push([mulSecret(G, w), mulSecret(H, w)]);
    } else {
      const c = randomScalar();
      const s = randomScalar();
      cs.push(c);
      ss.push(s);
      commitments.push(simulatedCommitments(ct, H, values[j]!, c, s));
    }
  }
  const challenge = ballotChallenge(ctx, ct, values, commitments);
  const others = cs.reduce((sum, c, j) => (j === trueIndex ? sum : sum + c), 0n);
  const cTrue = mod(challenge - others);
  cs[trueIndex] = cTrue;
  ss[trueIndex] = mod(w + cTrue * r);
  return { c: cs.map(encodeScalar), s: ss.map(encodeScalar) };
}

/**
 * Whether `proof` shows that (α, β) encrypts one of `values` under H: every scalar canonical, one (c, s) per
 * value, and Σ c_j = Hs(…) over the recomputed commitments. The ciphertext's points are already group elements.
 */
export function verifyDisjunctive(
  ctx: BallotProofContext,
  ct: Ciphertext,
  H: Point,
  values: readonly number[],
  proof: unknown,
): boolean {
  const p = proof as Partial<DisjunctiveProof> | null;
  if (typeof p !== 'object' || p === null || !Array.isArray(p.c) || !Array.isArray(p.s)) return false;
  if (Object.keys(p).sort().join(',') !== 'c,s') return false;
  if (p.c.length !== values.length || p.s.length !== values.length) return false;
  let cs: bigint[];
  let ss: bigint[];
  try {
    cs = p.c.map(decodeScalar);
    ss = p.s.map(decodeScalar);
  } catch (err) {
    if (err instanceof DecodeError) return false;
    throw err;
  }
  const commitments = values.map((v, j) => simulatedCommitments(ct, H, v, cs[j]!, ss[j]!));
  const sum = mod(cs.reduce((a, b) => a + b, 0n));
  return sum === ballotChallenge(ctx, ct, values, commitments);
}

// ---------------------------------------------------------------------------------------------
// Trustees: Schnorr proofs of knowledge (12.3) and partial decryption proofs (12.5)

export interface PokContext {
  electionId: string;
  manifestHash: string;
  trustee: string;
  /** "commitment" or "share-key". */
  purpose: string;
}

function pokChallenge(ctx: PokContext, A: Point, W: Point): bigint {
  return hashToScalar(POK_DOMAIN, {
    electionId: ctx.electionId,
    manifestHash: ctx.manifestHash,
    trustee: ctx.trustee,
    purpose: ctx.purpose,
    point: encodePoint(A),
    commitment: encodePoint(W),
  });
}

/** Proof of knowledge of a with A = a·G (what a trustee publishes; here for tests). */
export function provePok(ctx: PokContext, a: bigint): ScalarProof {
  const A = mulSecret(G, a);
  const w = randomScalar();
  const c = pokChallenge(ctx, A, mulSecret(G, w));
  return { c: encodeScalar(c), s: encodeScalar(w + c * a) };
}

/** c = Hs(…) recomputed with W = s·G − c·A. */
export function verifyPok(ctx: PokContext, A: Point, proof: unknown): boolean {
  const scalars = proofScalars(proof);
  if (!scalars) return false;
  const [c, s] = scalars;
  return c === pokChallenge(ctx, A, mul(G, s).subtract(mul(A, c)));
}

export interface DecryptContext {
  electionId: string;
  manifestHash: string;
  aggregateHash: string;
  trustee: string;
  contest: string;
  choice: string;
}

function decryptChallenge(ctx: DecryptContext, alpha: Point, D: Point, X: Point, W1: Point, W2: Point): bigint {
  return hashToScalar(DECRYPT_DOMAIN, {
    electionId: ctx.electionId,
    manifestHash: ctx.manifestHash,
    aggregateHash: ctx.aggregateHash,
    trustee: ctx.trustee,
    contest: ctx.contest,
    choice: ctx.choice,
    alpha: encodePoint(alpha),
    share: encodePoint(D),
    verificationKey: encodePoint(X),
    commitments: [encodePoint(W1), encodePoint(W2)],
  });
}

/** A trustee's share D = x·α with its proof that log_G X = log_α D (what `tallyproof trustee` does; here for tests). */
export function proveDecryptShare(ctx: DecryptContext, alpha: Point, x: bigint): { share: Point; proof: ScalarProof } {
  const D = mulSecret(alpha, x);
  const X = mulSecret(G, x);
  const w = randomScalar();
  const c = decryptChallenge(ctx, alpha, D, X, mulSecret(G, w), mulSecret(alpha, w));
  return { share: D, proof: { c: encodeScalar(c), s: encodeScalar(w + c * x) } };
}

/** c = Hs(…) recomputed with W_1 = s·G − c·X and W_2 = s·α − c·D. */
export function verifyDecryptShare(ctx: DecryptContext, alpha: Point, D: Point, X: Point, proof: unknown): boolean {
  const scalars = proofScalars(proof);
  if (!scalars) return false;
  const [c, s] = scalars;
  const W1 = mul(G, s).subtract(mul(X, c));
  const W2 = mul(alpha, s).subtract(mul(D, c));
  return c === decryptChallenge(ctx, alpha, D, X, W1, W2);
}

/** The (c, s) of a `{"c":S,"s":S}` proof, both canonical; null when it is not one. */
function proofScalars(proof: unknown): [bigint, bigint] | null {
  const p = proof as Partial<ScalarProof> | null;
  if (typeof p !== 'object' || p === null || Object.keys(p).sort().join(',') !== 'c,s') return null;
  try {
    return [decodeScalar(p.c), decodeScalar(p.s)];
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Combination of K partial decryptions (12.5)

/** λ_j = Π_{m∈S, m≠j} m·(m−j)^{−1} mod ℓ, for the trustee indexes S (1-based, distinct). */
export function lagrangeCoefficient(indexes: readonly number[], j: number): bigint {
  let num = 1n;
  let den = 1n;
  for (const m of indexes) {
    if (m === j) continue;
    num = mod(num * BigInt(m));
    den = mod(den * BigInt(m - j));
  }
  return mod(num * invert(den));
}

/** M = β − Σ_{j∈S} λ_j·D_j: the count times G, from K shares keyed by trustee index. */
export function combineShares(beta: Point, shares: ReadonlyMap<number, Point>): Point {
  const indexes = [...shares.keys()];
  let sum: Point | null = null;
  for (const [j, D] of shares) {
    const term = mul(D, lagrangeCoefficient(indexes, j));
    sum = sum ? sum.add(term) : term;
  }
  return sum ? beta.subtract(sum) : beta;
}
