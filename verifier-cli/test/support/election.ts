// Builds elections for the verifier's tests and bench without any server: voters and their signed
// ballots, ledger rows, windows with roots and audit paths, results, and the files an auditor would
// get; then registers, anchors and closes them on a TallyAnchor. Written from docs/protocol.md's wire format
// with its own code (noble or node:crypto signing, node:crypto SHA-256, a recursive RFC 6962 tree), so
// the verifier is checked against a second implementation, not against itself.
import { createHash, createPrivateKey, createPublicKey, sign as nodeSign, type KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import canonicalizeImport from 'canonicalize';
import { id as keccakUtf8 } from 'ethers';
import type { TallyAnchorContract } from '../../../contracts/index.js';

const canonicalize = canonicalizeImport as unknown as (v: unknown) => string;
export const jcsText = (v: unknown): string => canonicalize(v);
const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest();

export type Signer = 'noble' | 'node';

export interface TestVoter {
  seed: Buffer;
  credential: string;
  sign(message: Uint8Array): Buffer;
}

/** A voter from a deterministic seed = SHA-256(label). */
export function makeVoter(label: string, signer: Signer = 'noble'): TestVoter {
  const seed = sha256(`tallyproof verifier test voter ${label}`);
  if (signer === 'noble') {
    const credential = Buffer.from(ed25519.getPublicKey(seed)).toString('hex');
    return { seed, credential, sign: (m) => Buffer.from(ed25519.sign(m, seed)) };
  }
  // JWK import is ~15x faster than PKCS#8 DER in OpenSSL 3. Node requires `x` to be a string but
  // derives the public key from `d` for a private key (the steps test checks it against noble).
  const key: KeyObject = createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', d: seed.toString('base64url'), x: '' },
    format: 'jwk',
  });
  const x = createPublicKey(key).export({ format: 'jwk' }).x!;
  return { seed, credential: Buffer.from(x, 'base64url').toString('hex'), sign: (m) => nodeSign(null, m, key) };
}

export function makeVoters(n: number, prefix: string, signer: Signer = 'noble'): TestVoter[] {
  return Array.from({ length: n }, (_, i) => makeVoter(`${prefix}-${i}`, signer));
}

export interface TestManifest {
  version: 1;
  electionId: string;
  title: string;
  contests: {
    id: string;
    title: string;
    choices: { id: string; label: string }[];
    minSelections: number;
    maxSelections: number;
  }[];
  opensAt: string;
  closesAt: string;
  windowSeconds: number;
  ledgerKey: string;
}

export function makeManifest(electionId: string, ledgerKey: string): TestManifest {
  const now = Date.now();
  return {
    version: 1,
    electionId,
    title: `Verifier test election ${electionId} — référendum`,
    contests: [
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
    ],
    opensAt: new Date(now - 3_600_000).toISOString(),
    closesAt: new Date(now + 3_600_000).toISOString(),
    windowSeconds: 60,
    ledgerKey,
  };
}

/** A legal selection varied by i. */
export function selectionsFor(i: number): Record<string, string[]> {
  const council = [[], ['ana'], ['bo'], ['chloe'], ['ana', 'bo'], ['bo', 'chloe']][i % 6]!;
  return { q1: [i % 3 === 0 ? 'non' : 'oui'], council };
}

export interface TestRow {
  seq: number;
  ballot: { version: 1; electionId: string; credential: string; selections: Record<string, string[]> };
  /** The stored ballot text (JCS). */
  ballotText: string;
  signature: string;
  ballotHash: string;
  receivedAt: string;
}

/** A signed ballot as a ledger row at `seq`. */
export function castBallot(
  voter: TestVoter,
  electionId: string,
  selections: Record<string, string[]>,
  seq: number,
  receivedAt = new Date().toISOString(),
): TestRow {
  const ballot = { version: 1 as const, electionId, credential: voter.credential, selections };
  const ballotText = jcsText(ballot);
  const signature = voter.sign(Buffer.from(`tallyproof:ballot:v1:${ballotText}`, 'utf8')).toString('hex');
  const ballotHash = sha256(jcsText({ ballot, signature })).toString('hex');
  return { seq, ballot, ballotText, signature, ballotHash, receivedAt };
}

/** The row as the ledger export writes it: the stored ballot text embedded as is. */
export function rowLine(row: TestRow): string {
  return `{"seq":${row.seq},"ballotHash":"${row.ballotHash}","ballot":${row.ballotText},"signature":"${row.signature}","receivedAt":"${row.receivedAt}"}`;
}

