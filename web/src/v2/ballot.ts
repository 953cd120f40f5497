// Version 2 ballots (docs/protocol.md section 12.4): the voter's selections encrypted choice by choice under
// the election key H, a proof per choice that it is 0 or 1 and a proof per contest that the number selected
// is within [minSelections, maxSelections], signed by the credential as in version 1. The randomness of
// every ciphertext (the opening) is kept with the ballot until it is cast or audited (12.8, the Benaloh
// challenge): an audited ballot is opened, checked and thrown away, never cast.
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { isHex, jcs, publicKeyOf, sha256Hex, verifyEd25519Strict, type Contest, type Selections } from '../protocol.js';
import { chosenIn, selectionProblems } from '../selections.js';
import { decodeCiphertext, encodeCiphertext, encrypt, opens, sumCiphertexts, type Ciphertext } from './elgamal.js';
import {
  DecodeError,
  decodePoint,
  decodeScalar,
  encodeScalar,
  precomputed,
  randomScalar,
  type Point,
} from './group.js';
import { proveDisjunctive, verifyDisjunctive, type BallotProofContext, type DisjunctiveProof } from './proofs.js';

export const BALLOT_V2_PREFIX = 'tallyproof:ballot:v2:';

export interface TrusteeRef {
  id: string;
  key: string;
}

/** The version 2 manifest (12.2): a version 1 manifest plus the ballot mode, the trustees and the threshold. */
export interface ManifestV2 {
  version: 2;
  electionId: string;
  title: string;
  contests: Contest[];
  opensAt: string;
  closesAt: string;
  windowSeconds: number;
  ledgerKey: string;
  ballotMode: 'encrypted';
  trustees: TrusteeRef[];
  threshold: number;
}

export interface EncryptedChoice {
  alpha: string;
  beta: string;
  proof: DisjunctiveProof;
}
export interface EncryptedContest {
  choices: EncryptedChoice[];
  proof: DisjunctiveProof;
}
export interface BallotV2 {
  version: 2;
  electionId: string;
  credential: string;
  contests: Record<string, EncryptedContest>;
}
export interface SubmissionV2 {
  ballot: BallotV2;
  signature: string;
}
/** Per contest, in manifest order: whether each choice was selected, and the randomness r of its ciphertext. */
export type Openings = Record<string, { selected: boolean; randomness: string }[]>;

/** A ballot encrypted and signed on this device, with its openings (secret: they reveal the vote). */
export interface EncryptedBallot {
  submission: SubmissionV2;
  ballotHash: string;
  openings: Openings;
}

/** What a ballot is encrypted and checked against: the manifest, its hash and the election key H (hex). */
export interface ElectionKeyContext {
  manifest: ManifestV2;
  manifestHash: string;
  publicKey: string;
}

export interface AuditedBallotFile {
  version: 2;
  kind: 'audited-ballot';
  submission: SubmissionV2;
  ballotHash: string;
  openings: Openings;
}

/** Whether a manifest (as GET /api/v1/elections/{id} gives it) is a version 2, encrypted one. */
export function isManifestV2(manifest: { version: number }): manifest is ManifestV2 {
  return manifest.version === 2 && (manifest as Partial<ManifestV2>).ballotMode === 'encrypted';
}

export function ballotMessageV2(ballot: BallotV2): Uint8Array {
  return utf8ToBytes(BALLOT_V2_PREFIX + jcs(ballot));
}

/** ballotHash = H(JCS({"ballot","signature"})), as in version 1. */
export function ballotHashV2(submission: { ballot: unknown; signature: unknown }): string {
  return sha256Hex(jcs({ ballot: submission.ballot, signature: submission.signature }));
}

/** Values of a contest's proof: one branch per count from minSelections to maxSelections. */
export function contestValues(c: Contest): number[] {
  const values: number[] = [];
  for (let v = c.minSelections; v <= c.maxSelections; v++) values.push(v);
  return values;
}

const CHOICE_VALUES = [0, 1] as const;

/** Gives the page a moment to repaint (a progress bar) every ~30 ms of work; nothing to do under Node. */
function makeYielder(): () => Promise<void> {
  let last = Date.now();
  return async () => {
    if (Date.now() - last < 30) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    last = Date.now();
  };
}

function proofContext(ctx: ElectionKeyContext, credential: string, contest: string, choice: string | null) {
  return {
    electionId: ctx.manifest.electionId,
    manifestHash: ctx.manifestHash,
    publicKey: ctx.publicKey,
    credential,
    contest,
    choice,
  } satisfies BallotProofContext;
}

/**
 * Encrypt, prove and sign a ballot for `selections` (which must respect the manifest) with the credential's
 * seed. `onProgress` gets the fraction done; the work yields to the page now and then.
 */
