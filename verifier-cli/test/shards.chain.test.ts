// `audit` of elections of several shards in file mode against a real chain (anvil), docs/protocol.md section 13:
// a clean election of 4 shards, its intervals anchored with anchorInterval, passes; each tampering is found and
// named by its shard (and seq, window or interval). The elections are built by test/support/sharded-election.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployTallyAnchor, tallyAnchor } from '../../contracts/index.js';
import { anvilProvider, startAnvil, type AnvilNode } from '../../test/support/anvil.js';
import type { AuditReport } from '../src/audit/audit.js';
import type { RootsReport } from '../src/commands/roots.js';
import { EXIT, type Finding } from '../src/errors.js';
import { castBallot, jcsText, selectionsFor } from './support/election.js';
import { cli, readReport } from './support/run.js';
import {
  anchorShardedElection,
  buildShardedElection,
  intervalsBody,
  ledgerLines,
  shardOfCredential,
  writeShardedFiles,
  type ShardedElection,
  type ShardedFiles,
  type ShardRow,
} from './support/sharded-election.js';

const SHARDS = 4;
let chain: AnvilNode;
let contract: string;
let dir: string;
let clean: ShardedElection;
let cleanFiles: ShardedFiles;
let leftOut: ShardedElection;
let leftOutFiles: ShardedFiles;
let open: ShardedElection;
let openFiles: ShardedFiles;
/** The shard the tamperings below pick: one with at least three full windows (9 ballots). */
let k: number;
/** The same in `leftOut`. */
let kOut: number;

beforeAll(async () => {
  chain = await startAnvil();
  const wallet = new Wallet(chain.accounts[0]!.privateKey, anvilProvider(chain));
  contract = (await deployTallyAnchor(wallet)).address;
  const anchor = tallyAnchor(contract, wallet);
  dir = mkdtempSync(join(tmpdir(), 'tallyproof-verify-shards-'));

  // 44 voters over 4 shards, windows of 3 ballots: each anchor pass seals every shard's next window.
  clean = buildShardedElection({
    electionId: 'shards-clean',
    shards: SHARDS,
    voters: 44,
    abstainers: 2,
    windowSize: 3,
  });
  await anchorShardedElection(anchor, clean);
  cleanFiles = writeShardedFiles(join(dir, 'clean'), clean);
  k = clean.rows.findIndex((rows) => rows.length >= 9);

  // The anchorer leaves window 1 of shard kOut out of every interval (windows 0 and 2 are in).
  const leftOutOptions = { electionId: 'shards-left-out', shards: SHARDS, voters: 44, windowSize: 3 };
  kOut = buildShardedElection(leftOutOptions).rows.findIndex((rows) => rows.length >= 9);
  leftOut = buildShardedElection({ ...leftOutOptions, leaveOut: [{ shard: kOut, window: 1 }] });
  await anchorShardedElection(anchor, leftOut);
  leftOutFiles = writeShardedFiles(join(dir, 'left-out'), leftOut);

  // Open: the last pass's interval formed but not anchored yet.
  open = buildShardedElection({
    electionId: 'shards-open',
    shards: SHARDS,
    voters: 30,
    windowSize: 4,
    unanchoredPasses: 1,
  });
  await anchorShardedElection(anchor, open, { close: false });
  openFiles = writeShardedFiles(join(dir, 'open'), open);
});

