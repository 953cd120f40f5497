// The results page's own check of an encrypted election's decrypted counts (docs/protocol.md 12.3, 12.5,
// 12.7): from the public transcript it recomputes the election key H and each trustee's verification key
// X_j (from the keygen-commit commitments, their signatures and proofs of knowledge checked), recomputes the
// aggregate's hash, checks every share of the trustees the result used (signature, aggregateHash, each
// Chaum–Pedersen proof against X_j), recombines the shares (Lagrange, baby-step giant-step) and compares
// the counts with the published ones. It does not re-verify every ballot: that is `tallyproof-verify audit`.
// Pure (no DOM, no i18n): failures are codes with parameters, which the page words.
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { hexToBytes, isHex, jcs, sha256Hex, verifyEd25519Strict } from '../protocol.js';
import { isManifestV2, type ManifestV2, type TrusteeRef } from './ballot.js';
import { discreteLog } from './elgamal.js';
import { DecodeError, decodePoint, encodePoint, IDENTITY, mul, precomputed, type Point } from './group.js';
import { combineShares, verifyDecryptShare, verifyPok } from './proofs.js';

export const TRUSTEE_PREFIX = 'tallyproof:trustee:v2:';

export interface TrusteeEnvelope {
  message: { version: 2; kind: string; electionId: string; manifestHash: string; trustee: string } & Record<
    string,
    unknown
  >;
  signature: string;
}

/** GET …/trustee-messages (12.7). */
export interface Transcript {
  electionId: string;
  threshold: number;
  trustees: TrusteeRef[];
  publicKey: string | null;
  verificationKeys: Record<string, string> | null;
  keyCeremony: 'in-progress' | 'complete';
  messages: TrusteeEnvelope[];
  refused: { trustee: string; kind: string; code: string; message: string; receivedAt: string }[];
}

/** GET …/aggregate (12.5). */
export interface Aggregate {
  version: 2;
  electionId: string;
  manifestHash: string;
  publicKey: string;
  totalBallots: number;
  contests: Record<string, Record<string, { alpha: string; beta: string }>>;
}

/** GET …/decryption (12.5). */
export interface Decryption {
  version: 2;
  electionId: string;
  aggregateHash: string;
  trustees: string[];
  tally: Record<string, Record<string, number>>;
  totalBallots: number;
}

export interface TallyCheckInput {
  manifest: ManifestV2;
  manifestHash: string;
  transcript: Transcript;
  aggregate: Aggregate;
  decryption: Decryption;
  /** The election key the election's view gives (`encryption.publicKey`), compared when given. */
  publishedKey?: string | null;
  /** The tally the results body shows, compared when given. */
  shownTally?: unknown;
  /** The election's `result.resultHash`, compared when given. */
  resultHash?: string | null;
}

export type TallyFailureCode =
  | 'manifest'
  | 'trustees'
  | 'keygen-missing'
  | 'keygen-signature'
  | 'keygen-commitments'
  | 'keygen-proof'
  | 'public-key'
  | 'verification-key'
  | 'aggregate-shape'
  | 'aggregate-hash'
  | 'total-ballots'
  | 'decryption-trustees'
  | 'decrypt-missing'
  | 'decrypt-signature'
  | 'decrypt-aggregate-hash'
  | 'share-invalid'
  | 'share-proof'
  | 'no-count'
  | 'count-mismatch'
  | 'shown-tally'
  | 'result-hash';

export type TallyCheck =
  | { ok: true; aggregateHash: string; trustees: string[]; sharesChecked: number }
  | { ok: false; code: TallyFailureCode; params: Record<string, string | number> };

class Failure extends Error {
  constructor(
    readonly code: TallyFailureCode,
    readonly params: Record<string, string | number> = {},
  ) {
    super(code);
  }
}

function fail(code: TallyFailureCode, params: Record<string, string | number> = {}): never {
  throw new Failure(code, params);
}

