// Ballots of wire format v2 (docs/protocol.md 12.4): their shape, the validity rule (a pure function of
// the ballot, the manifest and the election key, which the ingest's worker threads run before a 201 and
// the verifier runs again), and encryption with proofs (the CLI's `vote`, the tests, the benches, the
// vectors). The browser has its own prover (web/src/v2/).
import { jcsBytes } from '../jcs.js';
import { isHex, sha256 } from '../hash.js';
import { keyPairFromSeed, signMessage, strictVerify } from '../ed25519.js';
import { HexError, ID_RE, type Manifest, ValidationError } from '../protocol.js';
import {
  add,
  type Element,
  elementFromHex,
  hex,
  mul,
  mulBase,
  type ScalarSource,
  scalarFromHex,
  smallMultiple,
  sum,
  systemScalars,
} from './group.js';
import {
  type BallotProofContext,
  type DisjunctiveProofJson,
  disjunctiveFromJson,
  disjunctiveToJson,
  proveDisjunctive,
  verifyDisjunctive,
} from './proofs.js';

export const BALLOT_V2_DOMAIN = 'tallyproof:ballot:v2:';

export interface EncryptedChoice {
  alpha: string;
  beta: string;
  proof: DisjunctiveProofJson;
}
export interface EncryptedContest {
  choices: EncryptedChoice[];
  proof: DisjunctiveProofJson;
}
export interface EncryptedBallot {
  version: 2;
  electionId: string;
  credential: string;
  contests: Record<string, EncryptedContest>;
}
export interface EncryptedSubmission {
  ballot: EncryptedBallot;
  signature: string;
}

/** What validity needs besides the ballot: the manifest, its hash and the election key. */
export interface EncryptedElectionContext {
  manifest: Manifest;
  manifestHash: string;
  /** H, from the key ceremony. */
  publicKey: string;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}
function exactKeys(v: Record<string, unknown>, keys: readonly string[], path: string): void {
  for (const k of keys) if (!Object.hasOwn(v, k)) throw new ValidationError(`${path}.${k}`, 'is required');
  for (const k of Object.keys(v)) if (!keys.includes(k)) throw new ValidationError(`${path}.${k}`, 'is not allowed');
}
function hexList(v: unknown, path: string, max: number): void {
  if (!Array.isArray(v) || v.length === 0 || v.length > max)
    throw new ValidationError(path, `must be an array of 1..${max} scalars`);
  for (const x of v) if (!isHex(x, 32)) throw new HexError(path, 'must hold 32-byte lowercase hex scalars');
}
function proofShape(v: unknown, path: string, max: number): void {
  if (!isPlainObject(v)) throw new ValidationError(path, 'must be an object');
  exactKeys(v, ['c', 's'], path);
  hexList(v.c, `${path}.c`, max);
  hexList(v.s, `${path}.s`, max);
}

/**
 * The shape of a version 2 submission (exact keys, types, lowercase hex; not the manifest's rules, not
 * the proofs, not the signature). Throws ValidationError (HexError for byte fields).
 */
