// The verifier's recount of blank ballots, against docs/test-vectors/results.json: the vector's seven signed
// ballots as a ledger file, anchored and closed on anvil by the test's own code; `audit` recounts the
// vector's tally, blank and ballots-counted figures and resultHash, prints them, and names published
// results whose blank counts differ from the recount. No server code.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployTallyAnchor, tallyAnchor } from '../../contracts/index.js';
import { anvilProvider, startAnvil, type AnvilNode } from '../../test/support/anvil.js';
import type { AuditReport } from '../src/audit/audit.js';
import {
  anchorElection,
  jcsText,
  resultHashHex,
  tallyOf,
  windowsOf,
  writeElectionFiles,
  type ElectionFiles,
  type TestElection,
  type TestManifest,
  type TestRow,
} from './support/election.js';
import { cli, readReport } from './support/run.js';

interface ResultsVector {
  manifest: TestManifest;
  ballots: { seq: number; ballotHash: string; submission: { ballot: TestRow['ballot']; signature: string } }[];
  tally: Record<string, Record<string, number>>;
  totalBallots: number;
  contests: Record<string, { ballotsCounted: number; blank: number }>;
  resultHash: string;
  results: Record<string, unknown>;
}

const v = JSON.parse(
  readFileSync(new URL('../../docs/test-vectors/results.json', import.meta.url), 'utf8'),
) as ResultsVector;

let chain: AnvilNode;
let contract: string;
let dir: string;
let election: TestElection;
let files: ElectionFiles;

beforeAll(async () => {
  chain = await startAnvil();
  const wallet = new Wallet(chain.accounts[0]!.privateKey, anvilProvider(chain));
  contract = (await deployTallyAnchor(wallet)).address;
  dir = mkdtempSync(join(tmpdir(), 'tallyproof-verify-blank-'));
  const receivedAt = new Date().toISOString();
  const rows: TestRow[] = v.ballots.map((b) => ({
    seq: b.seq,
    ballot: b.submission.ballot,
    ballotText: jcsText(b.submission.ballot),
    signature: b.submission.signature,
    ballotHash: b.ballotHash,
    receivedAt,
  }));
  election = {
    electionId: v.manifest.electionId,
    manifest: v.manifest,
    roll: rows.map((r) => r.ballot.credential),
    rows,
    windows: windowsOf(rows, [4, 3]),
    tally: tallyOf(v.manifest, rows),
    ledgerSeed: Buffer.alloc(32),
  };
  // Closed on chain with the honest v1 result, computed by the test's own code.
  await anchorElection(tallyAnchor(contract, wallet), election);
  files = writeElectionFiles(join(dir, 'clean'), election);
  writeFileSync(files.results, JSON.stringify(v.results));
});

afterAll(async () => {
  await chain?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let runs = 0;
async function audit(results: unknown) {
  const n = ++runs;
  const resultsFile = join(dir, `results-${n}.json`);
  writeFileSync(resultsFile, JSON.stringify(results));
  const report = join(dir, `report-${n}.json`);
  const run = await cli([
    'audit',
    '--election',
    election.electionId,
    '--ledger',
    files.ledger,
    '--manifest',
    files.manifest,
    '--roll',
    files.roll,
    '--results',
    resultsFile,
    '--rpc',
    chain.rpcUrl,
    '--contract',
    contract,
    '--report',
    report,
    '--threads',
    '0',
  ]);
  return { ...run, report: readReport<AuditReport>(report) };
}

describe('audit: blank ballots (docs/test-vectors/results.json)', () => {
  it('the vector’s v1 resultHash is what the test’s own code computes, and the chain holds it', () => {
    expect(resultHashHex(election.electionId, election.tally, v.totalBallots)).toBe(v.resultHash);
    expect(election.tally).toEqual(v.tally);
  });

  it('recounts the vector: tally, blank and ballots counted per contest, resultHash; passes and prints the blanks', async () => {
    const r = await audit(v.results);
    expect(r.report.findings).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.report.recount).toEqual({
      tally: v.tally,
      contests: v.contests,
      totalBallots: v.totalBallots,
      resultHash: v.resultHash,
    });
    expect(r.stdout).toContain('referendum (7 ballots): yes 2, no 4, blank 1');
    expect(r.stdout).toContain('council (7 ballots): ana 2, bo 2, chloe 2, blank 3');
    expect(r.stdout).toContain('q1 (7 ballots): oui 5, non 2, blank 0');
  });

  it('published results whose blank or ballots-counted figures differ from the recount fail, named', async () => {
    const contests = structuredClone(v.contests);
    contests.referendum!.blank = 0;
    contests.council!.ballotsCounted = 6;
    const r = await audit({ ...v.results, contests });
    expect(r.code).toBe(1);
    expect(r.report.findings.map((f) => [f.code, f.message])).toEqual([
      ['tally-mismatch', 'the published results give referendum blank ballots = 0, the recount 1 (as of seq 6)'],
      ['tally-mismatch', 'the published results give council ballots counted = 6, the recount 7 (as of seq 6)'],
    ]);
    const missing = await audit({ ...v.results, contests: { referendum: v.contests.referendum } });
    expect(missing.code).toBe(1);
    expect(missing.report.findings.map((f) => f.message)).toContain(
      'the published results give q1 blank ballots = nothing, the recount 0 (as of seq 6)',
    );
  });

  it('results from a server that publishes no blank counts pass on the tally alone; the report has the recount’s', async () => {
    const { contests: _omitted, ...older } = v.results;
    const r = await audit(older);
    expect(r.code).toBe(0);
    expect(r.report.recount?.contests).toEqual(v.contests);
  });
});
