// The trustees' side of wire format v2 (docs/protocol.md 12.3 and 12.5): their signed messages, the key
// generation (Pedersen's DKG with Feldman commitments), the partial decryptions, and what the bulletin
// board checks before it accepts a message (`boardDecision`, a pure function the server's route runs).
// Secrets stay with the trustee (scripts/cli/trustee.ts keeps them in the trustee's own file).
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { jcs, jcsBytes } from '../jcs.js';
import { isHex, sha256 } from '../hash.js';
import { keyPairFromSeed, signMessage, strictVerify } from '../ed25519.js';
import { ID_RE, type Manifest } from '../protocol.js';
import {
  add,
  type Element,
  elementFromHex,
  hex,
  mod,
  mul,
  mulBase,
  type ScalarSource,
  scalarFromHex,
  sum,
  systemScalars,
} from './group.js';
import {
  type DecryptContext,
  type PokContext,
  proveDecryptShare,
  provePok,
  type ScalarProof,
  verifyDecryptShare,
  verifyPok,
} from './proofs.js';
import type { Aggregate } from './tally.js';

export const TRUSTEE_DOMAIN = 'tallyproof:trustee:v2:';
export const SHARE_KEY_DOMAIN = 'tallyproof:share:v2:';

export type TrusteeMessageKind = 'keygen-commit' | 'keygen-shares' | 'keygen-confirm' | 'decrypt';
export const KIND_ORDER: readonly TrusteeMessageKind[] = [
  'keygen-commit',
  'keygen-shares',
  'keygen-confirm',
  'decrypt',
];

interface MessageBase {
  version: 2;
  electionId: string;
  manifestHash: string;
  trustee: string;
}
export interface ProofJson {
  c: string;
  s: string;
}
export interface KeygenCommit extends MessageBase {
  kind: 'keygen-commit';
  commitments: string[];
  commitmentProof: ProofJson;
  shareKey: string;
  shareKeyProof: ProofJson;
}
export interface EncryptedShare {
  ephemeral: string;
  ciphertext: string;
}
export interface KeygenShares extends MessageBase {
  kind: 'keygen-shares';
  shares: Record<string, EncryptedShare>;
}
export interface KeygenConfirm extends MessageBase {
  kind: 'keygen-confirm';
  publicKey: string;
  verificationKeys: Record<string, string>;
}
export interface DecryptShareJson {
  share: string;
  proof: ProofJson;
}
export interface DecryptMessage extends MessageBase {
  kind: 'decrypt';
  aggregateHash: string;
  shares: Record<string, Record<string, DecryptShareJson>>;
}
export type TrusteeMessage = KeygenCommit | KeygenShares | KeygenConfirm | DecryptMessage;
export interface TrusteeEnvelope<M extends TrusteeMessage = TrusteeMessage> {
  message: M;
  signature: string;
}

export function trusteeMessageBytes(message: TrusteeMessage): Buffer {
  return Buffer.concat([Buffer.from(TRUSTEE_DOMAIN, 'utf8'), jcsBytes(message)]);
}

export function signTrusteeMessage<M extends TrusteeMessage>(signingSeed: Uint8Array, message: M): TrusteeEnvelope<M> {
  const keys = keyPairFromSeed(signingSeed);
  return { message, signature: signMessage(keys.privateKeyObject, trusteeMessageBytes(message)).toString('hex') };
}

/** The trustee's index (1-based position in the manifest), its Shamir x-coordinate; 0 when unknown. */
export function trusteeIndex(manifest: Manifest, id: string): number {
  return (manifest.trustees ?? []).findIndex((t) => t.id === id) + 1;
}

const proofToJson = (p: ScalarProof): ProofJson => ({ c: hex(p.c), s: hex(p.s) });
function proofFromJson(p: unknown): ScalarProof | null {
  if (typeof p !== 'object' || p === null) return null;
  const o = p as Record<string, unknown>;
  if (Object.keys(o).length !== 2) return null;
  const c = scalarFromHex(o.c);
  const s = scalarFromHex(o.s);
  return c === null || s === null ? null : { c, s };
}

/** Horner's rule: f(x) mod ℓ. */
function evaluate(coefficients: readonly bigint[], x: bigint): bigint {
  let acc = 0n;
  for (let i = coefficients.length - 1; i >= 0; i--) acc = mod(acc * x + coefficients[i]!);
  return acc;
}

