// Builds elections of several shards (docs/protocol.md section 13) for the verifier's tests, without any server:
// each voter's ballot in its credential's shard, each shard's seqs from 0 and its windows, anchor intervals
// gathering the shards' windows, the files an auditor would save (ledger of every shard, intervals, windows),
// receipts naming their shard and two-level proof bundles; then registers, anchors (anchorInterval) and closes
// them on a TallyAnchor. Written from the text with this support's own code (Buffer writes for the records,
// node:crypto SHA-256, the recursive RFC 6962 tree of election.ts), not with the verifier's.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { TallyAnchorContract } from '../../../contracts/index.js';
import {
  auditPath,
  castBallot,
  electionKeyOf,
  jcsText,
  makeManifest,
  makeVoters,
  manifestHashHex,
  mth,
  resultHashHex,
  rollRootHex,
  selectionsFor,
  tallyOf,
  type TestManifest,
  type TestRow,
  type TestTally,
  type TestVoter,
} from './election.js';

/** uint32_be(SHA-256(credential)[0..4]) mod S. */
export function shardOfCredential(credentialHex: string, shards: number): number {
  return createHash('sha256').update(Buffer.from(credentialHex, 'hex')).digest().readUInt32BE(0) % shards;
}

export interface ShardRow extends TestRow {
  shard: number;
}

export interface ShardWindow {
  shard: number;
  index: number;
  firstSeq: number;
  count: number;
  root: string;
}

/** A record as GET …/intervals lists it. */
export interface IntervalRecord {
  shard: number;
  windowIndex: number;
  firstSeq: number;
  count: number;
  root: string;
}

export interface TestInterval {
  index: number;
  windowCount: number;
  ballotCount: number;
  root: string;
  records: IntervalRecord[];
}

/** The 60 bytes: uint32_be(shard) || uint64_be(windowIndex) || uint64_be(firstSeq) || uint64_be(count) || root. */
export function recordBytes(r: IntervalRecord): Buffer {
  const b = Buffer.alloc(60);
  b.writeUInt32BE(r.shard, 0);
  b.writeBigUInt64BE(BigInt(r.windowIndex), 4);
  b.writeBigUInt64BE(BigInt(r.firstSeq), 12);
  b.writeBigUInt64BE(BigInt(r.count), 20);
  Buffer.from(r.root, 'hex').copy(b, 28);
  return b;
}

/** An interval over `records` (in the order given). */
export function intervalOf(index: number, records: IntervalRecord[]): TestInterval {
  return {
    index,
    windowCount: records.length,
    ballotCount: records.reduce((n, r) => n + r.count, 0),
    root: mth(records.map(recordBytes)).toString('hex'),
    records,
  };
}

export interface ShardedElection {
  electionId: string;
  shards: number;
  manifest: TestManifest & { shards: number };
  roll: string[];
  /** Per shard, its rows in seq order. */
  rows: ShardRow[][];
  /** Per shard, its windows. */
  windows: ShardWindow[][];
  /** The intervals the anchorer forms (the ones anchored first, then `pending` ones, formed but not anchored). */
  intervals: TestInterval[];
  /** How many of `intervals` are anchored (the rest wait: an open election). */
  anchoredIntervals: number;
  tally: TestTally;
  ledgerSeed: Buffer;
  voters: TestVoter[];
  abstaining: TestVoter[];
}

export interface ShardedBuildOptions {
  electionId: string;
  shards: number;
  voters: number;
  abstainers?: number;
  /** Ballots per shard window at most. */
  windowSize: number;
  /** Anchor passes left unanchored at the end (their windows sealed, their interval formed): an open election. */
  unanchoredPasses?: number;
  /** Windows the anchorer leaves out of every interval (a dishonest anchorer). */
  leaveOut?: { shard: number; window: number }[];
}

/**
 * Every voter votes once, in voter order; shard s's rows get seqs 0, 1, … Each shard's rows are cut into
 * windows of `windowSize`; anchor pass p seals every shard's window p, and interval p gathers them.
 */
