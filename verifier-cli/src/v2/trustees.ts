// The key ceremony's public transcript (docs/protocol.md 12.3 and 12.7), checked from the text: every
// envelope signed by its trustee's manifest key over "tallyproof:trustee:v2:" || JCS(message) (strict
// Ed25519), every message's shape, each kind once per trustee and in phase order (commits, then shares,
// then confirms, then decrypts), the proofs of knowledge of each trustee's constant coefficient and share
// key, the election key H = Σ_i C_{i,0}, the verification keys X_j = Σ_i Σ_m j^m·C_{i,m}, and every
// keygen-confirm agreeing with them. The shares themselves are encrypted to their trustee: only their
// shape is public. Decrypt messages are checked here up to their envelope; decryption.ts does the rest.
import { verifyStrict, type Engine } from '../ed25519.js';
import { finding, type Finding } from '../errors.js';
import { isHex, short, utf8 } from '../hex.js';
import { jcs } from '../jcs.js';
import { hasExactKeys, isPlainObject, ownValue } from '../protocol.js';
import { add, decodeElement, decodeScalar, IDENTITY, mul, pointHex, type Point } from './group.js';
import type { ManifestV2 } from './manifest.js';
import { verifyPok } from './proofs.js';

export const TRUSTEE_DOMAIN = 'tallyproof:trustee:v2:';

const KINDS = ['keygen-commit', 'keygen-shares', 'keygen-confirm', 'decrypt'] as const;
type Kind = (typeof KINDS)[number];
const HEADER_KEYS = ['version', 'kind', 'electionId', 'manifestHash', 'trustee'];
const BODY_KEYS: Record<Kind, string[]> = {
  'keygen-commit': ['commitments', 'commitmentProof', 'shareKey', 'shareKeyProof'],
  'keygen-shares': ['shares'],
  'keygen-confirm': ['publicKey', 'verificationKeys'],
  decrypt: ['aggregateHash', 'shares'],
};
const TRANSCRIPT_KEYS = [
  'electionId',
  'threshold',
  'trustees',
  'publicKey',
  'verificationKeys',
  'keyCeremony',
  'messages',
  'refused',
];

/** A decrypt message whose envelope checks (signature, header, phase): its shares are decryption.ts's. */
export interface DecryptMessage {
  trustee: string;
  /** The trustee's index (1-based, its Shamir x-coordinate). */
  index: number;
  message: Record<string, unknown>;
}

export interface TranscriptCheck {
  findings: Finding[];
  /** H, when every trustee's keygen-commit checks; null otherwise (ballots cannot be checked). */
  publicKey: Point | null;
  /** X_j by trustee id, with H. */
  verificationKeys: Map<string, Point> | null;
  /** Every trustee posted a keygen-confirm that agrees with H and the X_j. */
  complete: boolean;
  decrypts: DecryptMessage[];
  /** Messages in the transcript, and refusals the board recorded. */
  messages: number;
  refused: number;
}

interface Commit {
  commitments: Point[];
}

