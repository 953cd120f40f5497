// A small prover for wire format v2 (docs/protocol.md 12), written for the verifier's tests and bench on
// the verifier's own group code: ElGamal encryption, the disjunctive Chaum–Pedersen proof, Schnorr proofs
// of knowledge, Chaum–Pedersen partial decryptions, and the share encryption of the key ceremony. It is
// the other side of src/v2/proofs.ts, so a round trip checks both against the spec's equations; the
// vectors (docs/test-vectors/v2/, from the server's core) check them against a second implementation.
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import {
  add,
  addScalars,
  hashToScalar,
  IDENTITY,
  intLE,
  mod,
  mul,
  mulBase,
  mulScalars,
  ORDER,
  pointHex,
  sub,
  subScalars,
  type Point,
} from '../../src/v2/group.js';
import {
  BALLOT_PROOF_DOMAIN,
  DECRYPT_DOMAIN,
  POK_DOMAIN,
  type DecryptStatement,
  type DisjunctiveStatement,
  type PokStatement,
} from '../../src/v2/proofs.js';
import { jcsText } from '../support/election.js';

/** A source of scalars in [0, ℓ). */
export type Rng = () => bigint;

/** Fresh randomness (64 bytes reduced mod ℓ: no measurable bias). */
export const randomScalar: Rng = () => intLE(randomBytes(64)) % ORDER;

/** A deterministic stream of scalars: SHA-512(seed || counter) mod ℓ, for reproducible tests. */
export function seededRng(seed: string): Rng {
  let counter = 0;
  return () => intLE(createHash('sha512').update(`${seed}/${counter++}`).digest()) % ORDER;
}

export const hex = (k: bigint): string =>
  Buffer.from(k.toString(16).padStart(64, '0'), 'hex').reverse().toString('hex');

/** Exponential ElGamal: (r·G, m·G + r·H). */
export function encrypt(m: number, r: bigint, publicKey: Point): { alpha: Point; beta: Point } {
  return { alpha: mulBase(r), beta: add(mulBase(BigInt(m)), mul(publicKey, r)) };
}

/** The disjunctive proof that the statement's (α, β) encrypts values[trueIndex] with randomness r. */
export function proveDisjunctive(
  st: DisjunctiveStatement,
  trueIndex: number,
  r: bigint,
  rng: Rng = randomScalar,
): { c: bigint[]; s: bigint[] } {
  const t = st.values.length;
  const c: bigint[] = new Array<bigint>(t).fill(0n);
  const s: bigint[] = new Array<bigint>(t).fill(0n);
  const commitments: [string, string][] = [];
  const w = rng();
  for (let j = 0; j < t; j++) {
    if (j === trueIndex) {
      commitments.push([pointHex(mulBase(w)), pointHex(mul(st.publicKey, w))]);
      continue;
    }
    c[j] = rng();
    s[j] = rng();
    const a = sub(mulBase(s[j]!), mul(st.alpha, c[j]!));
    const shifted = sub(st.beta, mulBase(BigInt(st.values[j]!)));
    const b = sub(mul(st.publicKey, s[j]!), mul(shifted, c[j]!));
    commitments.push([pointHex(a), pointHex(b)]);
  }
  const challenge = hashToScalar(BALLOT_PROOF_DOMAIN, {
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
  let others = 0n;
  for (let j = 0; j < t; j++) if (j !== trueIndex) others = addScalars(others, c[j]!);
  c[trueIndex] = subScalars(challenge, others);
  s[trueIndex] = addScalars(w, mulScalars(c[trueIndex]!, r));
  return { c, s };
}

/** The Schnorr proof of knowledge of a with st.point = a·G. */
export function provePok(st: PokStatement, a: bigint, rng: Rng = randomScalar): { c: bigint; s: bigint } {
  const w = rng();
  const c = hashToScalar(POK_DOMAIN, {
    electionId: st.electionId,
    manifestHash: st.manifestHash,
    trustee: st.trustee,
    purpose: st.purpose,
    point: pointHex(st.point),
    commitment: pointHex(mulBase(w)),
  });
  return { c, s: addScalars(w, mulScalars(c, a)) };
}

/** The Chaum–Pedersen proof that log_G X = log_α D = x. */
export function proveDecryptShare(st: DecryptStatement, x: bigint, rng: Rng = randomScalar): { c: bigint; s: bigint } {
  const w = rng();
  const c = hashToScalar(DECRYPT_DOMAIN, {
    electionId: st.electionId,
    manifestHash: st.manifestHash,
    aggregateHash: st.aggregateHash,
    trustee: st.trustee,
    contest: st.contest,
    choice: st.choice,
    alpha: pointHex(st.alpha),
    share: pointHex(st.share),
    verificationKey: pointHex(st.verificationKey),
    commitments: [pointHex(mulBase(w)), pointHex(mul(st.alpha, w))],
  });
  return { c, s: addScalars(w, mulScalars(c, x)) };
}

/** f(z) = Σ coefficients[m]·z^m mod ℓ. */
export function evaluatePolynomial(coefficients: readonly bigint[], z: number): bigint {
  let out = 0n;
  for (let m = coefficients.length - 1; m >= 0; m--) out = mod(out * BigInt(z) + coefficients[m]!);
  return out;
}

/** 12.3 step 2: the share encrypted to E_j: {"ephemeral":R,"ciphertext":HEX48}. */
export function encryptShare(
  share: bigint,
  shareKey: Point,
  ctx: { electionId: string; from: string; to: string },
  rng: Rng = randomScalar,
): { ephemeral: string; ciphertext: string } {
  const rho = rng();
  const ephemeral = pointHex(mulBase(rho));
  const shared = pointHex(mul(shareKey, rho));
  const key = createHash('sha256')
    .update('tallyproof:share:v2:')
    .update(jcsText({ electionId: ctx.electionId, from: ctx.from, to: ctx.to, ephemeral, shared }))
    .digest();
  const cipher = createCipheriv('aes-256-gcm', key, Buffer.alloc(12));
  const body = Buffer.concat([cipher.update(Buffer.from(hex(share), 'hex')), cipher.final()]);
  return { ephemeral, ciphertext: Buffer.concat([body, cipher.getAuthTag()]).toString('hex') };
}

/** The sum of points (the identity for none). */
export function sumPoints(points: readonly Point[]): Point {
  return points.reduce((acc, p) => add(acc, p), Buffer.from(IDENTITY));
}
