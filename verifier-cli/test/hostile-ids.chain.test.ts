// The verifier over an election whose contest and choice ids are JavaScript's own names
// (test/support/hostile-ids.ts, pure data): ballots obey the manifest or not by their own entries, the
// recount lists every contest and choice as its own entry (so resultHash matches the close on chain), and
// published results are compared by own entries. Then a whole `audit` in file mode against anvil.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployTallyAnchor, tallyAnchor } from '../../contracts/index.js';
import { anvilProvider, startAnvil, type AnvilNode } from '../../test/support/anvil.js';
import {
  HOSTILE_BALLOTS,
  HOSTILE_INVALID_SELECTIONS,
  hostileManifestInput,
  hostileTally,
} from '../../test/support/hostile-ids.js';
import type { AuditReport } from '../src/audit/audit.js';
import { Recount, compareResults } from '../src/audit/tally.js';
import { checkBallotRules } from '../src/ballot.js';
import { EXIT } from '../src/errors.js';
import { ballotRules, emptyTally, parseManifest, resultHash } from '../src/protocol.js';
import { toHex } from '../src/hex.js';
import {
  anchorElection,
  castBallot,
  makeManifest,
  makeVoters,
  resultHashHex,
  resultsOf,
  tallyOf,
  windowsOf,
  writeElectionFiles,
  type TestElection,
  type TestManifest,
} from './support/election.js';
import { cli, readReport } from './support/run.js';

const E = 'constructor';

function hostileElection(): TestElection {
  const ledgerSeed = createHash('sha256').update(`tallyproof verifier hostile ledger ${E}`).digest();
  const ledgerKey = Buffer.from(ed25519.getPublicKey(ledgerSeed)).toString('hex');
  const manifest: TestManifest = { ...hostileManifestInput(E), windowSeconds: 60, ledgerKey };
  const voters = makeVoters(HOSTILE_BALLOTS.length, `hostile-${E}`);
  const rows = voters.map((v, i) => castBallot(v, E, HOSTILE_BALLOTS[i]!, i));
  return {
    electionId: E,
    manifest,
    roll: voters.map((v) => v.credential),
    rows,
    windows: windowsOf(rows, [2, 3]),
    tally: tallyOf(manifest, rows),
    ledgerSeed,
  };
}

const election = hostileElection();
const rules = ballotRules(parseManifest(election.manifest));

function recountOf(ballots: readonly Record<string, string[]>[]): Recount {
  const recount = new Recount(rules);
  for (const [seq, selections] of ballots.entries()) {
    const check = checkBallotRules({ version: 1, electionId: E, credential: '00'.repeat(32), selections }, rules);
    if (!check.ok) throw new Error(check.problem);
    recount.add(seq, check.choices);
  }
  return recount;
}

describe('verifier with ids that are JavaScript names', () => {
  it('checks ballots by their own entries', () => {
    for (const selections of HOSTILE_BALLOTS) {
      const check = checkBallotRules({ version: 1, electionId: E, credential: '00'.repeat(32), selections }, rules);
      expect(check.ok, JSON.stringify(selections)).toBe(true);
    }
    for (const c of HOSTILE_INVALID_SELECTIONS) {
      const check = checkBallotRules(
        { version: 1, electionId: E, credential: '00'.repeat(32), selections: c.selections() },
        rules,
      );
      expect(check.ok, c.name).toBe(false);
    }
  });

  it('recounts into own entries: the tally, its JCS and resultHash are the honest ones', () => {
    const expected = hostileTally();
    expect(hostileTally(HOSTILE_BALLOTS)).toEqual(election.tally);
    const tally = recountOf(HOSTILE_BALLOTS).tally();
    expect(tally).toEqual(expected);
    for (const [c, row] of Object.entries(expected)) {
      expect(Object.hasOwn(tally, c), c).toBe(true);
      expect(Object.keys(tally[c]!)).toEqual(Object.keys(row));
    }
    expect(toHex(resultHash(E, tally, HOSTILE_BALLOTS.length))).toBe(
      resultHashHex(E, expected, HOSTILE_BALLOTS.length),
    );
    expect(emptyTally(parseManifest(election.manifest))).toEqual(hostileTally([]));
    // The recount's objects are plain: nothing leaked onto Object itself.
    expect(Object.hasOwn(Object, 'constructor')).toBe(false);
  });

  it('compares published results by own entries', () => {
    const recount = recountOf(HOSTILE_BALLOTS);
    const published = resultsOf(election) as { tally: Record<string, Record<string, number>> };
    expect(compareResults(published, E, recount)).toEqual([]);

    const { constructor: _left, ...withoutConstructor } = published.tally;
    expect(compareResults({ ...published, tally: withoutConstructor }, E, recount).map((f) => f.message)).toContain(
      'the published results give constructor/constructor = nothing, the recount 2 (as of seq 4)',
    );

    // A name every object inherits, listed where the manifest has no such choice, is reported.
    const plain = makeManifest('plain', election.manifest.ledgerKey);
    const plainRecount = new Recount(ballotRules(parseManifest(plain)));
    const extra = { q1: { oui: 0, non: 0, constructor: 0 }, council: { ana: 0, bo: 0, chloe: 0 }, tostring: {} };
    const findings = compareResults({ electionId: 'plain', totalBallots: 0, tally: extra }, 'plain', plainRecount);
    expect(findings.map((f) => f.message)).toEqual([
      'the published results list q1/constructor, which is not a choice of the manifest',
      'the published results list contest tostring, which is not in the manifest',
    ]);
    const inherited = { q1: { oui: 0, non: 0, constructor: 0 }, council: { ana: 0, bo: 0, chloe: 0 }, constructor: {} };
    expect(
      compareResults({ electionId: 'plain', totalBallots: 0, tally: inherited }, 'plain', plainRecount).map(
        (f) => f.message,
      ),
    ).toContain('the published results list contest constructor, which is not in the manifest');
  });
});

describe('audit of the hostile-id election against a chain', () => {
  let chain: AnvilNode;
  let dir: string;
  let contract: string;

  beforeAll(async () => {
    chain = await startAnvil();
    const wallet = new Wallet(chain.accounts[0]!.privateKey, anvilProvider(chain));
    contract = (await deployTallyAnchor(wallet)).address;
    await anchorElection(tallyAnchor(contract, wallet), election);
    dir = mkdtempSync(join(tmpdir(), 'tallyproof-verify-hostile-'));
  });

  afterAll(async () => {
    await chain?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('passes with the recount equal to the honest tally and the close on chain', async () => {
    const files = writeElectionFiles(join(dir, 'hostile'), election);
    const report = join(dir, 'report.json');
    const run = await cli([
      'audit',
      '--election',
      E,
      '--ledger',
      files.ledger,
      '--manifest',
      files.manifest,
      '--roll',
      files.roll,
      '--results',
      files.results,
      '--rpc',
      chain.rpcUrl,
      '--contract',
      contract,
      '--report',
      report,
      '--threads',
      '0',
    ]);
    const parsed = readReport<AuditReport>(report);
    expect(parsed.findings).toEqual([]);
    expect(run.code).toBe(EXIT.ok);
    expect(parsed.verdict).toBe('pass');
    expect(parsed.recount?.tally).toEqual(hostileTally());
    expect(parsed.recount?.resultHash).toBe(resultHashHex(E, hostileTally(), HOSTILE_BALLOTS.length));
  });
});