/** Check the transcript (GET …/trustee-messages) of `manifest`, whose hash is `manifestHash`. */
export function checkTranscript(
  transcript: unknown,
  manifest: ManifestV2,
  manifestHash: string,
  engine: Engine = 'node',
): TranscriptCheck {
  const findings: Finding[] = [];
  const out: TranscriptCheck = {
    findings,
    publicKey: null,
    verificationKeys: null,
    complete: false,
    decrypts: [],
    messages: 0,
    refused: 0,
  };
  const fail = (message: string): void => void findings.push(finding('transcript-invalid', message));
  const blame = (trustee: string | undefined, message: string): void =>
    void findings.push(finding('trustee-message-invalid', message, { trustee }));

  if (!isPlainObject(transcript) || !hasExactKeys(transcript, TRANSCRIPT_KEYS)) {
    fail(`the transcript must have exactly the keys ${TRANSCRIPT_KEYS.join(', ')}`);
    return out;
  }
  if (!Array.isArray(transcript.messages)) {
    fail('the transcript has no messages array');
    return out;
  }
  out.messages = transcript.messages.length;
  out.refused = Array.isArray(transcript.refused) ? transcript.refused.length : 0;
  if (transcript.electionId !== manifest.electionId)
    fail(`the transcript is for election ${JSON.stringify(transcript.electionId)}, not ${manifest.electionId}`);
  if (transcript.threshold !== manifest.threshold)
    fail(`the transcript gives threshold ${String(transcript.threshold)}, the manifest ${manifest.threshold}`);
  if (jcs(transcript.trustees ?? null) !== jcs(manifest.trustees))
    fail("the transcript's trustees are not the manifest's");
  if (!Array.isArray(transcript.refused)) fail('the transcript has no refused array');

  const index = new Map(manifest.trustees.map((t, i) => [t.id, i + 1]));
  const keys = new Map(manifest.trustees.map((t) => [t.id, Buffer.from(t.key, 'hex')]));
  const n = manifest.trustees.length;
  const K = manifest.threshold;
  /** Per kind, trustee → its first valid message (later ones are findings). */
  const seen = new Map<Kind, Map<string, Record<string, unknown>>>(KINDS.map((k) => [k, new Map()]));
  const commits = new Map<string, Commit>();
  const confirms: { trustee: string; message: Record<string, unknown> }[] = [];
  const phaseDone = (kind: Kind): boolean => seen.get(kind)!.size === n;

  for (const [position, envelope] of transcript.messages.entries()) {
    const at = `message ${position}`;
    if (
      !isPlainObject(envelope) ||
      !hasExactKeys(envelope, ['message', 'signature']) ||
      !isPlainObject(envelope.message)
    ) {
      blame(undefined, `${at} is not an envelope {"message","signature"}`);
      continue;
    }
    const message = envelope.message;
    const trustee = typeof message.trustee === 'string' && index.has(message.trustee) ? message.trustee : undefined;
    if (trustee === undefined) {
      blame(
        undefined,
        `${at} names no trustee of the manifest (${JSON.stringify(String(message.trustee).slice(0, 64))})`,
      );
      continue;
    }
    const kind = message.kind as Kind;
    if (!KINDS.includes(kind)) {
      blame(
        trustee,
        `${at} from trustee ${trustee} is of an unknown kind ${JSON.stringify(String(kind).slice(0, 32))}`,
      );
      continue;
    }
    const what = `${at} (${kind} from trustee ${trustee})`;
    if (!isHex(envelope.signature, 64)) {
      blame(trustee, `${what}: the signature is not 64-byte lowercase hex`);
      continue;
    }
    const signed = verifyStrict(
      keys.get(trustee)!,
      utf8(TRUSTEE_DOMAIN + jcs(message)),
      Buffer.from(envelope.signature, 'hex'),
      engine,
    );
    if (signed !== null) {
      blame(trustee, `${what}: not signed by the trustee's manifest key (${signed})`);
      continue;
    }
    if (!hasExactKeys(message, [...HEADER_KEYS, ...BODY_KEYS[kind]])) {
      blame(
        trustee,
        `${what}: a ${kind} message has exactly the keys ${[...HEADER_KEYS, ...BODY_KEYS[kind]].join(', ')}`,
      );
      continue;
    }
    if (message.version !== 2 || message.electionId !== manifest.electionId || message.manifestHash !== manifestHash) {
      blame(trustee, `${what}: not version 2 of this election and manifest`);
      continue;
    }
    const earlier = seen.get(kind)!.get(trustee);
    if (earlier !== undefined) {
      blame(
        trustee,
        `${what}: trustee ${trustee} already posted a ${kind}${jcs(earlier) === jcs(message) ? ' (the same one)' : ''}`,
      );
      continue;
    }
    const phase: Kind | undefined =
      kind === 'keygen-shares'
        ? 'keygen-commit'
        : kind === 'keygen-confirm'
          ? 'keygen-shares'
          : kind === 'decrypt'
            ? 'keygen-confirm'
            : undefined;
    if (phase !== undefined && !phaseDone(phase)) {
      blame(trustee, `${what}: posted before every trustee's ${phase}`);
      continue;
    }
    let problem: string | null = null;
    if (kind === 'keygen-commit') {
      const commit = readCommit(message, trustee, K, manifest.electionId, manifestHash);
      if (typeof commit === 'string') problem = commit;
      else commits.set(trustee, commit);
    } else if (kind === 'keygen-shares') {
      problem = sharesProblem(message.shares, trustee, manifest);
    } else if (kind === 'keygen-confirm') {
      confirms.push({ trustee, message });
    } else {
      if (!isHex(message.aggregateHash, 32)) problem = 'aggregateHash must be 32-byte lowercase hex';
      else out.decrypts.push({ trustee, index: index.get(trustee)!, message });
    }
    if (problem !== null) {
      blame(trustee, `${what}: ${problem}`);
      continue;
    }
    seen.get(kind)!.set(trustee, message);
  }

  // H and the X_j, from the commitments of every trustee.
  const missing = manifest.trustees.filter((t) => !commits.has(t.id)).map((t) => t.id);
  if (missing.length > 0) {
    fail(`no valid keygen-commit from trustee ${missing.join(', ')}: the election key cannot be computed`);
    return out;
  }
  const { publicKey, verificationKeys } = electionKeys(manifest, commits);
  out.publicKey = publicKey;
  out.verificationKeys = verificationKeys;

  // Every confirm must agree; the ceremony is complete when every trustee confirmed.
  let agreeing = 0;
  for (const { trustee, message } of confirms) {
    const disagreement = confirmProblem(message, publicKey, verificationKeys);
    if (disagreement === null) agreeing++;
    else blame(trustee, `the keygen-confirm of trustee ${trustee} ${disagreement}`);
  }
  out.complete = agreeing === n;

  // What the board publishes beside the messages.
  const claimedKey = transcript.publicKey;
  if (claimedKey !== null && claimedKey !== pointHex(publicKey))
    fail(
      `the transcript gives publicKey ${short(String(claimedKey))}, the commitments give ${short(pointHex(publicKey))}`,
    );
  const claimedKeys = transcript.verificationKeys;
  if (claimedKeys !== null && jcs(claimedKeys ?? null) !== jcs(verificationKeysJson(verificationKeys)))
    fail("the transcript's verificationKeys are not the ones the commitments give");
  const stated = transcript.keyCeremony;
  if (stated !== (out.complete ? 'complete' : 'in-progress'))
    fail(
      `the transcript says keyCeremony ${JSON.stringify(stated)}, the messages make it ${out.complete ? 'complete' : 'in-progress'}`,
    );
  if (out.complete && (claimedKey === null || claimedKeys === null))
    fail('the key ceremony is complete but the transcript does not publish the election key');
  return out;
}

