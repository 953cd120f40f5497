// `audit` in file mode against a real chain (anvil): a clean election passes; each tampering is found
// and named by seq or window, with a non-zero exit. No server, no database: the elections are built
// by test/support/election.ts and anchored with the deployer account.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployTallyAnchor, tallyAnchor } from '../../contracts/index.js';
import { anvilProvider, startAnvil, type AnvilNode } from '../../test/support/anvil.js';
import type { AuditReport } from '../src/audit/audit.js';
import { EXIT } from '../src/errors.js';
import {
  anchorElection,
  buildElection,
  castBallot,
  jcsText,
  makeVoter,
  resultsOf,
  rowLine,
  selectionsFor,
  writeElectionFiles,
  type ElectionFiles,
  type TestElection,
  type TestRow,
} from './support/election.js';
import { cli, readReport, where } from './support/run.js';

let chain: AnvilNode;
let contract: string;
let dir: string;
let clean: TestElection & { abstaining: ReturnType<typeof makeVoter>[]; voters: ReturnType<typeof makeVoter>[] };
let cleanFiles: ElectionFiles;
let badRoot: TestElection;
let badRootFiles: ElectionFiles;
let wrongResult: TestElection;
let wrongResultFiles: ElectionFiles;
let open: TestElection;
let openFiles: ElectionFiles;

beforeAll(async () => {
  chain = await startAnvil();
  const wallet = new Wallet(chain.accounts[0]!.privateKey, anvilProvider(chain));
  contract = (await deployTallyAnchor(wallet)).address;
  const anchor = tallyAnchor(contract, wallet);
  dir = mkdtempSync(join(tmpdir(), 'tallyproof-verify-audit-'));

  // Windows of 5, 8, 1 and 10 ballots: seq 0..4, 5..12, 13, 14..23.
  clean = buildElection({ electionId: 'audit-clean', voters: 24, abstainers: 4, windowSizes: [5, 8, 1, 10] });
  await anchorElection(anchor, clean);
  cleanFiles = writeElectionFiles(join(dir, 'clean'), clean);

  badRoot = buildElection({ electionId: 'audit-bad-root', voters: 12, windowSizes: [4, 4, 4] });
  await anchorElection(anchor, badRoot, { rootOverride: new Map([[1, 'ab'.repeat(32)]]) });
  badRootFiles = writeElectionFiles(join(dir, 'bad-root'), badRoot);

  wrongResult = buildElection({ electionId: 'audit-wrong-result', voters: 10, windowSizes: [10] });
  const wrongTally = structuredClone(wrongResult.tally);
  wrongTally.q1!.oui! += 1;
  wrongTally.q1!.non! -= 1;
  await anchorElection(anchor, wrongResult, { close: { tally: wrongTally, totalBallots: 10 } });
  wrongResultFiles = writeElectionFiles(join(dir, 'wrong-result'), wrongResult);
  writeFileSync(wrongResultFiles.results, JSON.stringify({ ...(resultsOf(wrongResult) as object), tally: wrongTally }));

  // Open: 12 ballots, the first 8 anchored.
  open = buildElection({ electionId: 'audit-open', voters: 12, windowSizes: [4, 4] });
  await anchorElection(anchor, open, { close: false });
  openFiles = writeElectionFiles(join(dir, 'open'), open);
});