export function parseEncryptedSubmission(input: unknown): EncryptedSubmission {
  if (!isPlainObject(input)) throw new ValidationError('body', 'must be an object');
  exactKeys(input, ['ballot', 'signature'], 'body');
  const b = input.ballot;
  if (!isPlainObject(b)) throw new ValidationError('body.ballot', 'must be an object');
  exactKeys(b, ['version', 'electionId', 'credential', 'contests'], 'body.ballot');
  if (b.version !== 2) throw new ValidationError('body.ballot.version', 'must be 2');
  if (typeof b.electionId !== 'string' || !ID_RE.test(b.electionId))
    throw new ValidationError('body.ballot.electionId', 'must match ^[a-z0-9][a-z0-9-]{0,63}$');
  if (!isHex(b.credential, 32)) throw new HexError('body.ballot.credential', 'must be 32-byte lowercase hex');
  if (!isPlainObject(b.contests)) throw new ValidationError('body.ballot.contests', 'must be an object');
  const ids = Object.keys(b.contests);
  if (ids.length > 64) throw new ValidationError('body.ballot.contests', 'has more than 64 contests');
  for (const c of ids) {
    const p = `body.ballot.contests.${c.slice(0, 64)}`;
    const contest = b.contests[c];
    if (!isPlainObject(contest)) throw new ValidationError(p, 'must be an object');
    exactKeys(contest, ['choices', 'proof'], p);
    if (!Array.isArray(contest.choices) || contest.choices.length === 0 || contest.choices.length > 64)
      throw new ValidationError(`${p}.choices`, 'must be an array of 1..64 encrypted choices');
    contest.choices.forEach((k, i) => {
      const q = `${p}.choices[${i}]`;
      if (!isPlainObject(k)) throw new ValidationError(q, 'must be an object');
      exactKeys(k, ['alpha', 'beta', 'proof'], q);
      if (!isHex(k.alpha, 32)) throw new HexError(`${q}.alpha`, 'must be 32-byte lowercase hex');
      if (!isHex(k.beta, 32)) throw new HexError(`${q}.beta`, 'must be 32-byte lowercase hex');
      proofShape(k.proof, `${q}.proof`, 2);
    });
    proofShape(contest.proof, `${p}.proof`, 65);
  }
  if (!isHex(input.signature, 64)) throw new HexError('body.signature', 'must be 64-byte lowercase hex');
  return input as unknown as EncryptedSubmission;
}

export function encryptedBallotMessage(ballot: EncryptedBallot): Buffer {
  return Buffer.concat([Buffer.from(BALLOT_V2_DOMAIN, 'utf8'), jcsBytes(ballot)]);
}

/** ballotHash = H(JCS({ballot, signature})), as in version 1. */
export function encryptedBallotHash(submission: EncryptedSubmission): Buffer {
  return sha256(jcsBytes({ ballot: submission.ballot, signature: submission.signature }));
}

/** Where a ballot breaks the rule of 12.4, and why. */
export interface BallotProblem {
  /** The error code the API answers with. */
  code: 'invalid-selections' | 'invalid-proof';
  contest: string | null;
  choice: string | null;
  message: string;
}

const range = (min: number, max: number) => Array.from({ length: max - min + 1 }, (_, i) => min + i);

/**
 * The validity rule of 12.4 without the signature (which the ingest checks with the v1 signature path):
 * every contest present, one ciphertext per choice, every point a group element, every scalar canonical,
 * every proof verifying. Null when valid. A pure function of its arguments.
 */