/** A keygen-commit's commitments and proofs, or what is wrong. */
function readCommit(
  message: Record<string, unknown>,
  trustee: string,
  threshold: number,
  electionId: string,
  manifestHash: string,
): Commit | string {
  const list = message.commitments;
  if (!Array.isArray(list) || list.length !== threshold) return `commitments must list ${threshold} points`;
  const commitments: Point[] = [];
  for (const [m, hex] of list.entries()) {
    const point = decodeElement(hex);
    if (point === null) return `commitment ${m} is not a group element`;
    commitments.push(point);
  }
  const shareKey = decodeElement(message.shareKey);
  if (shareKey === null) return 'shareKey is not a group element';
  const statement = { electionId, manifestHash, trustee };
  for (const [purpose, point, proof] of [
    ['commitment', commitments[0]!, message.commitmentProof],
    ['share-key', shareKey, message.shareKeyProof],
  ] as const) {
    const pair = readPair(proof);
    if (pair === null) return `the ${purpose} proof is not {"c","s"} of canonical scalars`;
    if (!verifyPok({ ...statement, purpose, point }, pair.c, pair.s))
      return `the proof of knowledge of the ${purpose === 'commitment' ? 'constant coefficient' : 'share key'} does not verify`;
  }
  return { commitments };
}

/** {"c","s"} of canonical scalars, or null. */
export function readPair(v: unknown): { c: bigint; s: bigint } | null {
  if (!isPlainObject(v) || !hasExactKeys(v, ['c', 's'])) return null;
  const c = decodeScalar(v.c);
  const s = decodeScalar(v.s);
  return c === null || s === null ? null : { c, s };
}

/** A keygen-shares' shares: exactly the other trustees, each {"ephemeral": element, "ciphertext": 48 bytes}. */
function sharesProblem(shares: unknown, from: string, manifest: ManifestV2): string | null {
  if (!isPlainObject(shares)) return 'shares must be an object';
  const others = manifest.trustees.filter((t) => t.id !== from).map((t) => t.id);
  if (Object.keys(shares).length !== others.length || !others.every((id) => Object.hasOwn(shares, id)))
    return `shares must name exactly the other trustees (${others.join(', ') || 'none'})`;
  for (const id of others) {
    const share = ownValue(shares, id);
    if (!isPlainObject(share) || !hasExactKeys(share, ['ephemeral', 'ciphertext']))
      return `the share for ${id} must be {"ephemeral","ciphertext"}`;
    if (decodeElement(share.ephemeral) === null)
      return `the share for ${id} has an ephemeral key that is not a group element`;
    if (!isHex(share.ciphertext, 48)) return `the share for ${id} must have a 48-byte lowercase hex ciphertext`;
  }
  return null;
}

/** H = Σ_i C_{i,0}; X_j = Σ_m j^m·(Σ_i C_{i,m}) (= Σ_i Σ_m j^m·C_{i,m}). */
export function electionKeys(
  manifest: ManifestV2,
  commits: ReadonlyMap<string, { commitments: Point[] }>,
): { publicKey: Point; verificationKeys: Map<string, Point> } {
  const sums: Point[] = [];
  for (let m = 0; m < manifest.threshold; m++) {
    let sum: Point = IDENTITY;
    for (const t of manifest.trustees) sum = add(sum, commits.get(t.id)!.commitments[m]!);
    sums.push(sum);
  }
  const verificationKeys = new Map<string, Point>();
  for (const [i, t] of manifest.trustees.entries()) {
    const j = BigInt(i + 1);
    let x: Point = IDENTITY;
    let power = 1n;
    for (const sum of sums) {
      x = add(x, mul(sum, power));
      power *= j; // j^m < 17^16 < ℓ: no reduction needed
    }
    verificationKeys.set(t.id, x);
  }
  return { publicKey: sums[0]!, verificationKeys };
}

export function verificationKeysJson(keys: ReadonlyMap<string, Point>): Record<string, string> {
  return Object.fromEntries([...keys].map(([id, x]) => [id, pointHex(x)]));
}

function confirmProblem(
  message: Record<string, unknown>,
  publicKey: Point,
  verificationKeys: ReadonlyMap<string, Point>,
): string | null {
  if (message.publicKey !== pointHex(publicKey))
    return `gives publicKey ${short(String(message.publicKey))}, the commitments give ${short(pointHex(publicKey))}`;
  if (jcs(message.verificationKeys ?? null) !== jcs(verificationKeysJson(verificationKeys)))
    return 'gives verificationKeys other than the ones the commitments give';
  return null;
}