/** Σ_m x^m·C_m, the Feldman commitment to f(x). */
function commitmentAt(commitments: readonly Element[], x: bigint): Element {
  let acc = Buffer.from(commitments[0]!) as Element;
  let power = 1n;
  for (let m = 1; m < commitments.length; m++) {
    power = mod(power * x);
    acc = add(acc, mul(power, commitments[m]!));
  }
  return acc;
}

// ---- The trustee's steps (file in, file out: the CLI keeps these secrets in the trustee's file) ----

/** What a trustee keeps between the key generation's steps. Never leaves the trustee's machine. */
export interface TrusteeSecrets {
  coefficients: string[];
  shareSecret: string;
}

function base(manifest: Manifest, manifestHash: string, trustee: string): MessageBase {
  if (trusteeIndex(manifest, trustee) === 0) throw new Error(`${trustee} is not a trustee of ${manifest.electionId}`);
  return { version: 2, electionId: manifest.electionId, manifestHash, trustee };
}

/** Step 1: a random polynomial of degree threshold−1, a share-encryption key, their commitments and proofs. */
export function makeKeygenCommit(
  manifest: Manifest,
  manifestHash: string,
  trustee: string,
  random: ScalarSource = systemScalars,
): { message: KeygenCommit; secrets: TrusteeSecrets } {
  const k = manifest.threshold ?? 0;
  const coefficients = Array.from({ length: k }, (_, j) => random(`${trustee}/a${j}`));
  const shareSecret = random(`${trustee}/e`);
  const commitments = coefficients.map((a) => mulBase(a));
  const shareKey = mulBase(shareSecret);
  const pok = (purpose: PokContext['purpose']): PokContext => ({
    electionId: manifest.electionId,
    manifestHash,
    trustee,
    purpose,
  });
  const message: KeygenCommit = {
    ...base(manifest, manifestHash, trustee),
    kind: 'keygen-commit',
    commitments: commitments.map((c) => hex(c)),
    commitmentProof: proofToJson(
      provePok(pok('commitment'), coefficients[0]!, commitments[0]!, random(`${trustee}/w0`)),
    ),
    shareKey: hex(shareKey),
    shareKeyProof: proofToJson(provePok(pok('share-key'), shareSecret, shareKey, random(`${trustee}/we`))),
  };
  return { message, secrets: { coefficients: coefficients.map((a) => hex(a)), shareSecret: hex(shareSecret) } };
}

function shareKey(electionId: string, from: string, to: string, ephemeral: Element, shared: Element): Buffer {
  return sha256(
    Buffer.concat([
      Buffer.from(SHARE_KEY_DOMAIN, 'utf8'),
      Buffer.from(jcs({ electionId, from, to, ephemeral: hex(ephemeral), shared: hex(shared) }), 'utf8'),
    ]),
  );
}

const ZERO_NONCE = Buffer.alloc(12);

/** Step 2: f_i(j) for every other trustee j, encrypted to j's share key. Needs every keygen-commit. */
export function makeKeygenShares(
  manifest: Manifest,
  manifestHash: string,
  trustee: string,
  secrets: TrusteeSecrets,
  commits: readonly KeygenCommit[],
  random: ScalarSource = systemScalars,
): KeygenShares {
  const coefficients = secrets.coefficients.map((a) => scalarFromHex(a)!);
  const shares: Record<string, EncryptedShare> = {};
  for (const t of manifest.trustees ?? []) {
    if (t.id === trustee) continue;
    const commit = commits.find((c) => c.trustee === t.id);
    if (!commit) throw new Error(`no keygen-commit of trustee ${t.id} yet`);
    const target = elementFromHex(commit.shareKey);
    if (!target) throw new Error(`trustee ${t.id}'s share key is not a group element`);
    const rho = random(`${trustee}/rho/${t.id}`);
    const ephemeral = mulBase(rho);
    const key = shareKey(manifest.electionId, trustee, t.id, ephemeral, mul(rho, target));
    const cipher = createCipheriv('aes-256-gcm', key, ZERO_NONCE);
    const value = evaluate(coefficients, BigInt(trusteeIndex(manifest, t.id)));
    const body = Buffer.concat([cipher.update(Buffer.from(hex(value), 'hex')), cipher.final(), cipher.getAuthTag()]);
    shares[t.id] = { ephemeral: hex(ephemeral), ciphertext: body.toString('hex') };
  }
  return { ...base(manifest, manifestHash, trustee), kind: 'keygen-shares', shares };
}

