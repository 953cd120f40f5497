// `audit --tiles DIR` in file mode against a real chain (anvil): with the windows' tiles saved earlier (as an
// observer or a CDN kept them), a window whose root differs from the chain's names the exact seqs that differ
// — both seqs of a swap, the seq of a validly signed substitute — with the ballot hashes then and now. Saved
// tiles that do not give the chain's root, or are missing, locate nothing and the window's finding says why. An
// election of several shards: tiles saved per shard name the shard and seq.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployTallyAnchor, tallyAnchor } from '../../contracts/index.js';
import { anvilProvider, startAnvil, type AnvilNode } from '../../test/support/anvil.js';
import type { AuditReport } from '../src/audit/audit.js';
import { EXIT } from '../src/errors.js';
import { TreeTiles } from '../src/tiles.js';
import {
  anchorElection,
  buildElection,
  castBallot,
  rowLine,
  selectionsFor,
  writeElectionFiles,
  type ElectionFiles,
  type TestElection,
  type TestRow,
} from './support/election.js';
import {
  anchorShardedElection,
  buildShardedElection,
  ledgerLines,
  writeShardedFiles,
} from './support/sharded-election.js';
import { writeWindowTiles } from './support/tiles.js';
import { cli, readReport, where } from './support/run.js';

let chain: AnvilNode;
let contract: string;
let dir: string;
let election: TestElection & { voters: ReturnType<typeof buildElection>['voters'] };
let files: ElectionFiles;
/** The tiles of every window, saved as the server serves them: <tiles>/<election>/windows/<w>/tile/… */
let tiles: string;
// Windows of 300 and 10 ballots: window 0 has a full level-0 tile, a partial one and a level-1 tile.
const WINDOW_SIZES = [300, 10];

/** Writes the tiles of the window of `rows` under `root`/<electionId>/windows/<w>/. */
function saveTiles(root: string, electionId: string, w: number, rows: readonly TestRow[]): void {
  const leaves = Buffer.from(rows.map((r) => r.ballotHash).join(''), 'hex');
  for (const { path, data } of TreeTiles.fromLeaves(leaves).tiles()) {
    const file = join(root, electionId, 'windows', String(w), path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, data);
  }
}

function windowRows(rows: readonly TestRow[], w: number): TestRow[] {
  const first = WINDOW_SIZES.slice(0, w).reduce((n, c) => n + c, 0);
  return rows.slice(first, first + WINDOW_SIZES[w]!);
}

beforeAll(async () => {
  chain = await startAnvil();
  const wallet = new Wallet(chain.accounts[0]!.privateKey, anvilProvider(chain));
  contract = (await deployTallyAnchor(wallet)).address;
  dir = mkdtempSync(join(tmpdir(), 'tallyproof-verify-tiles-'));
  election = buildElection({
    electionId: 'tiles-audit',
    voters: WINDOW_SIZES.reduce((n, c) => n + c, 0),
    windowSizes: WINDOW_SIZES,
    signer: 'node',
  });
  await anchorElection(tallyAnchor(contract, wallet), election);
  files = writeElectionFiles(join(dir, 'files'), election);
  tiles = join(dir, 'tiles');
  for (const w of WINDOW_SIZES.keys()) saveTiles(tiles, election.electionId, w, windowRows(election.rows, w));
});