export function buildShardedElection(opts: ShardedBuildOptions): ShardedElection {
  const ledgerSeed = createHash('sha256').update(`tallyproof verifier test ledger ${opts.electionId}`).digest();
  const ledgerKey = Buffer.from(ed25519.getPublicKey(ledgerSeed)).toString('hex');
  const manifest = { ...makeManifest(opts.electionId, ledgerKey), shards: opts.shards };
  const voters = makeVoters(opts.voters, opts.electionId);
  const abstaining = makeVoters(opts.abstainers ?? 0, `${opts.electionId}-abstainer`);
  const rows: ShardRow[][] = Array.from({ length: opts.shards }, () => []);
  for (const [i, v] of voters.entries()) {
    const shard = shardOfCredential(v.credential, opts.shards);
    rows[shard]!.push({ ...castBallot(v, opts.electionId, selectionsFor(i), rows[shard]!.length), shard });
  }
  const windows = rows.map((shardRows, shard) => windowsOfShard(shard, shardRows, opts.windowSize));
  const passes = Math.max(...windows.map((w) => w.length));
  const leftOut = (w: ShardWindow): boolean =>
    (opts.leaveOut ?? []).some((x) => x.shard === w.shard && x.window === w.index);
  const intervals: TestInterval[] = [];
  for (let p = 0; p < passes; p++) {
    const records = windows
      .flatMap((w) => w.filter((x) => x.index === p && !leftOut(x)))
      .map((w) => ({ shard: w.shard, windowIndex: w.index, firstSeq: w.firstSeq, count: w.count, root: w.root }));
    if (records.length > 0) intervals.push(intervalOf(intervals.length, records));
  }
  return {
    electionId: opts.electionId,
    shards: opts.shards,
    manifest,
    roll: [...voters, ...abstaining].map((v) => v.credential),
    rows,
    windows,
    intervals,
    anchoredIntervals: intervals.length - (opts.unanchoredPasses ?? 0),
    tally: tallyOf(manifest, rows.flat()),
    ledgerSeed,
    voters,
    abstaining,
  };
}

/** A shard's windows of at most `size` rows. */
export function windowsOfShard(shard: number, rows: readonly TestRow[], size: number): ShardWindow[] {
  const out: ShardWindow[] = [];
  for (let first = 0; first < rows.length; first += size) {
    const leaves = rows.slice(first, first + size).map((r) => Buffer.from(r.ballotHash, 'hex'));
    out.push({ shard, index: out.length, firstSeq: first, count: leaves.length, root: mth(leaves).toString('hex') });
  }
  return out;
}

/** The row as the sharded ledger export writes it: "shard" first, the stored ballot text embedded as is. */
export function shardRowLine(row: ShardRow): string {
  return `{"shard":${row.shard},"seq":${row.seq},"ballotHash":"${row.ballotHash}","ballot":${row.ballotText},"signature":"${row.signature}","receivedAt":"${row.receivedAt}"}`;
}

/** Ballots the anchored intervals hold. */
export function anchoredBallots(e: ShardedElection): number {
  return e.intervals.slice(0, e.anchoredIntervals).reduce((n, i) => n + i.ballotCount, 0);
}

const ZERO_TX = `0x${'00'.repeat(32)}`;

/** GET …/intervals's body. */
export function intervalsBody(e: ShardedElection, intervals: readonly TestInterval[] = e.intervals): unknown {
  return {
    electionId: e.electionId,
    intervals: intervals.map((i) => ({
      index: i.index,
      windowCount: i.windowCount,
      ballotCount: i.ballotCount,
      root: i.root,
      windows: i.records,
      anchor:
        i.index < e.anchoredIntervals ? { chainId: 31337, contract: null, txHash: ZERO_TX, blockNumber: 1 } : null,
    })),
  };
}

/** Shard `shard`'s windows as GET …/windows?shard=s lists them (every window sealed; anchored ones with a tx). */
export function windowsList(e: ShardedElection, shard: number): Record<string, unknown>[] {
  const anchoredIn = new Set(
    e.intervals
      .slice(0, e.anchoredIntervals)
      .flatMap((i) => i.records.filter((r) => r.shard === shard).map((r) => r.windowIndex)),
  );
  return e.windows[shard]!.map((w) => ({
    shard,
    index: w.index,
    firstSeq: w.firstSeq,
    count: w.count,
    root: w.root,
    sealedAt: new Date().toISOString(),
    anchor: anchoredIn.has(w.index) ? { chainId: 31337, contract: null, txHash: ZERO_TX, blockNumber: 1 } : null,
  }));
}

/** What GET …/results publishes: every shard counted, asOfSeq = totalBallots − 1. */
export function shardedResults(e: ShardedElection, rows: readonly ShardRow[] = e.rows.flat()): unknown {
  return {
    electionId: e.electionId,
    tally: tallyOf(e.manifest, rows),
    totalBallots: rows.length,
    anchoredBallots: anchoredBallots(e),
    asOfSeq: rows.length - 1,
  };
}

export interface ShardedFiles {
  dir: string;
  ledger: string;
  manifest: string;
  roll: string;
  results: string;
  intervals: string;
  windows: string;
}