export function encryptedBallotProblem(ctx: EncryptedElectionContext, ballot: EncryptedBallot): BallotProblem | null {
  const h = elementFromHex(ctx.publicKey);
  if (!h) throw new Error('the election key is not a group element');
  const proofCtx: BallotProofContext = {
    electionId: ctx.manifest.electionId,
    manifestHash: ctx.manifestHash,
    publicKey: h,
    credential: ballot.credential,
  };
  const bad = (code: BallotProblem['code'], contest: string | null, choice: string | null, message: string) => ({
    code,
    contest,
    choice,
    message,
  });
  for (const c of Object.keys(ballot.contests))
    if (!ctx.manifest.contests.some((x) => x.id === c))
      return bad('invalid-selections', null, null, `unknown contest ${c.slice(0, 64)}`);
  for (const contest of ctx.manifest.contests) {
    if (!Object.hasOwn(ballot.contests, contest.id))
      return bad('invalid-selections', contest.id, null, `contest ${contest.id} is missing`);
    const enc = ballot.contests[contest.id]!;
    if (enc.choices.length !== contest.choices.length)
      return bad(
        'invalid-selections',
        contest.id,
        null,
        `contest ${contest.id} has ${enc.choices.length} ciphertexts for ${contest.choices.length} choices`,
      );
    const alphas: Element[] = [];
    const betas: Element[] = [];
    for (let i = 0; i < contest.choices.length; i++) {
      const choice = contest.choices[i]!.id;
      const k = enc.choices[i]!;
      const alpha = elementFromHex(k.alpha);
      const beta = elementFromHex(k.beta);
      if (!alpha || !beta)
        return bad('invalid-proof', contest.id, choice, `contest ${contest.id}, choice ${choice}: not a group element`);
      const proof = k.proof.c.length === 2 && k.proof.s.length === 2 ? disjunctiveFromJson(k.proof) : null;
      if (!proof || !verifyDisjunctive(proofCtx, contest.id, choice, alpha, beta, [0, 1], proof))
        return bad(
          'invalid-proof',
          contest.id,
          choice,
          `contest ${contest.id}, choice ${choice}: the proof that it encrypts 0 or 1 does not verify`,
        );
      alphas.push(alpha);
      betas.push(beta);
    }
    const values = range(contest.minSelections, contest.maxSelections);
    const proof =
      enc.proof.c.length === values.length && enc.proof.s.length === values.length
        ? disjunctiveFromJson(enc.proof)
        : null;
    if (!proof || !verifyDisjunctive(proofCtx, contest.id, null, sum(alphas), sum(betas), values, proof))
      return bad(
        'invalid-proof',
        contest.id,
        null,
        `contest ${contest.id}: the proof that ${contest.minSelections}..${contest.maxSelections} ` +
          'choices are selected does not verify',
      );
  }
  return null;
}

/** The opening of one choice: what it encrypts and its randomness (the Benaloh audit reveals it). */
export interface ChoiceOpening {
  selected: boolean;
  randomness: string;
}

export interface EncryptedBallotWithOpenings {
  submission: EncryptedSubmission;
  ballotHash: string;
  openings: Record<string, ChoiceOpening[]>;
}

/**
 * Encrypt and prove `selections` (contest → chosen choice ids) for the credential whose seed is given, and
 * sign the ballot. The selections must respect the manifest (checked). `random` is the system's by
 * default; the vectors pass a seeded source.
 */
export function encryptBallot(
  ctx: EncryptedElectionContext,
  credentialSeed: Uint8Array,
  selections: Record<string, readonly string[]>,
  random: ScalarSource = systemScalars,
): EncryptedBallotWithOpenings {
  const h = elementFromHex(ctx.publicKey);
  if (!h) throw new Error('the election key is not a group element');
  const keys = keyPairFromSeed(credentialSeed);
  const credential = keys.publicKey.toString('hex');
  const proofCtx: BallotProofContext = {
    electionId: ctx.manifest.electionId,
    manifestHash: ctx.manifestHash,
    publicKey: h,
    credential,
  };
  const contests: Record<string, EncryptedContest> = {};
  const openings: Record<string, ChoiceOpening[]> = {};
  for (const contest of ctx.manifest.contests) {
    const chosen = selections[contest.id] ?? [];
    for (const k of chosen)
      if (!contest.choices.some((x) => x.id === k)) throw new Error(`contest ${contest.id}: unknown choice ${k}`);
    if (new Set(chosen).size !== chosen.length) throw new Error(`contest ${contest.id}: a choice repeats`);
    if (chosen.length < contest.minSelections || chosen.length > contest.maxSelections)
      throw new Error(`contest ${contest.id}: ${contest.minSelections}..${contest.maxSelections} choices`);
    const choices: EncryptedChoice[] = [];
    const opened: ChoiceOpening[] = [];
    let alphaSum: Element | null = null;
    let betaSum: Element | null = null;
    let rSum = 0n;
    for (const choice of contest.choices) {
      const m = chosen.includes(choice.id) ? 1 : 0;
      const label = `${credential}/${contest.id}/${choice.id}`;
      const r = random(`${label}/r`);
      const alpha = mulBase(r);
      const beta = add(smallMultiple(m), mul(r, h));
      const proof = proveDisjunctive(proofCtx, contest.id, choice.id, alpha, beta, [0, 1], m, r, random, label);
      choices.push({ alpha: hex(alpha), beta: hex(beta), proof: disjunctiveToJson(proof) });
      opened.push({ selected: m === 1, randomness: hex(r) });
      alphaSum = alphaSum ? add(alphaSum, alpha) : alpha;
      betaSum = betaSum ? add(betaSum, beta) : beta;
      rSum += r;
    }
    const values = range(contest.minSelections, contest.maxSelections);
    const proof = proveDisjunctive(
      proofCtx,
      contest.id,
      null,
      alphaSum!,
      betaSum!,
      values,
      values.indexOf(chosen.length),
      rSum,
      random,
      `${credential}/${contest.id}`,
    );
    contests[contest.id] = { choices, proof: disjunctiveToJson(proof) };
    openings[contest.id] = opened;
  }
  const ballot: EncryptedBallot = { version: 2, electionId: ctx.manifest.electionId, credential, contests };
  const signature = signMessage(keys.privateKeyObject, encryptedBallotMessage(ballot)).toString('hex');
  const submission = { ballot, signature };
  return { submission, ballotHash: encryptedBallotHash(submission).toString('hex'), openings };
}