// ---- RFC 6962, recursive over index ranges ----
const leafHash = (d: Buffer): Buffer => sha256(Buffer.concat([Buffer.from([0]), d]));
const nodeHash = (l: Buffer, r: Buffer): Buffer => sha256(Buffer.concat([Buffer.from([1]), l, r]));
const split = (n: number): number => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};
export function mth(leaves: readonly Buffer[], lo = 0, hi = leaves.length): Buffer {
  const n = hi - lo;
  if (n === 0) return sha256(new Uint8Array(0));
  if (n === 1) return leafHash(leaves[lo]!);
  const k = split(n);
  return nodeHash(mth(leaves, lo, lo + k), mth(leaves, lo + k, hi));
}
export function auditPath(leaves: readonly Buffer[], m: number, lo = 0, hi = leaves.length): Buffer[] {
  const n = hi - lo;
  if (n <= 1) return [];
  const k = split(n);
  return m < k
    ? [...auditPath(leaves, m, lo, lo + k), mth(leaves, lo + k, hi)]
    : [...auditPath(leaves, m - k, lo + k, hi), mth(leaves, lo, lo + k)];
}

export interface TestWindow {
  index: number;
  firstSeq: number;
  count: number;
  root: string;
}

/** Contiguous windows of the given sizes over `rows` (their ballot hashes as leaves). */
export function windowsOf(rows: readonly TestRow[], sizes: readonly number[]): TestWindow[] {
  const out: TestWindow[] = [];
  let first = 0;
  for (const [index, count] of sizes.entries()) {
    const leaves = rows.slice(first, first + count).map((r) => Buffer.from(r.ballotHash, 'hex'));
    out.push({ index, firstSeq: first, count, root: mth(leaves).toString('hex') });
    first += count;
  }
  return out;
}

export type TestTally = Record<string, Record<string, number>>;

export function tallyOf(manifest: TestManifest, rows: readonly TestRow[]): TestTally {
  const tally: TestTally = {};
  for (const c of manifest.contests) {
    tally[c.id] = {};
    for (const k of c.choices) tally[c.id]![k.id] = 0;
  }
  for (const r of rows) for (const [c, ks] of Object.entries(r.ballot.selections)) for (const k of ks) tally[c]![k]!++;
  return tally;
}

export function resultHashHex(electionId: string, tally: TestTally, totalBallots: number): string {
  return sha256(jcsText({ electionId, tally, totalBallots })).toString('hex');
}

export function rollRootHex(credentials: readonly string[]): string {
  return mth(credentials.map((c) => Buffer.from(c, 'hex')).sort(Buffer.compare)).toString('hex');
}

export function manifestHashHex(manifest: unknown): string {
  return sha256(jcsText(manifest)).toString('hex');
}

export const electionKeyOf = (electionId: string): string => keccakUtf8(electionId);

export interface TestElection {
  electionId: string;
  manifest: TestManifest;
  roll: string[];
  rows: TestRow[];
  windows: TestWindow[];
  tally: TestTally;
  ledgerSeed: Buffer;
}

export interface BuildOptions {
  electionId: string;
  voters: number;
  /** Voters on the roll who do not vote (for insertion tests). */
  abstainers?: number;
  /** Window sizes; their sum may be below the number of ballots (the rest is unanchored). */
  windowSizes: number[];
  signer?: Signer;
}

export function buildElection(opts: BuildOptions): TestElection & { abstaining: TestVoter[]; voters: TestVoter[] } {
  const ledgerSeed = sha256(`tallyproof verifier test ledger ${opts.electionId}`);
  const ledgerKey = Buffer.from(ed25519.getPublicKey(ledgerSeed)).toString('hex');
  const manifest = makeManifest(opts.electionId, ledgerKey);
  const voters = makeVoters(opts.voters, opts.electionId, opts.signer);
  const abstaining = makeVoters(opts.abstainers ?? 0, `${opts.electionId}-abstainer`, opts.signer);
  const rows = voters.map((v, i) => castBallot(v, opts.electionId, selectionsFor(i), i));
  const roll = [...voters, ...abstaining].map((v) => v.credential);
  return {
    electionId: opts.electionId,
    manifest,
    roll,
    rows,
    windows: windowsOf(rows, opts.windowSizes),
    tally: tallyOf(manifest, rows),
    ledgerSeed,
    abstaining,
    voters,
  };
}