afterAll(async () => {
  await chain?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Findings as "code@s<shard>@seq<n>@w<window>@i<interval>", each part when the finding names it. */
function where(findings: readonly Finding[]): string[] {
  return findings.map(
    (f) =>
      `${f.code}${f.shard === undefined ? '' : `@s${f.shard}`}${f.seq === undefined ? '' : `@seq${f.seq}`}` +
      `${f.window === undefined ? '' : `@w${f.window}`}${f.interval === undefined ? '' : `@i${f.interval}`}`,
  );
}

interface AuditRun {
  code: number;
  stdout: string;
  report: AuditReport;
  where: string[];
}

let runs = 0;
async function audit(
  e: ShardedElection,
  files: ShardedFiles,
  opts: { ledgerLines?: string[]; intervals?: unknown; windows?: boolean; extra?: string[] } = {},
): Promise<AuditRun> {
  const n = ++runs;
  let ledger = files.ledger;
  if (opts.ledgerLines !== undefined) {
    ledger = join(dir, `ledger-${n}.ndjson`);
    writeFileSync(ledger, opts.ledgerLines.join('\n') + '\n');
  }
  let intervals = files.intervals;
  if (opts.intervals !== undefined) {
    intervals = join(dir, `intervals-${n}.json`);
    writeFileSync(intervals, JSON.stringify(opts.intervals));
  }
  const report = join(dir, `report-${n}.json`);
  const args = ['audit', '--election', e.electionId, '--ledger', ledger, '--manifest', files.manifest];
  args.push('--roll', files.roll, '--results', files.results, '--intervals', intervals);
  if (opts.windows !== false) args.push('--windows', files.windows);
  args.push('--rpc', chain.rpcUrl, '--contract', contract, '--report', report, ...(opts.extra ?? ['--threads', '0']));
  const run = await cli(args);
  const parsed = readReport<AuditReport>(report);
  return { code: run.code, stdout: run.stdout, report: parsed, where: where(parsed.findings) };
}

const rowsCopy = (e: ShardedElection): ShardRow[][] => structuredClone(e.rows);

describe('audit of an election of several shards: clean', () => {
  it('the test election spreads over every shard, several windows and intervals each', () => {
    expect(clean.rows.every((r) => r.length > 0)).toBe(true);
    expect(clean.intervals.length).toBeGreaterThanOrEqual(3);
    expect(k).toBeGreaterThanOrEqual(0);
    for (const [s, rows] of clean.rows.entries())
      for (const r of rows) expect(shardOfCredential(r.ballot.credential, SHARDS)).toBe(s);
  });

  it('passes with exit 0 and no finding, inline and on worker threads', async () => {
    for (const extra of [
      ['--threads', '0'],
      ['--threads', '2', '--engine', 'noble'],
    ]) {
      const r = await audit(clean, cleanFiles, { extra });
      expect(r.report.findings, extra.join(' ')).toEqual([]);
      expect(r.code).toBe(EXIT.ok);
      const total = clean.rows.flat().length;
      expect(r.report.ledger).toMatchObject({ rows: total, countable: total, unanchoredRows: 0 });
      expect(r.report.ledger.shards?.map((s) => s.rows)).toEqual(clean.rows.map((x) => x.length));
      expect(r.report.chain).toMatchObject({
        shards: SHARDS,
        intervals: clean.intervals.length,
        windows: clean.windows.flat().length,
      });
      expect(r.report.recount?.tally).toEqual(clean.tally);
      expect(r.stdout).toMatch(/intervals of \d+ shard windows/);
    }
  });

  it('passes without the windows file (the windows from the intervals alone)', async () => {
    const r = await audit(clean, cleanFiles, { windows: false });
    expect(r.report.findings).toEqual([]);
    expect(r.code).toBe(EXIT.ok);
  });

  it('an open election: the last pass is unanchored in every shard it reached (warnings), and passes', async () => {
    const r = await audit(open, openFiles);
    const pending = open.intervals[open.intervals.length - 1]!.records;
    expect(r.where.sort()).toEqual(pending.map((x) => `unanchored@s${x.shard}@seq${x.firstSeq}`).sort());
    expect(r.report.findings.every((f) => f.severity === 'warning')).toBe(true);
    expect(r.code).toBe(EXIT.ok);
  });
});

describe('audit of an election of several shards: each tampering names its shard', () => {
  it('a ballot moved to another shard: wrong-shard there, a gap and a root mismatch where it was', async () => {
    const rows = rowsCopy(clean);
    const to = (k + 1) % SHARDS;
    const [moved] = rows[k]!.splice(4, 1);
    rows[to]!.push({ ...moved!, shard: to, seq: rows[to]!.length });
    const r = await audit(clean, cleanFiles, { ledgerLines: ledgerLines(rows) });
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain(`wrong-shard@s${to}@seq${rows[to]!.length - 1}`);
    expect(r.where).toContain(`seq-gap@s${k}@seq4`);
    expect(r.where).toContain(`window-root-mismatch@s${k}@seq4@w1`);
    expect(r.where).toContain(`unanchored@s${to}@seq${rows[to]!.length - 1}`);
  });

  it('a seq gap in one shard', async () => {
    const rows = rowsCopy(clean);
    rows[k] = rows[k]!.filter((x) => x.seq !== 7);
    const r = await audit(clean, cleanFiles, { ledgerLines: ledgerLines(rows) });
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain(`seq-gap@s${k}@seq7`);
    expect(r.where).toContain(`window-root-mismatch@s${k}@seq7@w2`);
    expect(r.where.filter((w) => w.startsWith('seq-gap'))).toEqual([`seq-gap@s${k}@seq7`]);
  });

  it("one ballot's bytes changed in shard k: the finding names shard k and the seq", async () => {
    const rows = rowsCopy(clean);
    const row = rows[k]![5]!;
    row.ballot.selections.q1 = row.ballot.selections.q1![0] === 'oui' ? ['non'] : ['oui'];
    row.ballotText = jcsText(row.ballot);
    const r = await audit(clean, cleanFiles, { ledgerLines: ledgerLines(rows) });
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain(`bad-signature@s${k}@seq5`);
    expect(r.where).toContain(`ballot-hash-mismatch@s${k}@seq5`);
    expect(r.where).toContain(`window-root-mismatch@s${k}@w1`);
    expect(r.report.findings.find((f) => f.code === 'bad-signature')?.message).toMatch(
      new RegExp(`^shard ${k} seq 5: `),
    );
  });

  it('the same seq in two shards is no repeat, but one credential in two shards is', async () => {
    const rows = rowsCopy(clean);
    const other = k === SHARDS - 1 ? 0 : SHARDS - 1;
    const voter = clean.voters.find((v) => v.credential === rows[k]![0]!.ballot.credential)!;
    // A second ballot of that voter, filed under another shard's next seq.
    const second = { ...castBallot(voter, clean.electionId, selectionsFor(3), rows[other]!.length), shard: other };
    rows[other]!.push(second);
    const r = await audit(clean, cleanFiles, { ledgerLines: ledgerLines(rows) });
    // The export is in shard order: the later of the two ballots is the repeat.
    expect(r.where).toContain(
      other > k ? `duplicate-credential@s${other}@seq${second.seq}` : `duplicate-credential@s${k}@seq0`,
    );
    expect(r.where).toContain(`wrong-shard@s${other}@seq${second.seq}`);
    expect(r.where.some((w) => w.startsWith('duplicate-seq'))).toBe(false);
  });

  it('an interval record changed: the interval and the window it names', async () => {
    const changed = structuredClone(clean.intervals);
    const interval = changed[1]!;
    const record = interval.records.find((x) => x.shard === k)!;
    record.root = 'ab'.repeat(32);
    const r = await audit(clean, cleanFiles, { intervals: intervalsBody(clean, changed), windows: false });
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain('interval-mismatch@i1');
    expect(r.where).toContain(`window-root-mismatch@s${k}@w${record.windowIndex}`);
    expect(r.report.findings.find((f) => f.code === 'interval-mismatch')?.message).toMatch(/root/);
  });

  it("an interval's records left out, or out of order: interval-mismatch", async () => {
    const noRecords = intervalsBody(
      clean,
      clean.intervals.filter((i) => i.index !== 2),
    );
    const r = await audit(clean, cleanFiles, { intervals: noRecords, windows: false });
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain('interval-mismatch@i2');
    const reordered = structuredClone(clean.intervals);
    reordered[0]!.records.reverse();
    const r2 = await audit(clean, cleanFiles, { intervals: intervalsBody(clean, reordered), windows: false });
    expect(r2.where.filter((w) => w.startsWith('interval-mismatch@')).length).toBeGreaterThan(0);
    expect(r2.report.findings.some((f) => /order/.test(f.message))).toBe(true);
  });

  it('a window missing from every interval: window-interval-mismatch names the shard and the window', async () => {
    const r = await audit(leftOut, leftOutFiles);
    expect(r.code).toBe(EXIT.failed);
    const w1 = leftOut.windows[kOut]![1]!;
    // Found where the shard's window 2 comes, in its interval.
    const next = leftOut.intervals.find((i) => i.records.some((x) => x.shard === kOut && x.windowIndex === 2))!;
    expect(r.where).toContain(`window-interval-mismatch@s${kOut}@seq${w1.firstSeq}@w1@i${next.index}`);
    expect(r.where).toContain(`unanchored@s${kOut}@seq${w1.firstSeq}`);
    expect(r.report.findings.find((f) => f.code === 'unanchored')?.severity).toBe('error');
    // Only shard k's window: every other window is anchored.
    expect(r.where.filter((w) => w.startsWith('window-interval-mismatch'))).toHaveLength(1);
  });

  it('a ledger line without its shard is malformed', async () => {
    const lines = ledgerLines(clean.rows);
    lines[3] = lines[3]!.replace(/^\{"shard":\d+,/, '{');
    const r = await audit(clean, cleanFiles, { ledgerLines: lines });
    expect(r.code).toBe(EXIT.failed);
    expect(r.report.findings.find((f) => f.code === 'malformed-line')?.message).toMatch(
      /^line 4: the row names no shard/,
    );
  });
});

describe('roots of an election of several shards', () => {
  it('lists the anchor intervals and their roots, with their transactions', async () => {
    const run = await cli(['roots', '--election', clean.electionId, '--rpc', chain.rpcUrl, '--contract', contract]);
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toContain(`  ${clean.intervals.length} intervals, ${clean.rows.flat().length} ballots anchored`);
    const json = await cli(
      ['roots', '--election', clean.electionId, '--rpc', chain.rpcUrl, '--contract', contract].concat([
        '--logs',
        '--json',
      ]),
    );
    const report = JSON.parse(json.stdout) as RootsReport;
    expect(report.windows).toEqual([]);
    expect(report.intervals?.map((i) => [i.index, i.windowCount, i.ballotCount, i.root])).toEqual(
      clean.intervals.map((i) => [i.index, i.windowCount, i.ballotCount, i.root]),
    );
    expect(report.intervals?.every((i) => /^0x[0-9a-f]{64}$/.test(i.tx?.txHash ?? ''))).toBe(true);
  });
});