export async function encryptBallot(
  ctx: ElectionKeyContext,
  seed: Uint8Array,
  selections: Selections,
  onProgress?: (fraction: number) => void,
): Promise<EncryptedBallot> {
  const { manifest } = ctx;
  const problems = selectionProblems(manifest.contests, selections);
  if (problems.length > 0) throw new RangeError(`the selections break contest ${problems[0]!.contest.id}`);
  const H = precomputed(decodePoint(ctx.publicKey));
  const credential = publicKeyOf(seed);
  const total = manifest.contests.reduce((n, c) => n + c.choices.length + 1, 0);
  let done = 0;
  const pause = makeYielder();
  const contests: [string, EncryptedContest][] = [];
  const openings: [string, Openings[string]][] = [];
  for (const c of manifest.contests) {
    const chosen = chosenIn(selections, c.id) ?? [];
    for (const id of chosen) {
      if (!c.choices.some((k) => k.id === id)) throw new RangeError(`${id} is not a choice of contest ${c.id}`);
    }
    const choices: EncryptedChoice[] = [];
    const cts: Ciphertext[] = [];
    const rs: bigint[] = [];
    const opened: Openings[string] = [];
    for (const k of c.choices) {
      const selected = chosen.includes(k.id);
      const m = selected ? 1 : 0;
      const r = randomScalar();
      const ct = encrypt(m, r, H);
      const proof = proveDisjunctive(proofContext(ctx, credential, c.id, k.id), ct, H, CHOICE_VALUES, m, r);
      choices.push({ ...encodeCiphertext(ct), proof });
      cts.push(ct);
      rs.push(r);
      opened.push({ selected, randomness: encodeScalar(r) });
      onProgress?.(++done / total);
      await pause();
    }
    const values = contestValues(c);
    const count = opened.filter((o) => o.selected).length;
    const sum = sumCiphertexts(cts);
    const rSum = rs.reduce((a, b) => a + b, 0n);
    const proof = proveDisjunctive(
      proofContext(ctx, credential, c.id, null),
      sum,
      H,
      values,
      values.indexOf(count),
      rSum,
    );
    contests.push([c.id, { choices, proof }]);
    openings.push([c.id, opened]);
    onProgress?.(++done / total);
    await pause();
  }
  const ballot: BallotV2 = {
    version: 2,
    electionId: manifest.electionId,
    credential,
    contests: Object.fromEntries(contests),
  };
  const submission: SubmissionV2 = { ballot, signature: bytesToHex(ed25519.sign(ballotMessageV2(ballot), seed)) };
  return { submission, ballotHash: ballotHashV2(submission), openings: Object.fromEntries(openings) };
}

// ---------------------------------------------------------------------------------------------
// Checking a ballot (validity, 12.4) and an audited ballot (12.8)

export type BallotCheck = { ok: true } | { ok: false; reason: string; contest?: string; choice?: string };

function hasExactKeys(value: unknown, keys: string): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).sort().join(',') === keys
  );
}

/**
 * Validity of a version 2 submission (12.4), as the server and the verifier decide it: the shape with exact
 * keys, every point a group element, every proof verifying (scalars canonical), and the strict signature.
 */
export async function verifyBallotV2(
  submission: unknown,
  ctx: ElectionKeyContext,
  onProgress?: (fraction: number) => void,
): Promise<BallotCheck> {
  if (!hasExactKeys(submission, 'ballot,signature')) return { ok: false, reason: 'the submission is malformed' };
  const ballot = submission.ballot;
  if (!hasExactKeys(ballot, 'contests,credential,electionId,version') || ballot.version !== 2)
    return { ok: false, reason: 'the ballot is malformed' };
  if (ballot.electionId !== ctx.manifest.electionId) return { ok: false, reason: 'the ballot names another election' };
  if (!isHex(ballot.credential, 32) || !isHex(submission.signature, 64))
    return { ok: false, reason: 'the credential or the signature is not hex of the right length' };
  const contests = ballot.contests;
  if (typeof contests !== 'object' || contests === null || Array.isArray(contests))
    return { ok: false, reason: 'the ballot has no contests object' };
  const expected = ctx.manifest.contests.map((c) => c.id);
  if (Object.keys(contests).sort().join('\n') !== [...expected].sort().join('\n'))
    return { ok: false, reason: 'the ballot does not list exactly the contests of the manifest' };
  const H = precomputed(decodePoint(ctx.publicKey));
  const credential = ballot.credential;
  const total = ctx.manifest.contests.reduce((n, c) => n + c.choices.length + 1, 0);
  let done = 0;
  const pause = makeYielder();
  for (const c of ctx.manifest.contests) {
    const entry = (contests as Record<string, unknown>)[c.id];
    if (
      !hasExactKeys(entry, 'choices,proof') ||
      !Array.isArray(entry.choices) ||
      entry.choices.length !== c.choices.length
    )
      return { ok: false, reason: 'the contest is malformed', contest: c.id };
    const cts: Ciphertext[] = [];
    for (const [i, k] of c.choices.entries()) {
      const choice = entry.choices[i] as unknown;
      if (!hasExactKeys(choice, 'alpha,beta,proof'))
        return { ok: false, reason: 'malformed', contest: c.id, choice: k.id };
      let ct: Ciphertext;
      try {
        ct = decodeCiphertext(choice as { alpha: unknown; beta: unknown });
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        return { ok: false, reason: `not a group element: ${err.message}`, contest: c.id, choice: k.id };
      }
      if (!verifyDisjunctive(proofContext(ctx, credential, c.id, k.id), ct, H, CHOICE_VALUES, choice.proof))
        return {
          ok: false,
          reason: 'the proof that the choice is 0 or 1 does not verify',
          contest: c.id,
          choice: k.id,
        };
      cts.push(ct);
      onProgress?.(++done / total);
      await pause();
    }
    const values = contestValues(c);
    if (!verifyDisjunctive(proofContext(ctx, credential, c.id, null), sumCiphertexts(cts), H, values, entry.proof))
      return { ok: false, reason: 'the proof of the number of choices does not verify', contest: c.id };
    onProgress?.(++done / total);
    await pause();
  }
  const signed = verifyEd25519Strict(
    hexToBytes(credential),
    ballotMessageV2(ballot as unknown as BallotV2),
    hexToBytes(submission.signature),
  );
  return signed ? { ok: true } : { ok: false, reason: 'the signature does not verify' };
}