/** A share that fails: decryption or the Feldman check. Names the trustee who sent it. */
export class BadShareError extends Error {
  constructor(
    readonly from: string,
    message: string,
  ) {
    super(message);
    this.name = 'BadShareError';
  }
}

/** H and every trustee's verification key, from the keygen-commit messages alone. */
export function ceremonyKeys(
  manifest: Manifest,
  commits: readonly KeygenCommit[],
): { publicKey: string; verificationKeys: Record<string, string> } {
  const trustees = manifest.trustees ?? [];
  const byTrustee = trustees.map((t) => {
    const c = commits.find((m) => m.trustee === t.id);
    if (!c) throw new Error(`no keygen-commit of trustee ${t.id}`);
    return c.commitments.map((x) => {
      const p = elementFromHex(x);
      if (!p) throw new Error(`trustee ${t.id}: a commitment is not a group element`);
      return p;
    });
  });
  const publicKey = sum(byTrustee.map((cs) => cs[0]!));
  const verificationKeys: Record<string, string> = {};
  trustees.forEach((t, j) => {
    const x = BigInt(j + 1);
    verificationKeys[t.id] = hex(sum(byTrustee.map((cs) => commitmentAt(cs, x))));
  });
  return { publicKey: hex(publicKey), verificationKeys };
}

/**
 * Step 3: decrypt the shares sent to `trustee`, check each against its sender's commitments, and combine
 * them into the key share x_j. Throws BadShareError naming the first sender whose share fails.
 */
export function makeKeygenConfirm(
  manifest: Manifest,
  manifestHash: string,
  trustee: string,
  secrets: TrusteeSecrets,
  commits: readonly KeygenCommit[],
  sharesMessages: readonly KeygenShares[],
): { message: KeygenConfirm; keyShare: string } {
  const j = BigInt(trusteeIndex(manifest, trustee));
  const own = secrets.coefficients.map((a) => scalarFromHex(a)!);
  const e = scalarFromHex(secrets.shareSecret)!;
  let keyShare = evaluate(own, j);
  for (const t of manifest.trustees ?? []) {
    if (t.id === trustee) continue;
    const sent = sharesMessages.find((m) => m.trustee === t.id)?.shares[trustee];
    if (!sent) throw new BadShareError(t.id, `trustee ${t.id} sent no share to ${trustee}`);
    const ephemeral = elementFromHex(sent.ephemeral);
    if (!ephemeral || !isHex(sent.ciphertext, 48))
      throw new BadShareError(t.id, `trustee ${t.id}'s share to ${trustee} is malformed`);
    const body = Buffer.from(sent.ciphertext, 'hex');
    let value: bigint | null;
    try {
      const key = shareKey(manifest.electionId, t.id, trustee, ephemeral, mul(e, ephemeral));
      const decipher = createDecipheriv('aes-256-gcm', key, ZERO_NONCE);
      decipher.setAuthTag(body.subarray(32));
      value = scalarFromHex(Buffer.concat([decipher.update(body.subarray(0, 32)), decipher.final()]).toString('hex'));
    } catch {
      throw new BadShareError(t.id, `trustee ${t.id}'s share to ${trustee} does not decrypt`);
    }
    const commit = commits.find((c) => c.trustee === t.id);
    const cs = commit?.commitments.map((x) => elementFromHex(x));
    if (value === null || !cs || cs.some((x) => !x) || !mulBase(value).equals(commitmentAt(cs as Element[], j)))
      throw new BadShareError(t.id, `trustee ${t.id}'s share to ${trustee} does not match its commitments (Feldman)`);
    keyShare = mod(keyShare + value);
  }
  const keys = ceremonyKeys(manifest, commits);
  if (!mulBase(keyShare).equals(Buffer.from(keys.verificationKeys[trustee]!, 'hex')))
    throw new Error(`${trustee}'s key share does not match its verification key`);
  return {
    message: { ...base(manifest, manifestHash, trustee), kind: 'keygen-confirm', ...keys },
    keyShare: hex(keyShare),
  };
}