/** aggregateHash = H(JCS(aggregate)). */
export function aggregateHashOf(aggregate: unknown): string {
  return sha256Hex(jcs(aggregate));
}

/** resultHash = H(JCS({"electionId","tally","totalBallots"})), as in version 1. */
export function resultHashOf(electionId: string, tally: unknown, totalBallots: number): string {
  return sha256Hex(jcs({ electionId, tally, totalBallots }));
}

/** A trustee message's strict Ed25519 signature by the trustee's key, over "tallyproof:trustee:v2:" || JCS(message). */
export function verifyTrusteeSignature(envelope: TrusteeEnvelope, key: string): boolean {
  if (!isHex(envelope.signature, 64) || !isHex(key, 32)) return false;
  try {
    const message = utf8ToBytes(TRUSTEE_PREFIX + jcs(envelope.message));
    return verifyEd25519Strict(hexToBytes(key), message, hexToBytes(envelope.signature));
  } catch {
    return false;
  }
}

function own<T>(record: unknown, key: string): T | undefined {
  if (typeof record !== 'object' || record === null || !Object.hasOwn(record, key)) return undefined;
  return (record as Record<string, T>)[key];
}

function point(hex: unknown, onFail: () => never): Point {
  try {
    return decodePoint(hex);
  } catch (err) {
    if (err instanceof DecodeError) onFail();
    throw err;
  }
}

/** The trustee's one message of `kind` that names this election, or undefined. */
function messageOf(input: TallyCheckInput, trustee: string, kind: string): TrusteeEnvelope | undefined {
  return input.transcript.messages.find(
    (e) =>
      e?.message?.kind === kind &&
      e.message.trustee === trustee &&
      e.message.electionId === input.manifest.electionId &&
      e.message.manifestHash === input.manifestHash,
  );
}

/**
 * H = Σ_i C_{i,0} and the aggregated commitments A_m = Σ_i C_{i,m}, from every trustee's keygen-commit
 * (signature and both proofs of knowledge checked). X_j = Σ_m j^m·A_m follows by linearity.
 */
function electionKeys(input: TallyCheckInput): { H: Point; sums: Point[] } {
  const { manifest } = input;
  const K = manifest.threshold;
  const sums: Point[] = Array.from({ length: K }, () => IDENTITY);
  for (const t of manifest.trustees) {
    const env = messageOf(input, t.id, 'keygen-commit');
    if (!env) fail('keygen-missing', { trustee: t.id });
    if (!verifyTrusteeSignature(env, t.key)) fail('keygen-signature', { trustee: t.id });
    const m = env.message;
    const commitments = m.commitments;
    if (!Array.isArray(commitments) || commitments.length !== K) fail('keygen-commitments', { trustee: t.id });
    const C = commitments.map((c: unknown) => point(c, () => fail('keygen-commitments', { trustee: t.id })));
    const shareKey = point(m.shareKey, () => fail('keygen-commitments', { trustee: t.id }));
    const ctx = { electionId: manifest.electionId, manifestHash: input.manifestHash, trustee: t.id };
    if (!verifyPok({ ...ctx, purpose: 'commitment' }, C[0]!, m.commitmentProof))
      fail('keygen-proof', { trustee: t.id, purpose: 'commitment' });
    if (!verifyPok({ ...ctx, purpose: 'share-key' }, shareKey, m.shareKeyProof))
      fail('keygen-proof', { trustee: t.id, purpose: 'share-key' });
    for (let j = 0; j < K; j++) sums[j] = sums[j]!.add(C[j]!);
  }
  return { H: sums[0]!, sums };
}

/**
 * The election key H and every trustee's verification key X_j, hex, from the keygen-commit messages alone
 * (signatures and proofs of knowledge checked). Throws when one is missing or does not check.
 */