afterAll(async () => {
  await chain?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let runs = 0;
/** audit in file mode with `rows` as the ledger, `--tiles tilesDir` unless null. */
async function audit(rows: readonly TestRow[], tilesDir: string | null = tiles) {
  const n = ++runs;
  const ledger = join(dir, `ledger-${n}.ndjson`);
  writeFileSync(ledger, rows.map(rowLine).join('\n') + '\n');
  const report = join(dir, `report-${n}.json`);
  const args = ['audit', '--election', election.electionId, '--ledger', ledger, '--manifest', files.manifest];
  args.push('--roll', files.roll, '--rpc', chain.rpcUrl, '--contract', contract, '--report', report);
  args.push('--threads', '0', ...(tilesDir === null ? [] : ['--tiles', tilesDir]));
  const run = await cli(args);
  const parsed = readReport<AuditReport>(report);
  const rootFindings = parsed.findings.filter((f) => f.code === 'window-root-mismatch');
  return { ...run, report: parsed, where: where(parsed.findings), rootFindings };
}

/** `rows` with the ballots of seqs a and b exchanged (each keeps the other's seq). */
function swapped(rows: readonly TestRow[], a: number, b: number): TestRow[] {
  const out = [...rows];
  out[a] = { ...rows[b]!, seq: a };
  out[b] = { ...rows[a]!, seq: b };
  return out;
}

describe('audit --tiles', () => {
  it('passes a clean election', async () => {
    const r = await audit(election.rows);
    expect(r.report.findings).toEqual([]);
    expect(r.code).toBe(EXIT.ok);
  });

  it('names both seqs of two ballots swapped inside a window, with their ballot hashes then and now', async () => {
    const [a, b] = [3, 290];
    const rows = swapped(election.rows, a, b);
    const without = await audit(rows, null);
    expect(without.rootFindings.map((f) => [f.window, f.seq])).toEqual([[0, undefined]]);

    const r = await audit(rows);
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toEqual([
      'window-root-mismatch@w0',
      `window-root-mismatch@seq${a}@w0`,
      `window-root-mismatch@seq${b}@w0`,
    ]);
    const [, atA, atB] = r.rootFindings;
    const hashA = election.rows[a]!.ballotHash;
    const hashB = election.rows[b]!.ballotHash;
    expect(atA!.message).toContain(`seq ${a} differs from the tiles saved earlier`);
    expect(atA!.message).toContain(`ballot hash ${hashA} then, ballot hash ${hashB} now`);
    expect(atB!.message).toContain(`ballot hash ${hashB} then, ballot hash ${hashA} now`);
    expect(r.stdout).toContain(`seq ${a} differs`);
  });

  it("names each window's seq of a swap across two windows", async () => {
    const r = await audit(swapped(election.rows, 2, 305));
    expect(r.code).toBe(EXIT.failed);
    // The windows' findings come first, then the seqs located in each.
    expect(r.rootFindings.map((f) => [f.window, f.seq])).toEqual([
      [0, undefined],
      [1, undefined],
      [0, 2],
      [1, 305],
    ]);
  });

  it('names the seq of a validly signed substitute ballot', async () => {
    const seq = 257;
    const voter = election.voters[seq]!;
    const substitute = castBallot(voter, election.electionId, selectionsFor(seq + 1), seq);
    expect(substitute.ballotHash).not.toBe(election.rows[seq]!.ballotHash);
    const rows = [...election.rows];
    rows[seq] = substitute;
    const r = await audit(rows);
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).not.toContain(`bad-signature@seq${seq}`);
    expect(r.rootFindings.map((f) => [f.window, f.seq])).toEqual([
      [0, undefined],
      [0, seq],
    ]);
    expect(r.rootFindings[1]!.message).toContain(
      `ballot hash ${election.rows[seq]!.ballotHash} then, ballot hash ${substitute.ballotHash} now`,
    );
  });

  it("does not use saved tiles that do not give the chain's root, or that are missing, and says so", async () => {
    // Tiles of a window that was never anchored: the first 300 ballots in another order.
    const other = join(dir, 'other-tiles');
    saveTiles(other, election.electionId, 0, swapped(windowRows(election.rows, 0), 0, 1));
    const rows = swapped(election.rows, 3, 290);
    const r = await audit(rows, other);
    expect(r.code).toBe(EXIT.failed);
    expect(r.rootFindings.map((f) => [f.window, f.seq])).toEqual([[0, undefined]]);
    expect(r.rootFindings[0]!.message).toMatch(/do not locate the change: the saved tiles give the root [0-9a-f]{64}/);

    // Window 1's tiles saved, window 0's not.
    const partial = join(dir, 'partial-tiles');
    cpSync(join(tiles, election.electionId, 'windows', '1'), join(partial, election.electionId, 'windows', '1'), {
      recursive: true,
    });
    const missing = await audit(rows, partial);
    expect(missing.rootFindings.map((f) => [f.window, f.seq])).toEqual([[0, undefined]]);
    expect(missing.rootFindings[0]!.message).toMatch(/do not locate the change: tile\/\S+ is missing/);
  });

  it('names the shard and seq of a change in an election of several shards, from tiles saved per shard', async () => {
    const sharded = buildShardedElection({ electionId: 'tiles-sharded', shards: 2, voters: 6, windowSize: 3 });
    const wallet = new Wallet(chain.accounts[0]!.privateKey, anvilProvider(chain));
    await anchorShardedElection(tallyAnchor(contract, wallet), sharded);
    const f = writeShardedFiles(join(dir, 'sharded'), sharded);
    const shardTiles = join(dir, 'sharded-tiles');
    for (const ws of sharded.windows)
      for (const w of ws) {
        const hashes = sharded.rows[w.shard]!.slice(w.firstSeq, w.firstSeq + w.count).map((r) => r.ballotHash);
        writeWindowTiles(shardTiles, sharded.electionId, w.index, hashes, w.shard);
      }
    // A validly signed substitute at the first seq of shard 0.
    const rows = sharded.rows.map((r) => [...r]);
    const first = rows[0]![0]!;
    const voter = sharded.voters.find((v) => v.credential === first.ballot.credential)!;
    rows[0]![0] = { ...castBallot(voter, sharded.electionId, selectionsFor(99), 0, first.receivedAt), shard: 0 };
    writeFileSync(f.ledger, ledgerLines(rows).join('\n') + '\n');
    const args = ['audit', '--election', sharded.electionId, '--ledger', f.ledger, '--manifest', f.manifest];
    args.push('--roll', f.roll, '--intervals', f.intervals, '--rpc', chain.rpcUrl, '--contract', contract);
    const report = join(dir, 'sharded-report.json');
    const r = await cli([...args, '--threads', '0', '--tiles', shardTiles, '--report', report]);
    expect(r.code).toBe(EXIT.failed);
    const found = readReport<AuditReport>(report).findings.filter((x) => x.code === 'window-root-mismatch');
    expect(found.map((x) => [x.shard, x.window, x.seq])).toEqual([
      [0, 0, undefined],
      [0, 0, 0],
    ]);
    expect(found[1]!.message).toContain(
      `window 0 of shard 0: seq 0 differs from the tiles saved earlier in ${join(shardTiles, sharded.electionId, 'shards', '0', 'windows', '0')}`,
    );
  });
});