export interface ElectionFiles {
  dir: string;
  ledger: string;
  manifest: string;
  roll: string;
  results: string;
}

/** Writes ledger.ndjson, manifest.json, roll.json and results.json under `dir`. */
export function writeElectionFiles(dir: string, e: TestElection, rows: readonly TestRow[] = e.rows): ElectionFiles {
  mkdirSync(dir, { recursive: true });
  const files = {
    dir,
    ledger: join(dir, 'ledger.ndjson'),
    manifest: join(dir, 'manifest.json'),
    roll: join(dir, 'roll.json'),
    results: join(dir, 'results.json'),
  };
  writeFileSync(files.ledger, rows.map(rowLine).join('\n') + '\n');
  writeFileSync(files.manifest, JSON.stringify(e.manifest, null, 2));
  writeFileSync(files.roll, JSON.stringify(e.roll));
  writeFileSync(files.results, JSON.stringify(resultsOf(e, rows)));
  return files;
}

/** What GET …/results would publish for `rows`. */
export function resultsOf(e: TestElection, rows: readonly TestRow[] = e.rows): unknown {
  const anchored = e.windows.reduce((n, w) => n + w.count, 0);
  return {
    electionId: e.electionId,
    tally: tallyOf(e.manifest, rows),
    totalBallots: rows.length,
    anchoredBallots: anchored,
    asOfSeq: rows.length - 1,
  };
}

export interface AnchorOptions {
  /** Replace window roots before anchoring (tampering on chain). */
  rootOverride?: Map<number, string>;
  /** Close with this result (default: the honest one) — or false to leave the election open. */
  close?: { tally: TestTally; totalBallots: number } | false;
}

/** Registers `e`, anchors its windows and (by default) closes it with the honest resultHash. */
export async function anchorElection(
  contract: TallyAnchorContract,
  e: TestElection,
  opts: AnchorOptions = {},
): Promise<void> {
  const key = electionKeyOf(e.electionId);
  await (await contract.registerElection(key, `0x${manifestHashHex(e.manifest)}`, `0x${rollRootHex(e.roll)}`)).wait();
  for (const w of e.windows) {
    const root = opts.rootOverride?.get(w.index) ?? w.root;
    await (await contract.anchorWindow(key, w.index, w.firstSeq, w.count, `0x${root}`)).wait();
  }
  if (opts.close === false) return;
  const total = e.windows.reduce((n, w) => n + w.count, 0);
  const close = opts.close ?? { tally: tallyOf(e.manifest, e.rows.slice(0, total)), totalBallots: total };
  await (
    await contract.closeElection(key, `0x${resultHashHex(e.electionId, close.tally, close.totalBallots)}`, total)
  ).wait();
}

/** A receipt for `row`, signed by the election's ledger key. */
export function receiptFor(
  e: TestElection,
  row: TestRow,
): { version: 1; electionId: string; seq: number; ballotHash: string; receivedAt: string; signature: string } {
  const body = {
    version: 1 as const,
    electionId: e.electionId,
    seq: row.seq,
    ballotHash: row.ballotHash,
    receivedAt: row.receivedAt,
  };
  const signature = Buffer.from(
    ed25519.sign(Buffer.from(`tallyproof:receipt:v1:${jcsText(body)}`, 'utf8'), e.ledgerSeed),
  ).toString('hex');
  return { ...body, signature };
}

/** The proof bundle the server would serve for `row` once anchored. */
export function bundleFor(
  e: TestElection,
  row: TestRow,
  anchor: { chainId: number; contract: string },
): Record<string, unknown> {
  const w = e.windows.find((x) => row.seq >= x.firstSeq && row.seq < x.firstSeq + x.count);
  if (w === undefined) return { receipt: receiptFor(e, row), status: 'pending' };
  const leaves = e.rows.slice(w.firstSeq, w.firstSeq + w.count).map((r) => Buffer.from(r.ballotHash, 'hex'));
  return {
    receipt: receiptFor(e, row),
    status: 'anchored',
    window: { index: w.index, firstSeq: w.firstSeq, count: w.count, root: w.root },
    inclusion: {
      leafIndex: row.seq - w.firstSeq,
      auditPath: auditPath(leaves, row.seq - w.firstSeq).map((b) => b.toString('hex')),
    },
    anchor: { chainId: anchor.chainId, contract: anchor.contract, txHash: `0x${'00'.repeat(32)}`, blockNumber: 1 },
  };
}