export function computeElectionKeys(input: Pick<TallyCheckInput, 'manifest' | 'manifestHash' | 'transcript'>): {
  publicKey: string;
  verificationKeys: Record<string, string>;
} {
  const { H, sums } = electionKeys(input as TallyCheckInput);
  return {
    publicKey: encodePoint(H),
    verificationKeys: Object.fromEntries(
      input.manifest.trustees.map((t, i) => [t.id, encodePoint(verificationKey(sums, i + 1))]),
    ),
  };
}

function verificationKey(sums: readonly Point[], index: number): Point {
  let X = IDENTITY;
  let power = 1n;
  for (const A of sums) {
    X = X.add(mul(A, power));
    power *= BigInt(index);
  }
  return X;
}

/** Gives the page a moment to repaint every ~30 ms of work. */
function makeYielder(): () => Promise<void> {
  let last = Date.now();
  return async () => {
    if (Date.now() - last < 30) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    last = Date.now();
  };
}

/** Every check above, in order; the first that fails is the answer. `onProgress` gets the fraction done. */
export async function checkDecryptedTally(
  input: TallyCheckInput,
  onProgress?: (fraction: number) => void,
): Promise<TallyCheck> {
  try {
    return await check(input, onProgress);
  } catch (err) {
    if (err instanceof Failure) return { ok: false, code: err.code, params: err.params };
    throw err;
  }
}

