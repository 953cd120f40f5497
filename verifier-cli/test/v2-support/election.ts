// Builds encrypted elections (wire format v2) for the verifier's tests and bench without any server:
// a version 2 manifest with trustees, the key ceremony's signed messages (commitments with proofs of
// knowledge, shares encrypted to each trustee, confirmations), voters' encrypted and proven ballots as
// ledger rows, windows, the aggregate, the trustees' partial decryptions and the result, and the files
// an auditor would get; then registers, anchors and closes them on a TallyAnchor. The cryptography is
// prover.ts's, on the verifier's group code.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TallyAnchorContract } from '../../../contracts/index.js';
import { BALLOT_V2_DOMAIN } from '../../src/v2/ballot.js';
import {
  add,
  decodeElement,
  IDENTITY,
  mul,
  mulBase,
  ORDER,
  pointHex,
  scalarHex,
  sub,
  type Point,
} from '../../src/v2/group.js';
import { lagrangeAtZero } from '../../src/v2/decryption.js';
import {
  electionKeyOf,
  jcsText,
  makeVoter,
  makeVoters,
  manifestHashHex,
  mth,
  resultHashHex,
  rollRootHex,
  type Signer,
  type TestVoter,
} from '../support/election.js';
import {
  encrypt,
  encryptShare,
  evaluatePolynomial,
  proveDecryptShare,
  proveDisjunctive,
  provePok,
  randomScalar,
  seededRng,
  type Rng,
} from './prover.js';

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

export interface ContestSpec {
  id: string;
  title: string;
  choices: { id: string; label: string }[];
  minSelections: number;
  maxSelections: number;
}

export interface TestManifestV2 {
  version: 2;
  electionId: string;
  title: string;
  contests: ContestSpec[];
  opensAt: string;
  closesAt: string;
  windowSeconds: number;
  ledgerKey: string;
  ballotMode: 'encrypted';
  trustees: { id: string; key: string }[];
  threshold: number;
}

/** A referendum (exactly one of two) and a council (0 to 2 of 3): both proof shapes. */
export const DEFAULT_CONTESTS: ContestSpec[] = [
  {
    id: 'q1',
    title: 'Approve the law?',
    choices: [
      { id: 'oui', label: 'Oui' },
      { id: 'non', label: 'Non' },
    ],
    minSelections: 1,
    maxSelections: 1,
  },
  {
    id: 'council',
    title: 'Council (up to 2)',
    choices: [
      { id: 'ana', label: 'Ana' },
      { id: 'bo', label: 'Bo' },
      { id: 'chloe', label: 'Chloé' },
    ],
    minSelections: 0,
    maxSelections: 2,
  },
];

/** One contest of 3 choices, exactly one selected: the bench's ballot. */
export const THREE_CHOICES: ContestSpec[] = [
  {
    id: 'mayor',
    title: 'Mayor',
    choices: [
      { id: 'ada', label: 'Ada' },
      { id: 'ben', label: 'Ben' },
      { id: 'cleo', label: 'Cléo' },
    ],
    minSelections: 1,
    maxSelections: 1,
  },
];

/** A legal selection of DEFAULT_CONTESTS (or of any contests: cycling through what they allow) varied by i. */
export function selectionsFor(
  i: number,
  contests: readonly ContestSpec[] = DEFAULT_CONTESTS,
): Record<string, string[]> {
  if (contests === DEFAULT_CONTESTS) {
    const council = [[], ['ana'], ['bo'], ['chloe'], ['ana', 'bo'], ['bo', 'chloe']][i % 6]!;
    return { q1: [i % 3 === 0 ? 'non' : 'oui'], council };
  }
  return Object.fromEntries(
    contests.map((c) => {
      const n = c.minSelections + (i % (c.maxSelections - c.minSelections + 1));
      const ids = c.choices.map((k) => k.id);
      return [c.id, Array.from({ length: n }, (_, j) => ids[(i + j) % ids.length]!)];
    }),
  );
}

export interface TestTrustee {
  id: string;
  index: number;
  signer: TestVoter;
  /** Polynomial coefficients a_{i,0..K−1} and the share-encryption key e_i. */
  coefficients: bigint[];
  shareSecret: bigint;
  /** x_j, once the ceremony ran. */
  keyShare: bigint;
}

