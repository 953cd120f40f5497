// The three proofs of wire format v2 (docs/protocol.md 12.3 to 12.5), verification only, from the text:
//   - the disjunctive Chaum–Pedersen proof that (α, β) encrypts one of v_0 < … < v_{t−1} (a ballot's
//     choices and contests), domain "tallyproof:ballot-proof:v2:";
//   - the Schnorr proof of knowledge of a with A = a·G (a trustee's commitment and share key),
//     domain "tallyproof:pok:v2:";
//   - the Chaum–Pedersen proof that log_G X = log_α D (a partial decryption), domain "tallyproof:decrypt:v2:".
// Inputs are already decoded (decodeElement / decodeScalar): nothing here throws on hostile values.
import { addScalars, commitment, commitmentOver, hashToScalar, mulBase, pointHex, sub, type Point } from './group.js';

export const BALLOT_PROOF_DOMAIN = 'tallyproof:ballot-proof:v2:';
export const POK_DOMAIN = 'tallyproof:pok:v2:';
export const DECRYPT_DOMAIN = 'tallyproof:decrypt:v2:';

/** v·G for the small values a proof can name (0..64), computed once. */
const smallMultiples: Point[] = [];
function valueTimesBase(v: number): Point {
  let p = smallMultiples[v];
  if (p === undefined) {
    p = mulBase(BigInt(v));
    smallMultiples[v] = p;
  }
  return p;
}

/** What a disjunctive proof is about: the statement hashed with its commitments. */
export interface DisjunctiveStatement {
  electionId: string;
  manifestHash: string;
  /** H, as a point and as its hex (the hex goes into the hash). */
  publicKey: Point;
  publicKeyHex: string;
  credential: string;
  contest: string;
  /** The choice id for a choice's proof, null for the contest's. */
  choice: string | null;
  alpha: Point;
  beta: Point;
  values: readonly number[];
}

export interface ScalarPairs {
  c: readonly bigint[];
  s: readonly bigint[];
}

/**
 * A_j = s_j·G − c_j·α, B_j = s_j·H − c_j·(β − v_j·G) for every branch; the proof verifies when
 * Σ c_j = Hs("tallyproof:ballot-proof:v2:", {…, "commitments":[[A_0,B_0],…]}) mod ℓ.
 */
export function verifyDisjunctive(st: DisjunctiveStatement, proof: ScalarPairs): boolean {
  const t = st.values.length;
  if (proof.c.length !== t || proof.s.length !== t) return false;
  const commitments: [string, string][] = [];
  let sum = 0n;
  for (let j = 0; j < t; j++) {
    const c = proof.c[j]!;
    const s = proof.s[j]!;
    const v = st.values[j]!;
    const a = commitment(s, c, st.alpha);
    const shifted = v === 0 ? st.beta : sub(st.beta, valueTimesBase(v));
    const b = commitmentOver(st.publicKey, s, c, shifted);
    commitments.push([pointHex(a), pointHex(b)]);
    sum = addScalars(sum, c);
  }
  const expected = hashToScalar(BALLOT_PROOF_DOMAIN, {
    electionId: st.electionId,
    manifestHash: st.manifestHash,
    publicKey: st.publicKeyHex,
    credential: st.credential,
    contest: st.contest,
    choice: st.choice,
    alpha: pointHex(st.alpha),
    beta: pointHex(st.beta),
    values: st.values,
    commitments,
  });
  return sum === expected;
}

export interface PokStatement {
  electionId: string;
  manifestHash: string;
  trustee: string;
  /** "commitment" or "share-key". */
  purpose: string;
  point: Point;
}

/** W = s·G − c·A; verifies when c = Hs("tallyproof:pok:v2:", {…,"point":A,"commitment":W}). */
export function verifyPok(st: PokStatement, c: bigint, s: bigint): boolean {
  const w = commitment(s, c, st.point);
  const expected = hashToScalar(POK_DOMAIN, {
    electionId: st.electionId,
    manifestHash: st.manifestHash,
    trustee: st.trustee,
    purpose: st.purpose,
    point: pointHex(st.point),
    commitment: pointHex(w),
  });
  return c === expected;
}

export interface DecryptStatement {
  electionId: string;
  manifestHash: string;
  aggregateHash: string;
  trustee: string;
  contest: string;
  choice: string;
  alpha: Point;
  share: Point;
  verificationKey: Point;
}

/**
 * W_1 = s·G − c·X_j, W_2 = s·α − c·D; verifies when
 * c = Hs("tallyproof:decrypt:v2:", {…,"commitments":[W_1,W_2]}).
 */
export function verifyDecryptShare(st: DecryptStatement, c: bigint, s: bigint): boolean {
  const w1 = commitment(s, c, st.verificationKey);
  const w2 = commitmentOver(st.alpha, s, c, st.share);
  const expected = hashToScalar(DECRYPT_DOMAIN, {
    electionId: st.electionId,
    manifestHash: st.manifestHash,
    aggregateHash: st.aggregateHash,
    trustee: st.trustee,
    contest: st.contest,
    choice: st.choice,
    alpha: pointHex(st.alpha),
    share: pointHex(st.share),
    verificationKey: pointHex(st.verificationKey),
    commitments: [pointHex(w1), pointHex(w2)],
  });
  return c === expected;
}