afterAll(async () => {
  await chain?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface AuditRun {
  code: number;
  stdout: string;
  stderr: string;
  report: AuditReport;
  where: string[];
}

let runs = 0;
/** audit in file mode; `ledgerLines` replaces the ledger file. Inline checks (--threads 0) unless given. */
async function audit(
  e: TestElection,
  files: ElectionFiles,
  opts: { ledgerLines?: string[]; extra?: string[]; manifest?: string; roll?: string } = {},
): Promise<AuditRun> {
  const n = ++runs;
  let ledger = files.ledger;
  if (opts.ledgerLines !== undefined) {
    ledger = join(dir, `ledger-${n}.ndjson`);
    writeFileSync(ledger, opts.ledgerLines.join('\n') + '\n');
  }
  const report = join(dir, `report-${n}.json`);
  const args = [
    'audit',
    '--election',
    e.electionId,
    '--ledger',
    ledger,
    '--manifest',
    opts.manifest ?? files.manifest,
    '--roll',
    opts.roll ?? files.roll,
  ];
  args.push('--results', files.results, '--rpc', chain.rpcUrl, '--contract', contract, '--report', report);
  args.push(...(opts.extra ?? ['--threads', '0']));
  const run = await cli(args);
  const parsed = readReport<AuditReport>(report);
  return { ...run, report: parsed, where: where(parsed.findings) };
}

const lines = (rows: readonly TestRow[]): string[] => rows.map(rowLine);

describe('audit: a clean election', () => {
  it('passes with exit 0 and no finding (inline checks)', async () => {
    const r = await audit(clean, cleanFiles);
    expect(r.report.findings).toEqual([]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.report.verdict).toBe('pass');
    expect(r.report.ledger).toMatchObject({ rows: 24, maxSeq: 23, countable: 24, unanchoredRows: 0 });
    expect(r.report.recount?.tally).toEqual(clean.tally);
    expect(r.report.publishedResults).toBe('compared');
    expect(r.stdout).toMatch(/PASS/);
  });

  it('passes on worker threads, with the node and the noble engines', async () => {
    for (const engine of ['node', 'noble']) {
      const r = await audit(clean, cleanFiles, { extra: ['--threads', '2', '--engine', engine] });
      expect(r.report.findings, engine).toEqual([]);
      expect(r.code).toBe(EXIT.ok);
      expect(r.report.threads).toBe(2);
      expect(r.report.engine).toBe(engine);
    }
  });

  it('passes when run through the bin (tsx launcher, worker threads), and prints JSON with --json', async () => {
    const bin = new URL('../bin/tallyproof-verify.js', import.meta.url).pathname;
    const args = [
      'audit',
      '--election',
      clean.electionId,
      '--ledger',
      cleanFiles.ledger,
      '--manifest',
      cleanFiles.manifest,
      '--roll',
      cleanFiles.roll,
    ];
    args.push(
      '--results',
      cleanFiles.results,
      '--rpc',
      chain.rpcUrl,
      '--contract',
      contract,
      '--threads',
      '2',
      '--json',
    );
    const { stdout } = await promisify(execFile)(process.execPath, [bin, ...args]);
    const report = JSON.parse(stdout) as AuditReport;
    expect(report.verdict).toBe('pass');
    expect(report.ledger.rows).toBe(24);
  });

  it('accepts a saved GET /elections/{id} response as the manifest and a one-key-per-line roll', async () => {
    const manifest = join(dir, 'election-response.json');
    writeFileSync(
      manifest,
      JSON.stringify({ manifest: clean.manifest, status: 'closed', chainId: chain.chainId, contract }),
    );
    const roll = join(dir, 'roll.txt');
    writeFileSync(roll, clean.roll.join('\n') + '\n');
    const r = await audit(clean, cleanFiles, { manifest, roll });
    expect(r.report.findings).toEqual([]);
    expect(r.code).toBe(EXIT.ok);
  });
});

describe('audit: each tampering is named by seq or window', () => {
  it('a changed selection: the signature fails at that seq, and its window root', async () => {
    const rows = structuredClone(clean.rows);
    const row = rows[9]!;
    row.ballot.selections.q1 = row.ballot.selections.q1![0] === 'oui' ? ['non'] : ['oui'];
    row.ballotText = jcsText(row.ballot); // edited in place, still canonical
    const r = await audit(clean, cleanFiles, { ledgerLines: lines(rows) });
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain('bad-signature@seq9');
    expect(r.where).toContain('ballot-hash-mismatch@seq9');
    expect(r.where).toContain('window-root-mismatch@w1');
    expect(r.stdout).toMatch(/bad-signature\s+seq 9: the signature does not verify/);
  });

  it('a deleted row: a seq gap and the window root', async () => {
    const r = await audit(clean, cleanFiles, { ledgerLines: lines(clean.rows.filter((x) => x.seq !== 12)) });
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain('seq-gap@seq12');
    expect(r.where).toContain('window-root-mismatch@seq12@w1');
    expect(r.where).toContain('total-ballots-mismatch');
  });

  it('an inserted row (a roll voter who did not vote, later seqs renumbered): window roots and an unanchored row after the close', async () => {
    const inserted = castBallot(clean.abstaining[0]!, clean.electionId, selectionsFor(1), 3);
    const rows = [...clean.rows.slice(0, 3), inserted, ...clean.rows.slice(3).map((x) => ({ ...x, seq: x.seq + 1 }))];
    const r = await audit(clean, cleanFiles, { ledgerLines: lines(rows) });
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain('window-root-mismatch@w0');
    expect(r.where).toContain('unanchored@seq24');
    expect(r.report.findings.find((f) => f.code === 'unanchored')?.severity).toBe('error');
  });

  it('an inserted row under an existing seq: a duplicate seq', async () => {
    const extra = castBallot(clean.abstaining[1]!, clean.electionId, selectionsFor(2), 7);
    const rows = [...clean.rows.slice(0, 8), extra, ...clean.rows.slice(8)];
    const r = await audit(clean, cleanFiles, { ledgerLines: lines(rows) });
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain('duplicate-seq@seq7');
  });

  it('two seqs swapped: the roots of both windows', async () => {
    const rows = structuredClone(clean.rows);
    const a = rows[2]!;
    const b = rows[15]!;
    rows[2] = { ...b, seq: 2 };
    rows[15] = { ...a, seq: 15 };
    const r = await audit(clean, cleanFiles, { ledgerLines: lines(rows) });
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain('window-root-mismatch@w0');
    expect(r.where).toContain('window-root-mismatch@w3');
    expect(r.where.filter((w) => w.startsWith('window-root-mismatch'))).toHaveLength(2);
  });

  it('two rows served out of order: seq-out-of-order (the roots, by seq, still hold)', async () => {
    const rows = [...clean.rows];
    [rows[4], rows[5]] = [rows[5]!, rows[4]!];
    const r = await audit(clean, cleanFiles, { ledgerLines: lines(rows) });
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toEqual(['seq-out-of-order@seq4']);
  });

  it('a window root changed on chain: the mismatch names the window', async () => {
    const r = await audit(badRoot, badRootFiles);
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toEqual(['window-root-mismatch@w1']);
  });

  it('a ballot from a credential not on the roll', async () => {
    const outsider = makeVoter('outsider');
    const rows = [...clean.rows];
    rows[4] = castBallot(outsider, clean.electionId, selectionsFor(4), 4);
    const r = await audit(clean, cleanFiles, { ledgerLines: lines(rows) });
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain('not-on-roll@seq4');
    expect(r.where).toContain('window-root-mismatch@w0');
  });

  it('a second ballot of one credential', async () => {
    const rows = [...clean.rows];
    rows[6] = castBallot(clean.voters[2]!, clean.electionId, selectionsFor(5), 6);
    const r = await audit(clean, cleanFiles, { ledgerLines: lines(rows) });
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain('duplicate-credential@seq6');
    expect(r.report.findings.find((f) => f.code === 'duplicate-credential')?.message).toMatch(/seq 2/);
  });

  it('a row repeated under a new seq: a duplicate hash', async () => {
    const rows = [...clean.rows, { ...clean.rows[3]!, seq: 24 }];
    const r = await audit(clean, cleanFiles, { ledgerLines: lines(rows) });
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain('duplicate-hash@seq24');
  });

  it('a ballot stored in a non-canonical form', async () => {
    const rows = structuredClone(clean.rows);
    const b = rows[8]!.ballot;
    rows[8]!.ballotText = JSON.stringify({
      version: b.version,
      electionId: b.electionId,
      credential: b.credential,
      selections: b.selections,
    });
    const r = await audit(clean, cleanFiles, { ledgerLines: lines(rows) });
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toEqual(['not-canonical@seq8']);
  });

  it('a ballot that breaks the manifest, and an unreadable line', async () => {
    const bad = castBallot(clean.voters[10]!, clean.electionId, { q1: ['oui', 'non'], council: [] }, 10);
    const rows = lines(clean.rows);
    rows[10] = rowLine(bad);
    rows.splice(5, 0, '{"seq": "five"}');
    const r = await audit(clean, cleanFiles, { ledgerLines: rows });
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain('ballot-invalid@seq10');
    expect(r.report.findings.find((f) => f.code === 'malformed-line')?.message).toMatch(/^line 6:/);
  });

  it("a wrong tally: the published results and the chain's resultHash disagree with the recount", async () => {
    const r = await audit(wrongResult, wrongResultFiles);
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain('tally-mismatch');
    expect(r.where).toContain('result-hash-mismatch');
    expect(
      r.report.findings
        .filter((f) => f.code === 'tally-mismatch')
        .map((f) => f.message)
        .join('\n'),
    ).toMatch(/q1\/oui/);
  });

  it('wrong published results alone: tally-mismatch', async () => {
    const results = join(dir, 'results-wrong.json');
    const published = resultsOf(clean) as { tally: Record<string, Record<string, number>> };
    published.tally.council!.bo! += 2;
    writeFileSync(results, JSON.stringify(published));
    const r = await audit(clean, { ...cleanFiles, results });
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toEqual(['tally-mismatch']);
  });

  it('a changed manifest or roll: hash and root mismatches', async () => {
    const manifest = join(dir, 'manifest-changed.json');
    writeFileSync(manifest, JSON.stringify({ ...clean.manifest, title: 'Another title' }));
    const roll = join(dir, 'roll-short.json');
    writeFileSync(roll, JSON.stringify(clean.roll.slice(0, -1)));
    const r = await audit(clean, cleanFiles, { manifest, roll });
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toEqual(['manifest-hash-mismatch', 'roll-root-mismatch']);
  });

  it('a roll key that is no curve point: roll-invalid (and the root no longer matches)', async () => {
    const roll = join(dir, 'roll-off-curve.json');
    writeFileSync(roll, JSON.stringify([...clean.roll, '02' + '00'.repeat(31)]));
    const r = await audit(clean, cleanFiles, { roll, extra: ['--threads', '1'] });
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toEqual(['roll-root-mismatch', 'roll-invalid']);
    expect(r.report.findings[1]!.message).toMatch(/key-not-on-curve/);
  });

  it('ballots received long before their window was anchored: late-anchor warnings, still a pass', async () => {
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    const r = await audit(clean, cleanFiles, {
      ledgerLines: lines(clean.rows.map((x) => ({ ...x, receivedAt: hourAgo }))),
    });
    expect(r.where).toEqual([
      'late-anchor@seq0@w0',
      'late-anchor@seq5@w1',
      'late-anchor@seq13@w2',
      'late-anchor@seq14@w3',
    ]);
    expect(r.code).toBe(EXIT.ok);
  });

  it('ballots the chain anchored but the ledger stops short of', async () => {
    const r = await audit(clean, cleanFiles, { ledgerLines: lines(clean.rows.slice(0, 20)) });
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain('missing-ballot@seq20');
    expect(r.where).toContain('window-root-mismatch@seq20@w3');
  });
});

describe('audit: an open election', () => {
  it('reports ballots beyond the last window as a warning and passes', async () => {
    const r = await audit(open, openFiles);
    expect(r.where).toEqual(['unanchored@seq8']);
    expect(r.report.findings[0]!.severity).toBe('warning');
    expect(r.code).toBe(EXIT.ok);
    expect(r.report.chain.election?.closed).toBe(false);
  });
});

describe('audit: usage and input errors exit 2', () => {
  it('missing mode, unreadable file, unreachable chain, unknown contract, bad engine', async () => {
    expect((await cli(['audit', '--election', 'x', '--rpc', chain.rpcUrl, '--contract', contract])).code).toBe(
      EXIT.usage,
    );
    const base = [
      'audit',
      '--election',
      clean.electionId,
      '--manifest',
      cleanFiles.manifest,
      '--roll',
      cleanFiles.roll,
    ];
    const missing = await cli([
      ...base,
      '--ledger',
      join(dir, 'nope.ndjson'),
      '--rpc',
      chain.rpcUrl,
      '--contract',
      contract,
      '--threads',
      '0',
    ]);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toMatch(/nope\.ndjson/);
    const down = await cli([
      ...base,
      '--ledger',
      cleanFiles.ledger,
      '--rpc',
      'http://127.0.0.1:9',
      '--contract',
      contract,
    ]);
    expect(down.code).toBe(EXIT.usage);
    expect(down.stderr).toMatch(/does not answer/);
    const nowhere = await cli([
      ...base,
      '--ledger',
      cleanFiles.ledger,
      '--rpc',
      chain.rpcUrl,
      '--contract',
      '0x000000000000000000000000000000000000dEaD',
    ]);
    expect(nowhere.code).toBe(EXIT.usage);
    expect(nowhere.stderr).toMatch(/no contract/);
    expect(
      (
        await cli([
          ...base,
          '--ledger',
          cleanFiles.ledger,
          '--rpc',
          chain.rpcUrl,
          '--contract',
          contract,
          '--engine',
          'fast',
        ])
      ).code,
    ).toBe(EXIT.usage);
  });

  it('an election that is not registered fails with not-registered', async () => {
    const other = {
      ...clean,
      electionId: 'audit-unregistered',
      manifest: { ...clean.manifest, electionId: 'audit-unregistered' },
    };
    const files = writeElectionFiles(join(dir, 'unregistered'), other);
    const r = await audit(other, files);
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toEqual(['not-registered']);
  });

  it('the report file holds every finding with its code, seq and window', () => {
    const report = JSON.parse(readFileSync(join(dir, 'report-1.json'), 'utf8')) as AuditReport;
    expect(report.tool).toBe('tallyproof-verify audit');
    expect(report.summary).toEqual({ errors: 0, warnings: 0, byCode: {} });
  });
});