async function check(input: TallyCheckInput, onProgress?: (fraction: number) => void): Promise<TallyCheck> {
  const { manifest, transcript, aggregate, decryption } = input;
  const electionId = manifest.electionId;
  if (!isManifestV2(manifest)) fail('manifest');
  const K = manifest.threshold;
  const pause = makeYielder();

  // The trustees and threshold of the transcript are the manifest's (whose hash is anchored).
  const sameTrustees =
    transcript.threshold === K &&
    Array.isArray(transcript.trustees) &&
    jcs(transcript.trustees.map((t) => ({ id: t.id, key: t.key }))) ===
      jcs(manifest.trustees.map((t) => ({ id: t.id, key: t.key })));
  if (!sameTrustees) fail('trustees');

  // 1. The election key and the verification keys, from the commitments.
  const { H, sums } = electionKeys(input);
  const key = encodePoint(H);
  for (const [where, published] of [
    ['transcript', transcript.publicKey],
    ['election', input.publishedKey],
    ['aggregate', aggregate.publicKey],
  ] as const) {
    if (published !== undefined && published !== null && published !== key)
      fail('public-key', { where, published, computed: key });
  }
  if (typeof aggregate.publicKey !== 'string') fail('public-key', { where: 'aggregate', published: '', computed: key });
  await pause();

  // 2. The aggregate: this election, its shape, its hash.
  if (aggregate.electionId !== electionId || aggregate.manifestHash !== input.manifestHash || aggregate.version !== 2)
    fail('aggregate-shape', { what: 'election' });
  const total = aggregate.totalBallots;
  if (!Number.isSafeInteger(total) || total < 0) fail('aggregate-shape', { what: 'totalBallots' });
  for (const c of manifest.contests) {
    for (const k of c.choices) {
      const ct = own<{ alpha?: unknown; beta?: unknown }>(own(aggregate.contests, c.id), k.id);
      if (!ct || !isHex(ct.alpha, 32) || !isHex(ct.beta, 32)) fail('aggregate-shape', { what: `${c.id}/${k.id}` });
    }
  }
  const aggregateHash = aggregateHashOf(aggregate);
  if (decryption.aggregateHash !== aggregateHash)
    fail('aggregate-hash', { published: String(decryption.aggregateHash), computed: aggregateHash });
  if (decryption.totalBallots !== total || decryption.electionId !== electionId)
    fail('total-ballots', { decryption: String(decryption.totalBallots), aggregate: total });

  // 3. The trustees the result used: K distinct trustees of the manifest (none when there is no ballot).
  const used = Array.isArray(decryption.trustees) ? decryption.trustees : [];
  const indexOf = new Map(manifest.trustees.map((t, i) => [t.id, i + 1]));
  const distinct = new Set(used);
  if ((total > 0 && used.length !== K) || distinct.size !== used.length || used.some((id) => !indexOf.has(id)))
    fail('decryption-trustees', { trustees: used.join(', '), threshold: K });

  const counts: [string, string, number][] = [];
  let sharesChecked = 0;
  if (total === 0) {
    // Nothing to decrypt: every count is 0.
    for (const c of manifest.contests) for (const k of c.choices) counts.push([c.id, k.id, 0]);
  } else {
    const units = manifest.contests.reduce((n, c) => n + c.choices.length, 0) * (K + 1);
    let done = 0;
    const trustees = used.map((id) => {
      const index = indexOf.get(id)!;
      const ref = manifest.trustees[index - 1]!;
      const env = messageOf(input, id, 'decrypt');
      if (!env) fail('decrypt-missing', { trustee: id });
      if (!verifyTrusteeSignature(env, ref.key)) fail('decrypt-signature', { trustee: id });
      if (env.message.aggregateHash !== aggregateHash) fail('decrypt-aggregate-hash', { trustee: id });
      const X = precomputed(verificationKey(sums, index));
      const publishedX = own<string>(transcript.verificationKeys, id);
      if (publishedX !== undefined && publishedX !== encodePoint(X))
        fail('verification-key', { trustee: id, published: publishedX, computed: encodePoint(X) });
      return { id, index, X, shares: env.message.shares };
    });
    for (const c of manifest.contests) {
      for (const k of c.choices) {
        const at = { contest: c.id, choice: k.id };
        const ct = own<{ alpha: string; beta: string }>(own(aggregate.contests, c.id), k.id)!;
        const alpha = point(ct.alpha, () => fail('aggregate-shape', { what: `${c.id}/${k.id}` }));
        const beta = point(ct.beta, () => fail('aggregate-shape', { what: `${c.id}/${k.id}` }));
        onProgress?.(++done / units);
        const shares = new Map<number, Point>();
        for (const t of trustees) {
          const entry = own<{ share?: unknown; proof?: unknown }>(own(t.shares, c.id), k.id);
          const D = point(entry?.share, () => fail('share-invalid', { trustee: t.id, ...at }));
          const ctx = { electionId, manifestHash: input.manifestHash, aggregateHash, trustee: t.id, ...at };
          if (!verifyDecryptShare(ctx, alpha, D, t.X, entry?.proof)) fail('share-proof', { trustee: t.id, ...at });
          shares.set(t.index, D);
          sharesChecked++;
          onProgress?.(++done / units);
          await pause();
        }
        const n = discreteLog(combineShares(beta, shares), total);
        if (n === null) fail('no-count', at);
        counts.push([c.id, k.id, n]);
      }
    }
  }

  // 4. The counts: the decryption's, the ones the page shows, and the result hash the close anchors.
  for (const [contest, choice, n] of counts) {
    const published = own<unknown>(own(decryption.tally, contest), choice);
    if (published !== n) fail('count-mismatch', { contest, choice, published: String(published), computed: n });
  }
  const tally = Object.fromEntries(
    manifest.contests.map((c) => [
      c.id,
      Object.fromEntries(counts.filter((x) => x[0] === c.id).map((x) => [x[1], x[2]])),
    ]),
  );
  if (jcs(decryption.tally) !== jcs(tally))
    fail('count-mismatch', { contest: '', choice: '', published: '', computed: '' });
  if (input.shownTally !== undefined && input.shownTally !== null && jcs(input.shownTally) !== jcs(tally))
    fail('shown-tally');
  if (input.resultHash) {
    const computed = resultHashOf(electionId, tally, total);
    if (input.resultHash !== computed) fail('result-hash', { published: input.resultHash, computed });
  }
  onProgress?.(1);
  return { ok: true, aggregateHash, trustees: used, sharesChecked };
}
