// A version 2 ballot (docs/protocol.md 12.4), from the text: its validity is a pure function of the
// ballot, the manifest and the election key H — exact keys at every level, every contest of the manifest
// and its choices in manifest order, every point a group element, every scalar canonical, each choice's
// proof that it encrypts 0 or 1, each contest's proof that its sum encrypts a count in
// [minSelections, maxSelections]. The voter's signature (over "tallyproof:ballot:v2:" || JCS(ballot)) is
// checked with the verifier's strict Ed25519 code: by the audit's row check, and here for a submission.
// Ballots come from the ledger under audit: the first problem is returned, never thrown.
import { verifyStrict, type Engine } from '../ed25519.js';
import { isHex, sha256Hex, utf8 } from '../hex.js';
import { jcs } from '../jcs.js';
import { hasExactKeys, isPlainObject, ownValue } from '../protocol.js';
import { add, decodeElement, decodeScalar, IDENTITY, type Point } from './group.js';
import type { ManifestV2 } from './manifest.js';
import { verifyDisjunctive } from './proofs.js';

/** Domain prefix of the message a voter signs in version 2 (as long as v1's "tallyproof:ballot:v1:"). */
export const BALLOT_V2_DOMAIN = 'tallyproof:ballot:v2:';

/** What a ballot is checked against; plain data, so it travels to worker threads. */
export interface BallotV2Context {
  electionId: string;
  /** H(JCS(manifest)), lowercase hex. */
  manifestHash: string;
  /** The election key H, lowercase hex (a group element: the transcript check computed it). */
  publicKey: string;
  contests: { id: string; min: number; max: number; choices: string[] }[];
}

export function ballotV2Context(manifest: ManifestV2, manifestHash: string, publicKey: string): BallotV2Context {
  return {
    electionId: manifest.electionId,
    manifestHash,
    publicKey,
    contests: manifest.contests.map((c) => ({
      id: c.id,
      min: c.minSelections,
      max: c.maxSelections,
      choices: c.choices.map((k) => k.id),
    })),
  };
}

/** The number of choices over all contests: a ballot's ciphertexts, in manifest order. */
export function flatChoiceCount(ctx: BallotV2Context): number {
  return ctx.contests.reduce((n, c) => n + c.choices.length, 0);
}

/** Bytes per choice in a ballot's packed ciphertexts: α then β. */
export const CIPHERTEXT_BYTES = 64;

export type BallotV2Check =
  | {
      ok: true;
      /** α || β of every choice, in manifest order (flatChoiceCount × 64 bytes). */
      ciphertexts: Uint8Array;
    }
  | { ok: false; code: 'ballot-invalid' | 'invalid-proof'; problem: string };

interface Prepared {
  publicKey: Point;
  ranges: number[][];
  choices: number;
}
const prepared = new WeakMap<BallotV2Context, Prepared>();

function prepare(ctx: BallotV2Context): Prepared {
  let p = prepared.get(ctx);
  if (p === undefined) {
    const publicKey = decodeElement(ctx.publicKey);
    if (publicKey === null) throw new TypeError('ballot context: the election key is not a group element');
    const ranges = ctx.contests.map((c) => Array.from({ length: c.max - c.min + 1 }, (_, i) => c.min + i));
    p = { publicKey, ranges, choices: flatChoiceCount(ctx) };
    prepared.set(ctx, p);
  }
  return p;
}

const BALLOT_KEYS = ['version', 'electionId', 'credential', 'contests'] as const;
const shape = (problem: string): BallotV2Check => ({ ok: false, code: 'ballot-invalid', problem });
const invalid = (problem: string): BallotV2Check => ({ ok: false, code: 'invalid-proof', problem });
const shown = (v: string): string => JSON.stringify(v.slice(0, 64));

/** A proof {"c":[…],"s":[…]} of `t` branches, its scalars decoded; a string says what is wrong. */
function readProof(v: unknown, t: number): { c: bigint[]; s: bigint[] } | { shape: string } | { scalar: string } {
  if (!isPlainObject(v) || !hasExactKeys(v, ['c', 's'])) return { shape: 'its proof must be {"c","s"}' };
  const { c, s } = v;
  if (!Array.isArray(c) || !Array.isArray(s) || c.length !== t || s.length !== t)
    return { shape: `its proof must have ${t} c and ${t} s` };
  const cs: bigint[] = [];
  const ss: bigint[] = [];
  for (let j = 0; j < t; j++) {
    if (!isHex(c[j], 32) || !isHex(s[j], 32)) return { shape: 'its proof scalars must be 32-byte lowercase hex' };
    const cj = decodeScalar(c[j]);
    const sj = decodeScalar(s[j]);
    if (cj === null || sj === null) return { scalar: `its proof has a scalar that is not canonical (>= ℓ)` };
    cs.push(cj);
    ss.push(sj);
  }
  return { c: cs, s: ss };
}

/**
 * The ballot's validity without the signature: the first problem, naming the contest and choice, or the
 * ciphertexts. Never throws on bad input.
 */