export type Envelope = { message: Record<string, unknown>; signature: string };

/** Signs a trustee message: Ed25519 over "tallyproof:trustee:v2:" || JCS(message). */
export function signTrusteeMessage(trustee: TestTrustee, message: Record<string, unknown>): Envelope {
  const signature = trustee.signer
    .sign(Buffer.from(`tallyproof:trustee:v2:${jcsText(message)}`, 'utf8'))
    .toString('hex');
  return { message, signature };
}

export function makeTrustees(electionId: string, n: number, threshold: number, rng: Rng): TestTrustee[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `trustee-${String.fromCharCode(97 + i)}`,
    index: i + 1,
    signer: makeVoter(`${electionId}-trustee-${i}`),
    coefficients: Array.from({ length: threshold }, () => rng()),
    shareSecret: rng(),
    keyShare: 0n,
  }));
}

export function makeManifestV2(
  electionId: string,
  ledgerKey: string,
  trustees: readonly TestTrustee[],
  threshold: number,
  contests: ContestSpec[] = DEFAULT_CONTESTS,
  fixedTimes = false,
): TestManifestV2 {
  const now = fixedTimes ? Date.parse('2026-01-01T01:00:00.000Z') : Date.now();
  return {
    version: 2,
    electionId,
    title: `Encrypted test election ${electionId} — scrutin secret`,
    contests,
    opensAt: new Date(now - 3_600_000).toISOString(),
    closesAt: new Date(now + 3_600_000).toISOString(),
    windowSeconds: 60,
    ledgerKey,
    ballotMode: 'encrypted',
    trustees: trustees.map((t) => ({ id: t.id, key: t.signer.credential })),
    threshold,
  };
}

export interface Ceremony {
  messages: Envelope[];
  publicKey: Point;
  verificationKeys: Map<string, Point>;
}

/** 12.3: every trustee's keygen-commit, then keygen-shares, then keygen-confirm; sets each x_j. */
export function runKeyCeremony(manifest: TestManifestV2, trustees: TestTrustee[], rng: Rng): Ceremony {
  const electionId = manifest.electionId;
  const manifestHash = manifestHashHex(manifest);
  const header = (t: TestTrustee, kind: string) => ({ version: 2, kind, electionId, manifestHash, trustee: t.id });
  const messages: Envelope[] = [];
  for (const t of trustees) {
    const commitments = t.coefficients.map((a) => mulBase(a));
    const shareKey = mulBase(t.shareSecret);
    const pok = (purpose: string, point: Point, secret: bigint) => {
      const p = provePok({ electionId, manifestHash, trustee: t.id, purpose, point }, secret, rng);
      return { c: scalarHex(p.c), s: scalarHex(p.s) };
    };
    messages.push(
      signTrusteeMessage(t, {
        ...header(t, 'keygen-commit'),
        commitments: commitments.map(pointHex),
        commitmentProof: pok('commitment', commitments[0]!, t.coefficients[0]!),
        shareKey: pointHex(shareKey),
        shareKeyProof: pok('share-key', shareKey, t.shareSecret),
      }),
    );
  }
  for (const t of trustees) {
    const shares = Object.fromEntries(
      trustees
        .filter((u) => u.id !== t.id)
        .map((u) => [
          u.id,
          encryptShare(
            evaluatePolynomial(t.coefficients, u.index),
            mulBase(u.shareSecret),
            { electionId, from: t.id, to: u.id },
            rng,
          ),
        ]),
    );
    messages.push(signTrusteeMessage(t, { ...header(t, 'keygen-shares'), shares }));
  }
  // Each x_j = Σ_i f_i(j); H = Σ a_{i,0}·G; X_j = x_j·G.
  for (const u of trustees) {
    u.keyShare = trustees.reduce((acc, t) => (acc + evaluatePolynomial(t.coefficients, u.index)) % ORDER, 0n);
  }
  let publicKey: Point = Buffer.from(IDENTITY);
  for (const t of trustees) publicKey = add(publicKey, mulBase(t.coefficients[0]!));
  const verificationKeys = new Map(trustees.map((u) => [u.id, mulBase(u.keyShare)]));
  const keysJson = Object.fromEntries([...verificationKeys].map(([id, x]) => [id, pointHex(x)]));
  for (const t of trustees)
    messages.push(
      signTrusteeMessage(t, {
        ...header(t, 'keygen-confirm'),
        publicKey: pointHex(publicKey),
        verificationKeys: keysJson,
      }),
    );
  return { messages, publicKey, verificationKeys };
}

