// The zero-knowledge proofs of wire format v2 (docs/protocol.md 12.3–12.5), in compact form (challenges
// and responses; the verifier recomputes the commitments and the Fiat–Shamir hash): the disjunctive
// Chaum–Pedersen proof of a ballot's ciphertexts, the Schnorr proof of knowledge of the key generation,
// and the Chaum–Pedersen proof of a partial decryption.
import {
  type Element,
  hashToScalar,
  hex,
  mod,
  mul,
  mulBase,
  type ScalarSource,
  scalarFromHex,
  smallMultiple,
  sub,
} from './group.js';

export const BALLOT_PROOF_DOMAIN = 'tallyproof:ballot-proof:v2:';
export const POK_DOMAIN = 'tallyproof:pok:v2:';
export const DECRYPT_DOMAIN = 'tallyproof:decrypt:v2:';

/** The context every ballot proof hashes, besides its ciphertext. */
export interface BallotProofContext {
  electionId: string;
  manifestHash: string;
  publicKey: Element;
  credential: string;
}

export interface DisjunctiveProof {
  c: bigint[];
  s: bigint[];
}
export interface DisjunctiveProofJson {
  c: string[];
  s: string[];
}

function ballotChallenge(
  ctx: BallotProofContext,
  contest: string,
  choice: string | null,
  alpha: Element,
  beta: Element,
  values: readonly number[],
  commitments: readonly [Element, Element][],
): bigint {
  return hashToScalar(BALLOT_PROOF_DOMAIN, {
    electionId: ctx.electionId,
    manifestHash: ctx.manifestHash,
    publicKey: hex(ctx.publicKey),
    credential: ctx.credential,
    contest,
    choice,
    alpha: hex(alpha),
    beta: hex(beta),
    values,
    commitments: commitments.map(([a, b]) => [hex(a), hex(b)]),
  });
}

/** (A_j, B_j) = (s·G − c·α, s·H − c·(β − v·G)). */
function branchCommitment(
  h: Element,
  alpha: Element,
  beta: Element,
  value: number,
  c: bigint,
  s: bigint,
): [Element, Element] {
  const a = sub(mulBase(s), mul(c, alpha));
  const shifted = value === 0 ? beta : sub(beta, smallMultiple(value));
  const b = sub(mul(s, h), mul(c, shifted));
  return [a, b];
}

/**
 * Prove that (α, β) = (r·G, values[index]·G + r·H). `random` draws the other branches' challenges and
 * responses and the true branch's nonce (labels under `label`).
 */
export function proveDisjunctive(
  ctx: BallotProofContext,
  contest: string,
  choice: string | null,
  alpha: Element,
  beta: Element,
  values: readonly number[],
  index: number,
  r: bigint,
  random: ScalarSource,
  label: string,
): DisjunctiveProof {
  const c: bigint[] = new Array(values.length);
  const s: bigint[] = new Array(values.length);
  const commitments: [Element, Element][] = new Array(values.length);
  const w = random(`${label}/w`);
  for (let j = 0; j < values.length; j++) {
    if (j === index) {
      commitments[j] = [mulBase(w), mul(w, ctx.publicKey)];
    } else {
      c[j] = random(`${label}/c${j}`);
      s[j] = random(`${label}/s${j}`);
      commitments[j] = branchCommitment(ctx.publicKey, alpha, beta, values[j]!, c[j]!, s[j]!);
    }
  }
  const total = ballotChallenge(ctx, contest, choice, alpha, beta, values, commitments);
  let others = 0n;
  for (let j = 0; j < values.length; j++) if (j !== index) others += c[j]!;
  c[index] = mod(total - others);
  s[index] = mod(w + c[index]! * r);
  return { c, s };
}

/** True when the proof shows that (α, β) encrypts one of `values` under ctx.publicKey. */
export function verifyDisjunctive(
  ctx: BallotProofContext,
  contest: string,
  choice: string | null,
  alpha: Element,
  beta: Element,
  values: readonly number[],
  proof: DisjunctiveProof,
): boolean {
  if (proof.c.length !== values.length || proof.s.length !== values.length) return false;
  const commitments: [Element, Element][] = [];
  let total = 0n;
  for (let j = 0; j < values.length; j++) {
    commitments.push(branchCommitment(ctx.publicKey, alpha, beta, values[j]!, proof.c[j]!, proof.s[j]!));
    total += proof.c[j]!;
  }
  return mod(total) === ballotChallenge(ctx, contest, choice, alpha, beta, values, commitments);
}

export function disjunctiveToJson(p: DisjunctiveProof): DisjunctiveProofJson {
  return { c: p.c.map((x) => hex(x)), s: p.s.map((x) => hex(x)) };
}

/** Canonical scalars of a proof's JSON, else null. Arrays of the wrong length are the caller's check. */
export function disjunctiveFromJson(p: { c: unknown[]; s: unknown[] }): DisjunctiveProof | null {
  const c = p.c.map(scalarFromHex);
  const s = p.s.map(scalarFromHex);
  if (c.some((x) => x === null) || s.some((x) => x === null)) return null;
  return { c: c as bigint[], s: s as bigint[] };
}

/** What a proof of knowledge (Schnorr) is bound to. */
export interface PokContext {
  electionId: string;
  manifestHash: string;
  trustee: string;
  purpose: 'commitment' | 'share-key';
}

export interface ScalarProof {
  c: bigint;
  s: bigint;
}

function pokChallenge(ctx: PokContext, point: Element, commitment: Element): bigint {
  return hashToScalar(POK_DOMAIN, { ...ctx, point: hex(point), commitment: hex(commitment) });
}

export function provePok(ctx: PokContext, secret: bigint, point: Element, w: bigint): ScalarProof {
  const c = pokChallenge(ctx, point, mulBase(w));
  return { c, s: mod(w + c * secret) };
}

export function verifyPok(ctx: PokContext, point: Element, proof: ScalarProof): boolean {
  const commitment = sub(mulBase(proof.s), mul(proof.c, point));
  return pokChallenge(ctx, point, commitment) === proof.c;
}

/** What a partial decryption's proof is bound to. */
export interface DecryptContext {
  electionId: string;
  manifestHash: string;
  aggregateHash: string;
  trustee: string;
  contest: string;
  choice: string;
}

function decryptChallenge(
  ctx: DecryptContext,
  alpha: Element,
  share: Element,
  verificationKey: Element,
  w1: Element,
  w2: Element,
): bigint {
  return hashToScalar(DECRYPT_DOMAIN, {
    ...ctx,
    alpha: hex(alpha),
    share: hex(share),
    verificationKey: hex(verificationKey),
    commitments: [hex(w1), hex(w2)],
  });
}

/** D = x·α with a proof that log_G X = log_α D. */
export function proveDecryptShare(
  ctx: DecryptContext,
  keyShare: bigint,
  alpha: Element,
  w: bigint,
): { share: Element; proof: ScalarProof } {
  const share = mul(keyShare, alpha);
  const verificationKey = mulBase(keyShare);
  const c = decryptChallenge(ctx, alpha, share, verificationKey, mulBase(w), mul(w, alpha));
  return { share, proof: { c, s: mod(w + c * keyShare) } };
}

export function verifyDecryptShare(
  ctx: DecryptContext,
  alpha: Element,
  share: Element,
  verificationKey: Element,
  proof: ScalarProof,
): boolean {
  const w1 = sub(mulBase(proof.s), mul(proof.c, verificationKey));
  const w2 = sub(mul(proof.s, alpha), mul(proof.c, share));
  return decryptChallenge(ctx, alpha, share, verificationKey, w1, w2) === proof.c;
}