/** Writes ledger.ndjson (every shard in shard order), manifest, roll, results, intervals and windows. */
export function writeShardedFiles(dir: string, e: ShardedElection): ShardedFiles {
  mkdirSync(dir, { recursive: true });
  const files: ShardedFiles = {
    dir,
    ledger: join(dir, 'ledger.ndjson'),
    manifest: join(dir, 'manifest.json'),
    roll: join(dir, 'roll.json'),
    results: join(dir, 'results.json'),
    intervals: join(dir, 'intervals.json'),
    windows: join(dir, 'windows.json'),
  };
  writeFileSync(files.ledger, ledgerLines(e.rows).join('\n') + '\n');
  writeFileSync(files.manifest, JSON.stringify(e.manifest, null, 2));
  writeFileSync(files.roll, JSON.stringify(e.roll));
  writeFileSync(files.results, JSON.stringify(shardedResults(e)));
  writeFileSync(files.intervals, JSON.stringify(intervalsBody(e)));
  // Saved as pages, one per shard, as GET …/windows?shard=s answers.
  writeFileSync(
    files.windows,
    JSON.stringify(e.windows.map((_, s) => ({ electionId: e.electionId, windows: windowsList(e, s) }))),
  );
  return files;
}

/** The export's lines: every shard in shard order. */
export function ledgerLines(rows: readonly (readonly ShardRow[])[]): string[] {
  return rows.flatMap((shardRows) => shardRows.map(shardRowLine));
}

/**
 * Registers `e`, anchors its first `anchoredIntervals` intervals (anchorInterval) and by default closes it with
 * the honest resultHash over every ballot and totalBallots = the anchored ballots.
 */
export async function anchorShardedElection(
  contract: TallyAnchorContract,
  e: ShardedElection,
  opts: { close?: boolean } = {},
): Promise<void> {
  const key = electionKeyOf(e.electionId);
  await (await contract.registerElection(key, `0x${manifestHashHex(e.manifest)}`, `0x${rollRootHex(e.roll)}`)).wait();
  for (const i of e.intervals.slice(0, e.anchoredIntervals))
    await (await contract.anchorInterval(key, i.index, i.windowCount, i.ballotCount, `0x${i.root}`)).wait();
  if (opts.close === false) return;
  const total = anchoredBallots(e);
  const result = resultHashHex(e.electionId, e.tally, e.rows.flat().length);
  await (await contract.closeElection(key, `0x${result}`, total)).wait();
}

/**
 * A receipt naming its shard, signed by the election's ledger key (`named` false: without the shard, as in an
 * election of one shard).
 */
export function shardReceiptFor(e: ShardedElection, row: ShardRow, named = true): Record<string, unknown> {
  const body = {
    version: 1 as const,
    electionId: e.electionId,
    ...(named ? { shard: row.shard } : {}),
    seq: row.seq,
    ballotHash: row.ballotHash,
    receivedAt: row.receivedAt,
  };
  const signature = Buffer.from(
    ed25519.sign(Buffer.from(`tallyproof:receipt:v1:${jcsText(body)}`, 'utf8'), e.ledgerSeed),
  ).toString('hex');
  return { ...body, signature };
}

/** The two-level proof bundle the server would serve for `row`. */
export function shardBundleFor(
  e: ShardedElection,
  row: ShardRow,
  anchor: { chainId: number; contract: string },
): Record<string, unknown> {
  const receipt = shardReceiptFor(e, row);
  const w = e.windows[row.shard]!.find((x) => row.seq >= x.firstSeq && row.seq < x.firstSeq + x.count);
  if (w === undefined) return { receipt, status: 'pending' };
  const leaves = e.rows[row.shard]!.slice(w.firstSeq, w.firstSeq + w.count).map((r) =>
    Buffer.from(r.ballotHash, 'hex'),
  );
  const bundle: Record<string, unknown> = {
    receipt,
    status: 'sealed',
    window: { shard: w.shard, index: w.index, firstSeq: w.firstSeq, count: w.count, root: w.root },
    inclusion: {
      leafIndex: row.seq - w.firstSeq,
      auditPath: auditPath(leaves, row.seq - w.firstSeq).map((b) => b.toString('hex')),
    },
  };
  const interval = e.intervals.find((i) => i.records.some((r) => r.shard === w.shard && r.windowIndex === w.index));
  if (interval === undefined) return bundle;
  const recordIndex = interval.records.findIndex((r) => r.shard === w.shard && r.windowIndex === w.index);
  bundle.interval = {
    index: interval.index,
    windowCount: interval.windowCount,
    ballotCount: interval.ballotCount,
    root: interval.root,
    recordIndex,
    auditPath: auditPath(interval.records.map(recordBytes), recordIndex).map((b) => b.toString('hex')),
  };
  if (interval.index < e.anchoredIntervals) {
    bundle.status = 'anchored';
    bundle.anchor = { chainId: anchor.chainId, contract: anchor.contract, txHash: ZERO_TX, blockNumber: 1 };
  }
  return bundle;
}