export interface ProofJson {
  c: string[];
  s: string[];
}

/** A version 2 ballot as JSON (12.4). */
export interface BallotV2Json {
  version: 2;
  electionId: string;
  credential: string;
  contests: Record<string, { choices: { alpha: string; beta: string; proof: ProofJson }[]; proof: ProofJson }>;
}

export interface V2Row {
  seq: number;
  ballot: BallotV2Json;
  ballotText: string;
  signature: string;
  ballotHash: string;
  receivedAt: string;
  /** What it encrypts, and the randomness per choice (manifest order), for openings and tests. */
  selections: Record<string, string[]>;
  randomness: Record<string, bigint[]>;
}

/** A voter's encrypted ballot (12.4), signed, as a ledger row at `seq`. */
export function castEncryptedBallot(
  voter: TestVoter,
  manifest: TestManifestV2,
  publicKey: Point,
  selections: Record<string, string[]>,
  seq: number,
  rng: Rng = randomScalar,
  receivedAt = new Date().toISOString(),
): V2Row {
  const electionId = manifest.electionId;
  const manifestHash = manifestHashHex(manifest);
  const publicKeyHex = pointHex(publicKey);
  const base = { electionId, manifestHash, publicKey, publicKeyHex, credential: voter.credential };
  const contests: BallotV2Json['contests'] = {};
  const randomness: Record<string, bigint[]> = {};
  for (const c of manifest.contests) {
    const chosen = new Set(selections[c.id] ?? []);
    let sumAlpha: Point = Buffer.from(IDENTITY);
    let sumBeta: Point = Buffer.from(IDENTITY);
    let sumR = 0n;
    const rs: bigint[] = [];
    const choices = c.choices.map((k) => {
      const m = chosen.has(k.id) ? 1 : 0;
      const r = rng();
      rs.push(r);
      const { alpha, beta } = encrypt(m, r, publicKey);
      sumAlpha = add(sumAlpha, alpha);
      sumBeta = add(sumBeta, beta);
      sumR = (sumR + r) % ORDER;
      const proof = proveDisjunctive({ ...base, contest: c.id, choice: k.id, alpha, beta, values: [0, 1] }, m, r, rng);
      return { alpha: pointHex(alpha), beta: pointHex(beta), proof: hexProof(proof) };
    });
    const values = Array.from({ length: c.maxSelections - c.minSelections + 1 }, (_, i) => c.minSelections + i);
    const proof = proveDisjunctive(
      { ...base, contest: c.id, choice: null, alpha: sumAlpha, beta: sumBeta, values },
      chosen.size - c.minSelections,
      sumR,
      rng,
    );
    contests[c.id] = { choices, proof: hexProof(proof) };
    randomness[c.id] = rs;
  }
  const ballot: BallotV2Json = { version: 2, electionId, credential: voter.credential, contests };
  const ballotText = jcsText(ballot);
  const signature = voter.sign(Buffer.from(`${BALLOT_V2_DOMAIN}${ballotText}`, 'utf8')).toString('hex');
  const ballotHash = sha256Hex(jcsText({ ballot, signature }));
  return { seq, ballot, ballotText, signature, ballotHash, receivedAt, selections, randomness };
}

export const hexProof = (p: { c: bigint[]; s: bigint[] }) => ({ c: p.c.map(scalarHex), s: p.s.map(scalarHex) });

/** The row as the ledger export writes it. */
export function rowLineV2(row: Pick<V2Row, 'seq' | 'ballotHash' | 'ballotText' | 'signature' | 'receivedAt'>): string {
  return `{"seq":${row.seq},"ballotHash":"${row.ballotHash}","ballot":${row.ballotText},"signature":"${row.signature}","receivedAt":"${row.receivedAt}"}`;
}