/** The opening file of an audited ballot (12.8). */
export function auditedBallotFile(ballot: EncryptedBallot): AuditedBallotFile {
  return {
    version: 2,
    kind: 'audited-ballot',
    submission: ballot.submission,
    ballotHash: ballot.ballotHash,
    openings: ballot.openings,
  };
}

export type AuditCheck =
  | { ok: true; selections: Selections; ballotHash: string }
  | { ok: false; reason: string; contest?: string; choice?: string };

/**
 * Check an audited ballot's opening (12.8): its ballotHash is the submission's, every choice opens
 * (α = r·G, β = m·G + r·H with m = 1 when selected) and the selections respect the manifest. Gives the
 * selections it encrypted. The ballot's own validity (proofs, signature) is verifyBallotV2's.
 */
export function checkAuditedBallot(file: unknown, ctx: { manifest: ManifestV2; publicKey: string }): AuditCheck {
  if (!hasExactKeys(file, 'ballotHash,kind,openings,submission,version') || file.version !== 2)
    return { ok: false, reason: 'this is not an audited ballot file' };
  if (file.kind !== 'audited-ballot') return { ok: false, reason: 'this is not an audited ballot file' };
  const submission = file.submission;
  if (!hasExactKeys(submission, 'ballot,signature')) return { ok: false, reason: 'the submission is malformed' };
  if (
    !isHex(file.ballotHash, 32) ||
    ballotHashV2({ ballot: submission.ballot, signature: submission.signature }) !== file.ballotHash
  )
    return { ok: false, reason: 'the ballot hash is not the hash of the submission' };
  const ballot = submission.ballot as Partial<BallotV2> | null;
  if (typeof ballot !== 'object' || ballot === null || ballot.electionId !== ctx.manifest.electionId)
    return { ok: false, reason: 'the ballot is not one of this election' };
  const contests = ballot.contests;
  const openings = file.openings;
  if (typeof contests !== 'object' || contests === null || typeof openings !== 'object' || openings === null)
    return { ok: false, reason: 'the ballot or its openings are malformed' };
  const ids = [...ctx.manifest.contests.map((c) => c.id)].sort().join('\n');
  if (Object.keys(contests).sort().join('\n') !== ids || Object.keys(openings).sort().join('\n') !== ids)
    return { ok: false, reason: 'the ballot or its openings do not list exactly the contests of the manifest' };
  let H: Point;
  try {
    H = precomputed(decodePoint(ctx.publicKey));
  } catch {
    return { ok: false, reason: 'the election key is not a group element' };
  }
  const selections: [string, string[]][] = [];
  for (const c of ctx.manifest.contests) {
    const entry = (contests as Record<string, EncryptedContest | undefined>)[c.id];
    const opened = (openings as Record<string, unknown>)[c.id];
    if (!Array.isArray(entry?.choices) || entry.choices.length !== c.choices.length)
      return { ok: false, reason: 'the contest is malformed', contest: c.id };
    if (!Array.isArray(opened) || opened.length !== c.choices.length)
      return { ok: false, reason: 'the openings do not have one entry per choice', contest: c.id };
    const chosen: string[] = [];
    for (const [i, k] of c.choices.entries()) {
      const o = opened[i] as unknown;
      if (!hasExactKeys(o, 'randomness,selected') || typeof o.selected !== 'boolean')
        return { ok: false, reason: 'the opening is malformed', contest: c.id, choice: k.id };
      let r: bigint;
      let ct: Ciphertext;
      try {
        r = decodeScalar(o.randomness);
        ct = decodeCiphertext(entry.choices[i]!);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        return { ok: false, reason: err.message, contest: c.id, choice: k.id };
      }
      if (!opens(ct, o.selected ? 1 : 0, r, H))
        return { ok: false, reason: 'the encryption does not match its opening', contest: c.id, choice: k.id };
      if (o.selected) chosen.push(k.id);
    }
    selections.push([c.id, chosen]);
  }
  const result: Selections = Object.fromEntries(selections);
  const broken = selectionProblems(ctx.manifest.contests, result)[0];
  if (broken) return { ok: false, reason: 'the selections break the manifest', contest: broken.contest.id };
  return { ok: true, selections: result, ballotHash: file.ballotHash };
}