/** The audited-ballot file of 12.8. */
export interface AuditedBallot {
  version: 2;
  kind: 'audited-ballot';
  submission: EncryptedSubmission;
  ballotHash: string;
  openings: Record<string, ChoiceOpening[]>;
}

export function auditedBallot(b: EncryptedBallotWithOpenings): AuditedBallot {
  return {
    version: 2,
    kind: 'audited-ballot',
    submission: b.submission,
    ballotHash: b.ballotHash,
    openings: b.openings,
  };
}

/**
 * Check an audited ballot (12.8): its hash, its signature, its proofs, and that every ciphertext opens to
 * what `openings` says. Returns the selections it encrypted, or throws with the reason.
 */
export function checkAuditedBallot(ctx: EncryptedElectionContext, audited: AuditedBallot): Record<string, string[]> {
  const submission = parseEncryptedSubmission(audited.submission);
  if (encryptedBallotHash(submission).toString('hex') !== audited.ballotHash)
    throw new Error('ballotHash is not the hash of the submission');
  const sigProblem = strictVerify(
    Buffer.from(submission.ballot.credential, 'hex'),
    encryptedBallotMessage(submission.ballot),
    Buffer.from(submission.signature, 'hex'),
  );
  if (sigProblem) throw new Error(`the signature does not verify (${sigProblem})`);
  const problem = encryptedBallotProblem(ctx, submission.ballot);
  if (problem) throw new Error(problem.message);
  const h = elementFromHex(ctx.publicKey)!;
  const selections: Record<string, string[]> = {};
  for (const contest of ctx.manifest.contests) {
    const opened = audited.openings[contest.id];
    if (!Array.isArray(opened) || opened.length !== contest.choices.length)
      throw new Error(`contest ${contest.id}: one opening per choice is needed`);
    selections[contest.id] = [];
    contest.choices.forEach((choice, i) => {
      const o = opened[i]!;
      const r = scalarFromHex(o.randomness);
      if (r === null || typeof o.selected !== 'boolean')
        throw new Error(`contest ${contest.id}, choice ${choice.id}: malformed opening`);
      const enc = submission.ballot.contests[contest.id]!.choices[i]!;
      const alpha = mulBase(r);
      const beta = add(smallMultiple(o.selected ? 1 : 0), mul(r, h));
      if (hex(alpha) !== enc.alpha || hex(beta) !== enc.beta)
        throw new Error(`contest ${contest.id}, choice ${choice.id}: the ciphertext does not open to the opening`);
      if (o.selected) selections[contest.id]!.push(choice.id);
    });
  }
  return selections;
}