/** 12.5: the aggregate of `rows` (every one counted). */
export function aggregateOf(
  manifest: TestManifestV2,
  publicKey: Point,
  rows: readonly V2Row[],
): Record<string, unknown> {
  const contests: Record<string, Record<string, { alpha: string; beta: string }>> = {};
  for (const c of manifest.contests) {
    contests[c.id] = {};
    for (const [k, choice] of c.choices.entries()) {
      let alpha: Point = Buffer.from(IDENTITY);
      let beta: Point = Buffer.from(IDENTITY);
      for (const r of rows) {
        const cell = r.ballot.contests[c.id]!.choices[k]!;
        alpha = add(alpha, decodeElement(cell.alpha)!);
        beta = add(beta, decodeElement(cell.beta)!);
      }
      contests[c.id]![choice.id] = { alpha: pointHex(alpha), beta: pointHex(beta) };
    }
  }
  return {
    version: 2,
    electionId: manifest.electionId,
    manifestHash: manifestHashHex(manifest),
    publicKey: pointHex(publicKey),
    totalBallots: rows.length,
    contests,
  };
}

/** 12.5 step 4: trustee `t`'s decrypt message for `aggregate`. */
export function decryptMessage(
  manifest: TestManifestV2,
  t: TestTrustee,
  aggregate: Record<string, unknown>,
  rng: Rng = randomScalar,
): Envelope {
  const aggregateHash = sha256Hex(jcsText(aggregate));
  const manifestHash = manifestHashHex(manifest);
  const verificationKey = mulBase(t.keyShare);
  const contests = aggregate.contests as Record<string, Record<string, { alpha: string }>>;
  const shares: Record<string, Record<string, unknown>> = {};
  for (const c of manifest.contests) {
    shares[c.id] = {};
    for (const k of c.choices) {
      const alpha = decodeElement(contests[c.id]![k.id]!.alpha) ?? Buffer.from(IDENTITY);
      const share = mul(alpha, t.keyShare);
      const st = {
        electionId: manifest.electionId,
        manifestHash,
        aggregateHash,
        trustee: t.id,
        contest: c.id,
        choice: k.id,
        alpha,
        share,
        verificationKey,
      };
      const proof = proveDecryptShare(st, t.keyShare, rng);
      shares[c.id]![k.id] = { share: pointHex(share), proof: { c: scalarHex(proof.c), s: scalarHex(proof.s) } };
    }
  }
  return signTrusteeMessage(t, {
    version: 2,
    kind: 'decrypt',
    electionId: manifest.electionId,
    manifestHash,
    trustee: t.id,
    aggregateHash,
    shares,
  });
}

export type TestTally = Record<string, Record<string, number>>;

/** The counts of `rows` from their selections (what a correct decryption gives). */
export function tallyOfSelections(manifest: TestManifestV2, rows: readonly V2Row[]): TestTally {
  const tally: TestTally = {};
  for (const c of manifest.contests) tally[c.id] = Object.fromEntries(c.choices.map((k) => [k.id, 0]));
  for (const r of rows) for (const [c, ks] of Object.entries(r.selections)) for (const k of ks) tally[c]![k]!++;
  return tally;
}

/** The counts decrypted from `aggregate` with the key shares of `by` (K trustees): a check of the prover's side. */
export function combine(manifest: TestManifestV2, aggregate: Record<string, unknown>, by: TestTrustee[]): TestTally {
  const lambdas = lagrangeAtZero(by.map((t) => t.index));
  const contests = aggregate.contests as Record<string, Record<string, { alpha: string; beta: string }>>;
  const tally: TestTally = {};
  for (const c of manifest.contests) {
    tally[c.id] = {};
    for (const k of c.choices) {
      const cell = contests[c.id]![k.id]!;
      const alpha = decodeElement(cell.alpha) ?? Buffer.from(IDENTITY);
      const beta = decodeElement(cell.beta) ?? Buffer.from(IDENTITY);
      let shared: Point = Buffer.from(IDENTITY);
      for (const [j, t] of by.entries()) shared = add(shared, mul(mul(alpha, t.keyShare), lambdas[j]!));
      const m = sub(beta, shared);
      let n = 0;
      let p: Point = Buffer.from(IDENTITY);
      const g = mulBase(1n);
      while (!p.equals(m)) {
        p = add(p, g);
        n++;
        if (n > 1_000_000) throw new Error('combine: no small count');
      }
      tally[c.id]![k.id] = n;
    }
  }
  return tally;
}