export function checkBallotV2(ballot: unknown, ctx: BallotV2Context): BallotV2Check {
  const p = prepare(ctx);
  if (!isPlainObject(ballot) || !hasExactKeys(ballot, BALLOT_KEYS))
    return shape(`the ballot must have exactly the keys ${BALLOT_KEYS.join(', ')}`);
  if (ballot.version !== 2) return shape('ballot.version must be 2');
  if (ballot.electionId !== ctx.electionId)
    return shape(`ballot.electionId is ${shown(String(ballot.electionId))}, not ${ctx.electionId}`);
  if (!isHex(ballot.credential, 32)) return shape('ballot.credential must be 32-byte lowercase hex');
  const credential = ballot.credential;
  const contests = ballot.contests;
  if (!isPlainObject(contests)) return shape('ballot.contests must be an object');
  const given = Object.keys(contests);
  if (given.length !== ctx.contests.length || !ctx.contests.every((c) => Object.hasOwn(contests, c.id))) {
    const unknown = given.find((c) => !ctx.contests.some((x) => x.id === c));
    return shape(unknown !== undefined ? `unknown contest ${shown(unknown)}` : 'a contest is missing');
  }
  const ciphertexts = new Uint8Array(p.choices * CIPHERTEXT_BYTES);
  let flat = 0;
  for (const [ci, contest] of ctx.contests.entries()) {
    const entry = ownValue(contests, contest.id);
    if (!isPlainObject(entry) || !hasExactKeys(entry, ['choices', 'proof']))
      return shape(`contest ${contest.id} must be {"choices","proof"}`);
    const list = entry.choices;
    if (!Array.isArray(list) || list.length !== contest.choices.length)
      return shape(`contest ${contest.id} must have ${contest.choices.length} choices, in manifest order`);
    let sumAlpha: Point = IDENTITY;
    let sumBeta: Point = IDENTITY;
    for (const [k, choiceId] of contest.choices.entries()) {
      const at = `contest ${contest.id} choice ${choiceId}`;
      const choice: unknown = list[k];
      if (!isPlainObject(choice) || !hasExactKeys(choice, ['alpha', 'beta', 'proof']))
        return shape(`${at} must be {"alpha","beta","proof"}`);
      if (!isHex(choice.alpha, 32) || !isHex(choice.beta, 32))
        return shape(`${at}: alpha and beta must be 32-byte lowercase hex`);
      const alpha = decodeElement(choice.alpha);
      if (alpha === null) return invalid(`${at}: alpha is not a group element`);
      const beta = decodeElement(choice.beta);
      if (beta === null) return invalid(`${at}: beta is not a group element`);
      const proof = readProof(choice.proof, 2);
      if ('shape' in proof) return shape(`${at}: ${proof.shape}`);
      if ('scalar' in proof) return invalid(`${at}: ${proof.scalar}`);
      const statement = {
        electionId: ctx.electionId,
        manifestHash: ctx.manifestHash,
        publicKey: p.publicKey,
        publicKeyHex: ctx.publicKey,
        credential,
        contest: contest.id,
        choice: choiceId,
        alpha,
        beta,
        values: [0, 1],
      };
      if (!verifyDisjunctive(statement, proof))
        return invalid(`${at}: the proof that it encrypts 0 or 1 does not verify`);
      ciphertexts.set(alpha, flat * CIPHERTEXT_BYTES);
      ciphertexts.set(beta, flat * CIPHERTEXT_BYTES + 32);
      flat++;
      sumAlpha = add(sumAlpha, alpha);
      sumBeta = add(sumBeta, beta);
    }
    const values = p.ranges[ci]!;
    const proof = readProof(entry.proof, values.length);
    const at = `contest ${contest.id}`;
    if ('shape' in proof) return shape(`${at}: ${proof.shape}`);
    if ('scalar' in proof) return invalid(`${at}: ${proof.scalar}`);
    const statement = {
      electionId: ctx.electionId,
      manifestHash: ctx.manifestHash,
      publicKey: p.publicKey,
      publicKeyHex: ctx.publicKey,
      credential,
      contest: contest.id,
      choice: null,
      alpha: sumAlpha,
      beta: sumBeta,
      values,
    };
    if (!verifyDisjunctive(statement, proof)) {
      const allowed =
        contest.min === contest.max
          ? `${contest.min} choice${contest.min === 1 ? ' is' : 's are'}`
          : `${contest.min} to ${contest.max} choices are`;
      return invalid(`${at}: the proof that ${allowed} selected does not verify`);
    }
  }
  return { ok: true, ciphertexts };
}

/** The bytes a voter signs: "tallyproof:ballot:v2:" || JCS(ballot). */
export function ballotV2Message(ballotJcs: string): Uint8Array {
  return utf8(BALLOT_V2_DOMAIN + ballotJcs);
}

/** ballotHash = H(JCS({"ballot","signature"})), lowercase hex. */
export function submissionHash(ballot: unknown, signature: string): string {
  return sha256Hex(utf8(jcs({ ballot, signature })));
}

export type SubmissionV2Check =
  | { ok: true; ballotHash: string; ciphertexts: Uint8Array }
  | { ok: false; code: 'ballot-invalid' | 'invalid-proof' | 'bad-signature'; problem: string };

/** A whole submission {"ballot","signature"}: validity, then the signature by the ballot's credential. */
export function checkSubmissionV2(
  submission: unknown,
  ctx: BallotV2Context,
  engine: Engine = 'node',
): SubmissionV2Check {
  if (!isPlainObject(submission) || !hasExactKeys(submission, ['ballot', 'signature']))
    return { ok: false, code: 'ballot-invalid', problem: 'a submission is {"ballot","signature"}' };
  const validity = checkBallotV2(submission.ballot, ctx);
  if (!validity.ok) return validity;
  if (!isHex(submission.signature, 64))
    return { ok: false, code: 'bad-signature', problem: 'the signature must be 64-byte lowercase hex' };
  const ballot = submission.ballot as { credential: string };
  const problem = verifyStrict(
    Buffer.from(ballot.credential, 'hex'),
    ballotV2Message(jcs(submission.ballot)),
    Buffer.from(submission.signature, 'hex'),
    engine,
  );
  if (problem !== null)
    return { ok: false, code: 'bad-signature', problem: `the signature does not verify (${problem})` };
  return {
    ok: true,
    ballotHash: submissionHash(submission.ballot, submission.signature),
    ciphertexts: validity.ciphertexts,
  };
}