/** Step 4: D = x_j·α for every choice of the aggregate, each with its Chaum–Pedersen proof. */
export function makeDecryptShare(
  manifest: Manifest,
  manifestHash: string,
  trustee: string,
  keyShareHex: string,
  aggregate: Aggregate,
  random: ScalarSource = systemScalars,
): DecryptMessage {
  const keyShare = scalarFromHex(keyShareHex);
  if (keyShare === null) throw new Error('the key share is not a scalar');
  const aggregateHash = aggregateHashOf(aggregate);
  const shares: Record<string, Record<string, DecryptShareJson>> = {};
  for (const contest of manifest.contests) {
    shares[contest.id] = {};
    for (const choice of contest.choices) {
      const alpha = elementFromHex(aggregate.contests[contest.id]?.[choice.id]?.alpha);
      if (!alpha) throw new Error(`aggregate: ${contest.id}/${choice.id} alpha is not a group element`);
      const ctx: DecryptContext = {
        electionId: manifest.electionId,
        manifestHash,
        aggregateHash,
        trustee,
        contest: contest.id,
        choice: choice.id,
      };
      const { share, proof } = proveDecryptShare(
        ctx,
        keyShare,
        alpha,
        random(`${trustee}/d/${contest.id}/${choice.id}`),
      );
      shares[contest.id]![choice.id] = { share: hex(share), proof: proofToJson(proof) };
    }
  }
  return { ...base(manifest, manifestHash, trustee), kind: 'decrypt', aggregateHash, shares };
}

export function aggregateHashOf(aggregate: Aggregate): string {
  return sha256(jcsBytes(aggregate)).toString('hex');
}

// ---- The bulletin board's rule ----

/** Why the board refuses a message, or which one it accepts. */
export type BoardDecision =
  | { kind: 'accept'; message: TrusteeMessage }
  | { kind: 'repeat' }
  | {
      kind: 'refuse';
      code: 'invalid-body' | 'bad-signature' | 'ceremony-phase' | 'trustee-message-exists' | 'invalid-proof';
      message: string;
    };

/** What the board holds when a message comes in. */
export interface BoardState {
  manifest: Manifest;
  manifestHash: string;
  /** Every accepted envelope, in the order posted. */
  accepted: readonly TrusteeEnvelope[];
  /** The published aggregate once the election is closed, else null. */
  aggregate: Aggregate | null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function keysExactly(v: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(v);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(v, k));
}

/** The shape of an envelope and its message (12.3, 12.5), or why not. */
export function trusteeEnvelopeShapeProblem(input: unknown): string | null {
  if (!isObject(input) || !keysExactly(input, ['message', 'signature'])) return 'must be {message, signature}';
  if (!isHex(input.signature, 64)) return 'signature must be 64-byte lowercase hex';
  const m = input.message;
  if (!isObject(m)) return 'message must be an object';
  const common = ['version', 'kind', 'electionId', 'manifestHash', 'trustee'];
  const extra: Record<string, string[]> = {
    'keygen-commit': ['commitments', 'commitmentProof', 'shareKey', 'shareKeyProof'],
    'keygen-shares': ['shares'],
    'keygen-confirm': ['publicKey', 'verificationKeys'],
    decrypt: ['aggregateHash', 'shares'],
  };
  const kind = m.kind;
  if (typeof kind !== 'string' || !Object.hasOwn(extra, kind))
    return 'message.kind must be keygen-commit, keygen-shares, keygen-confirm or decrypt';
  if (!keysExactly(m, [...common, ...extra[kind]!])) return `message must have exactly the keys of ${kind}`;
  if (m.version !== 2) return 'message.version must be 2';
  if (typeof m.electionId !== 'string' || !ID_RE.test(m.electionId)) return 'message.electionId is malformed';
  if (typeof m.trustee !== 'string' || !ID_RE.test(m.trustee)) return 'message.trustee is malformed';
  if (!isHex(m.manifestHash, 32)) return 'message.manifestHash must be 32-byte lowercase hex';
  const hex32 = (v: unknown) => isHex(v, 32);
  const proof = (v: unknown) => isObject(v) && keysExactly(v, ['c', 's']) && hex32(v.c) && hex32(v.s);
  const mapOf = (v: unknown, ok: (x: unknown) => boolean) =>
    isObject(v) && Object.keys(v).length <= 64 && Object.values(v).every(ok);
  switch (kind) {
    case 'keygen-commit':
      if (!Array.isArray(m.commitments) || m.commitments.length === 0 || m.commitments.length > 16)
        return 'commitments must be an array of 1..16 points';
      if (!m.commitments.every(hex32)) return 'commitments must be 32-byte lowercase hex';
      if (!hex32(m.shareKey) || !proof(m.commitmentProof) || !proof(m.shareKeyProof))
        return 'shareKey and the proofs must be 32-byte lowercase hex';
      return null;
    case 'keygen-shares':
      return mapOf(
        m.shares,
        (s) =>
          isObject(s) && keysExactly(s, ['ephemeral', 'ciphertext']) && hex32(s.ephemeral) && isHex(s.ciphertext, 48),
      )
        ? null
        : 'shares must map trustee ids to {ephemeral, ciphertext}';
    case 'keygen-confirm':
      return hex32(m.publicKey) && mapOf(m.verificationKeys, hex32)
        ? null
        : 'publicKey and verificationKeys must be 32-byte lowercase hex';
    default:
      if (!hex32(m.aggregateHash)) return 'aggregateHash must be 32-byte lowercase hex';
      return mapOf(m.shares, (c) =>
        mapOf(c, (s) => isObject(s) && keysExactly(s, ['share', 'proof']) && hex32(s.share) && proof(s.proof)),
      )
        ? null
        : 'shares must map contests to choices to {share, proof}';
  }
}