export interface TestEncryptedElection {
  electionId: string;
  manifest: TestManifestV2;
  trustees: TestTrustee[];
  ceremony: Ceremony;
  voters: TestVoter[];
  roll: string[];
  rows: V2Row[];
  windows: { index: number; firstSeq: number; count: number; root: string }[];
  aggregate: Record<string, unknown>;
  decrypts: Envelope[];
  decryption: Record<string, unknown>;
  tally: TestTally;
}

export interface BuildEncryptedOptions {
  electionId: string;
  voters: number;
  windowSizes: number[];
  trustees?: number;
  threshold?: number;
  /** Trustee indexes (1-based) who post a partial decryption, in posting order; default: the first K. */
  decryptBy?: number[];
  contests?: ContestSpec[];
  signer?: Signer;
  /** Deterministic randomness (default: the election id); `random` uses fresh randomness. */
  seed?: string | 'random';
  /** Fixed opening and closing times (2026), so that with a fixed seed the manifest and H never change. */
  fixedTimes?: boolean;
}

/** An election's trustees, manifest and ceremony (the expensive ballots are separate: castAll). */
export function setUpEncryptedElection(opts: BuildEncryptedOptions): {
  manifest: TestManifestV2;
  trustees: TestTrustee[];
  ceremony: Ceremony;
  rng: Rng;
} {
  const rng = opts.seed === 'random' ? randomScalar : seededRng(opts.seed ?? opts.electionId);
  const n = opts.trustees ?? 3;
  const threshold = opts.threshold ?? 2;
  const ledgerKey = makeVoter(`${opts.electionId}-ledger-key`).credential;
  const trustees = makeTrustees(opts.electionId, n, threshold, rng);
  const manifest = makeManifestV2(opts.electionId, ledgerKey, trustees, threshold, opts.contests, opts.fixedTimes);
  const ceremony = runKeyCeremony(manifest, trustees, rng);
  return { manifest, trustees, ceremony, rng };
}

export function buildEncryptedElection(opts: BuildEncryptedOptions): TestEncryptedElection {
  const { manifest, trustees, ceremony, rng } = setUpEncryptedElection(opts);
  const voters = makeVoters(opts.voters, opts.electionId, opts.signer);
  const contests = manifest.contests;
  const rows = voters.map((v, i) =>
    castEncryptedBallot(v, manifest, ceremony.publicKey, selectionsFor(i, contests), i, rng),
  );
  return finishElection(opts, manifest, trustees, ceremony, voters, rows, rng);
}

/** Windows, aggregate, decryptions and result for `rows`. */
export function finishElection(
  opts: BuildEncryptedOptions,
  manifest: TestManifestV2,
  trustees: TestTrustee[],
  ceremony: Ceremony,
  voters: TestVoter[],
  rows: V2Row[],
  rng: Rng,
): TestEncryptedElection {
  const threshold = manifest.threshold;
  const windows: TestEncryptedElection['windows'] = [];
  let first = 0;
  for (const [index, count] of opts.windowSizes.entries()) {
    const leaves = rows.slice(first, first + count).map((r) => Buffer.from(r.ballotHash, 'hex'));
    windows.push({ index, firstSeq: first, count, root: mth(leaves).toString('hex') });
    first += count;
  }
  const aggregate = aggregateOf(manifest, ceremony.publicKey, rows);
  const decryptBy = opts.decryptBy ?? trustees.slice(0, threshold).map((t) => t.index);
  const decrypts =
    rows.length === 0 ? [] : decryptBy.map((i) => decryptMessage(manifest, trustees[i - 1]!, aggregate, rng));
  const tally = tallyOfSelections(manifest, rows);
  const combinedBy = [...decryptBy].sort((a, b) => a - b).slice(0, threshold);
  const decryption = {
    version: 2,
    electionId: manifest.electionId,
    aggregateHash: sha256Hex(jcsText(aggregate)),
    trustees: rows.length === 0 ? [] : combinedBy.map((i) => trustees[i - 1]!.id),
    tally,
    totalBallots: rows.length,
  };
  return {
    electionId: manifest.electionId,
    manifest,
    trustees,
    ceremony,
    voters,
    roll: voters.map((v) => v.credential),
    rows,
    windows,
    aggregate,
    decrypts,
    decryption,
    tally,
  };
}