/** The keygen-commit messages on the board. */
export function commitsOf(accepted: readonly TrusteeEnvelope[]): KeygenCommit[] {
  return accepted.filter((e) => e.message.kind === 'keygen-commit').map((e) => e.message as KeygenCommit);
}

/** True once every trustee has confirmed the key. */
export function ceremonyComplete(manifest: Manifest, accepted: readonly TrusteeEnvelope[]): boolean {
  const confirmed = new Set(accepted.filter((e) => e.message.kind === 'keygen-confirm').map((e) => e.message.trustee));
  return (manifest.trustees ?? []).every((t) => confirmed.has(t.id));
}

/**
 * The board's rule for one posted envelope: shape, election, signature by the named trustee's key, one
 * message of each kind per trustee (a byte-identical repeat is `repeat`), the ceremony's order, and every
 * proof the public can check. A pure function of its arguments.
 */
export function boardDecision(state: BoardState, input: unknown): BoardDecision {
  const shape = trusteeEnvelopeShapeProblem(input);
  if (shape) return { kind: 'refuse', code: 'invalid-body', message: shape };
  const env = input as TrusteeEnvelope;
  const m = env.message;
  const { manifest, manifestHash } = state;
  if (m.electionId !== manifest.electionId || m.manifestHash !== manifestHash)
    return { kind: 'refuse', code: 'invalid-body', message: 'the message names another election or manifest' };
  const trustee = (manifest.trustees ?? []).find((t) => t.id === m.trustee);
  if (!trustee)
    return { kind: 'refuse', code: 'invalid-body', message: `${m.trustee} is not a trustee of this election` };
  const sig = strictVerify(Buffer.from(trustee.key, 'hex'), trusteeMessageBytes(m), Buffer.from(env.signature, 'hex'));
  if (sig)
    return { kind: 'refuse', code: 'bad-signature', message: `the signature of ${m.trustee} does not verify (${sig})` };
  const previous = state.accepted.find((e) => e.message.trustee === m.trustee && e.message.kind === m.kind);
  if (previous) {
    return jcs(previous) === jcs(env)
      ? { kind: 'repeat' }
      : { kind: 'refuse', code: 'trustee-message-exists', message: `${m.trustee} already posted its ${m.kind}` };
  }
  const trustees = manifest.trustees ?? [];
  const count = (kind: TrusteeMessageKind) => state.accepted.filter((e) => e.message.kind === kind).length;
  const phase = (message: string): BoardDecision => ({ kind: 'refuse', code: 'ceremony-phase', message });
  const proofFail = (message: string): BoardDecision => ({ kind: 'refuse', code: 'invalid-proof', message });
  switch (m.kind) {
    case 'keygen-commit': {
      if (m.commitments.length !== manifest.threshold)
        return {
          kind: 'refuse',
          code: 'invalid-body',
          message: `commitments must number the threshold, ${manifest.threshold}`,
        };
      const points = [...m.commitments, m.shareKey].map(elementFromHex);
      if (points.some((p) => !p))
        return proofFail(`${m.trustee}: a commitment or the share key is not a group element`);
      const ctx = (purpose: PokContext['purpose']): PokContext => ({
        electionId: manifest.electionId,
        manifestHash,
        trustee: m.trustee,
        purpose,
      });
      const p0 = proofFromJson(m.commitmentProof);
      const p1 = proofFromJson(m.shareKeyProof);
      if (!p0 || !verifyPok(ctx('commitment'), points[0]!, p0))
        return proofFail(`${m.trustee}: the proof of knowledge of the commitment does not verify`);
      if (!p1 || !verifyPok(ctx('share-key'), points[points.length - 1]!, p1))
        return proofFail(`${m.trustee}: the proof of knowledge of the share key does not verify`);
      return { kind: 'accept', message: m };
    }
    case 'keygen-shares': {
      if (count('keygen-commit') < trustees.length) return phase('every trustee must post its keygen-commit first');
      const expected = trustees.filter((t) => t.id !== m.trustee).map((t) => t.id);
      if (!keysExactly(m.shares, expected))
        return { kind: 'refuse', code: 'invalid-body', message: 'shares must have one entry per other trustee' };
      if (Object.values(m.shares).some((s) => !elementFromHex(s.ephemeral)))
        return proofFail(`${m.trustee}: an ephemeral key is not a group element`);
      return { kind: 'accept', message: m };
    }
    case 'keygen-confirm': {
      if (count('keygen-shares') < trustees.length) return phase('every trustee must post its keygen-shares first');
      const keys = ceremonyKeys(manifest, commitsOf(state.accepted));
      if (m.publicKey !== keys.publicKey || jcs(m.verificationKeys) !== jcs(keys.verificationKeys))
        return proofFail(`${m.trustee}: the confirmed key differs from the one the commitments give`);
      return { kind: 'accept', message: m };
    }
    case 'decrypt': {
      if (!ceremonyComplete(manifest, state.accepted)) return phase('the key ceremony is not complete');
      if (!state.aggregate) return phase('the election is not closed: there is no aggregate to decrypt yet');
      const problem = decryptMessageProblem(manifest, manifestHash, state.accepted, state.aggregate, m);
      if (problem)
        return problem.code === 'invalid-body'
          ? { kind: 'refuse', code: 'invalid-body', message: problem.message }
          : proofFail(problem.message);
      return { kind: 'accept', message: m };
    }
  }
}

/**
 * Why a decrypt message is not a valid partial decryption of `aggregate` (naming trustee, contest and
 * choice), or null.
 */
export function decryptMessageProblem(
  manifest: Manifest,
  manifestHash: string,
  accepted: readonly TrusteeEnvelope[],
  aggregate: Aggregate,
  m: DecryptMessage,
): { code: 'invalid-body' | 'invalid-proof'; message: string } | null {
  const aggregateHash = aggregateHashOf(aggregate);
  if (m.aggregateHash !== aggregateHash)
    return { code: 'invalid-body', message: `${m.trustee}: aggregateHash is not the published aggregate's` };
  const keys = ceremonyKeys(manifest, commitsOf(accepted));
  const verificationKey = elementFromHex(keys.verificationKeys[m.trustee])!;
  for (const contest of manifest.contests) {
    const given = m.shares[contest.id];
    if (
      !given ||
      !keysExactly(
        given,
        contest.choices.map((c) => c.id),
      )
    )
      return { code: 'invalid-body', message: `${m.trustee}: contest ${contest.id} needs one share per choice` };
    for (const choice of contest.choices) {
      const where = `trustee ${m.trustee}, contest ${contest.id}, choice ${choice.id}`;
      const s = given[choice.id]!;
      const share = elementFromHex(s.share);
      const proof = proofFromJson(s.proof);
      const alpha = elementFromHex(aggregate.contests[contest.id]![choice.id]!.alpha)!;
      const ctx: DecryptContext = {
        electionId: manifest.electionId,
        manifestHash,
        aggregateHash,
        trustee: m.trustee,
        contest: contest.id,
        choice: choice.id,
      };
      if (!share || !proof || !verifyDecryptShare(ctx, alpha, share, verificationKey, proof))
        return { code: 'invalid-proof', message: `${where}: the partial decryption's proof does not verify` };
    }
  }
  return null;
}