/** GET …/trustee-messages (12.7) for the election, with extra messages (the decrypts by default). */
export function transcriptOf(e: TestEncryptedElection, messages: Envelope[] = [...e.ceremony.messages, ...e.decrypts]) {
  return {
    electionId: e.electionId,
    threshold: e.manifest.threshold,
    trustees: e.manifest.trustees,
    publicKey: pointHex(e.ceremony.publicKey),
    verificationKeys: Object.fromEntries([...e.ceremony.verificationKeys].map(([id, x]) => [id, pointHex(x)])),
    keyCeremony: 'complete',
    messages,
    refused: [],
  };
}

/** GET …/results (12.6) after the decryption. */
export function encryptedResultsOf(e: TestEncryptedElection): Record<string, unknown> {
  const anchored = e.windows.reduce((n, w) => n + w.count, 0);
  return {
    electionId: e.electionId,
    tally: e.tally,
    totalBallots: e.rows.length,
    anchoredBallots: anchored,
    asOfSeq: e.rows.length - 1,
    contests: Object.fromEntries(
      e.manifest.contests.map((c) => [c.id, { ballotsCounted: e.rows.length, blank: null }]),
    ),
    ballotMode: 'encrypted',
    decryption: {
      status: 'complete',
      threshold: e.manifest.threshold,
      received: e.decrypts.map((d) => d.message.trustee),
      aggregateHash: e.decryption.aggregateHash,
    },
  };
}

export interface EncryptedElectionFiles {
  dir: string;
  ledger: string;
  manifest: string;
  roll: string;
  results: string;
  trusteeMessages: string;
  aggregate: string;
  decryption: string;
}

/** Writes every file an auditor of `e` gets; `override` replaces some of their contents. */
export function writeEncryptedElectionFiles(
  dir: string,
  e: TestEncryptedElection,
  override: {
    lines?: string[];
    transcript?: unknown;
    aggregate?: unknown;
    decryption?: unknown;
    results?: unknown;
  } = {},
): EncryptedElectionFiles {
  mkdirSync(dir, { recursive: true });
  const files: EncryptedElectionFiles = {
    dir,
    ledger: join(dir, 'ledger.ndjson'),
    manifest: join(dir, 'manifest.json'),
    roll: join(dir, 'roll.json'),
    results: join(dir, 'results.json'),
    trusteeMessages: join(dir, 'trustee-messages.json'),
    aggregate: join(dir, 'aggregate.json'),
    decryption: join(dir, 'decryption.json'),
  };
  const lines = override.lines ?? e.rows.map(rowLineV2);
  writeFileSync(files.ledger, lines.length === 0 ? '' : lines.join('\n') + '\n');
  writeFileSync(files.manifest, JSON.stringify(e.manifest, null, 2));
  writeFileSync(files.roll, JSON.stringify(e.roll));
  writeFileSync(files.results, JSON.stringify(override.results ?? encryptedResultsOf(e)));
  writeFileSync(files.trusteeMessages, JSON.stringify(override.transcript ?? transcriptOf(e)));
  writeFileSync(files.aggregate, JSON.stringify(override.aggregate ?? e.aggregate));
  writeFileSync(files.decryption, JSON.stringify(override.decryption ?? e.decryption));
  return files;
}

/** Registers `e`, anchors its windows and (unless `close` is false) closes it with its result. */
export async function anchorEncryptedElection(
  contract: TallyAnchorContract,
  e: TestEncryptedElection,
  opts: { close?: false | { tally: TestTally; totalBallots: number } } = {},
): Promise<void> {
  const key = electionKeyOf(e.electionId);
  await (await contract.registerElection(key, `0x${manifestHashHex(e.manifest)}`, `0x${rollRootHex(e.roll)}`)).wait();
  for (const w of e.windows)
    await (await contract.anchorWindow(key, w.index, w.firstSeq, w.count, `0x${w.root}`)).wait();
  if (opts.close === false) return;
  const close = opts.close ?? { tally: e.tally, totalBallots: e.rows.length };
  const hash = resultHashHex(e.electionId, close.tally, close.totalBallots);
  await (await contract.closeElection(key, `0x${hash}`, close.totalBallots)).wait();
}
