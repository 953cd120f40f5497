// `tiles save` and `audit --tiles URL` against a real chain (anvil) and the stand-in server serving tiles from a
// directory: an observer's copy checked window by window (roots from the chain, or from the server's list, saying
// which), resumed without downloading again, a window whose served tiles do not give its root (or are not all
// served) not written; then the copy, the server's base and a static mirror each name the seqs of a swap in an
// audit, for an election of one shard and of several; and a sharded receipt checked from the copy alone.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deployTallyAnchor, tallyAnchor } from '../../contracts/index.js';
import { anvilProvider, startAnvil, type AnvilNode } from '../../test/support/anvil.js';
import type { AuditReport } from '../src/audit/audit.js';
import type { TilesSaveReport } from '../src/commands/tiles-save.js';
import { EXIT, type Finding } from '../src/errors.js';
import {
  anchorElection,
  buildElection,
  manifestHashHex,
  resultsOf,
  rollRootHex,
  rowLine,
  type TestElection,
  type TestRow,
} from './support/election.js';
import { startFakeServer, type FakeServer } from './support/fake-server.js';
import { cli } from './support/run.js';
import {
  anchorShardedElection,
  buildShardedElection,
  intervalsBody,
  ledgerLines,
  shardedResults,
  shardReceiptFor,
  windowsList,
  type ShardedElection,
  type ShardRow,
} from './support/sharded-election.js';
import { startStaticServer } from './support/static-server.js';
import { windowDir, writeWindowTiles } from './support/tiles.js';

let chain: AnvilNode;
let contract: string;
let server: FakeServer;
let dir: string;
/** One shard, windows of 300 and 10, all anchored; its tiles as the server serves them. */
let e: TestElection;
let served: string;
/** Two shards, windows of 5, all anchored. */
let se: ShardedElection;
let shardServed: string;

const where = (findings: readonly Finding[]): string[] =>
  findings.map(
    (f) =>
      `${f.code}${f.shard === undefined ? '' : `@s${f.shard}`}${f.seq === undefined ? '' : `@seq${f.seq}`}` +
      `${f.window === undefined ? '' : `@w${f.window}`}${f.interval === undefined ? '' : `@i${f.interval}`}`,
  );

function info(manifest: unknown, roll: string[]): Record<string, unknown> {
  return {
    manifest,
    manifestHash: manifestHashHex(manifest),
    rollRoot: rollRootHex(roll),
    rollSize: roll.length,
    status: 'open',
    chainId: chain.chainId,
    contract,
  };
}

/** What the stand-in serves for `e` with `rows` as its ledger (its windows listed, sealed and anchored). */
function serveOneShard(rows: readonly TestRow[] = e.rows): void {
  server.elections.set(e.electionId, {
    info: info(e.manifest, e.roll),
    roll: e.roll,
    results: resultsOf(e, rows),
    ledgerLines: rows.map(rowLine),
    shardWindows: [
      e.windows.map((w) => ({
        index: w.index,
        firstSeq: w.firstSeq,
        count: w.count,
        root: w.root,
        sealedAt: new Date().toISOString(),
        anchor: { chainId: chain.chainId, contract, txHash: `0x${'00'.repeat(32)}`, blockNumber: 1 },
      })),
    ],
  });
}

function serveSharded(rows: readonly (readonly ShardRow[])[] = se.rows): void {
  server.elections.set(se.electionId, {
    info: info(se.manifest, se.roll),
    roll: se.roll,
    results: shardedResults(se),
    ledgerLines: ledgerLines(rows),
    intervals: (intervalsBody(se) as { intervals: unknown[] }).intervals,
    shardWindows: se.windows.map((_, s) => windowsList(se, s)),
  });
}

beforeAll(async () => {
  chain = await startAnvil();
  const wallet = new Wallet(chain.accounts[0]!.privateKey, anvilProvider(chain));
  contract = (await deployTallyAnchor(wallet)).address;
  dir = mkdtempSync(join(tmpdir(), 'tallyproof-verify-tiles-save-'));

  e = buildElection({ electionId: 'tiles-save', voters: 310, windowSizes: [300, 10], signer: 'node' });
  await anchorElection(tallyAnchor(contract, wallet), e, { close: false });
  served = join(dir, 'served');
  for (const w of e.windows)
    writeWindowTiles(
      served,
      e.electionId,
      w.index,
      e.rows.slice(w.firstSeq, w.firstSeq + w.count).map((r) => r.ballotHash),
    );

  se = buildShardedElection({ electionId: 'tiles-save-shards', shards: 2, voters: 24, windowSize: 5 });
  await anchorShardedElection(tallyAnchor(contract, wallet), se, { close: false });
  shardServed = join(dir, 'shard-served');
  for (const windows of se.windows)
    for (const w of windows)
      writeWindowTiles(
        shardServed,
        se.electionId,
        w.index,
        se.rows[w.shard]!.slice(w.firstSeq, w.firstSeq + w.count).map((r) => r.ballotHash),
        w.shard,
      );
  server = await startFakeServer();
});

beforeEach(() => {
  serveOneShard();
  serveSharded();
  server.tilesDir = served;
  server.tileFailures = 0;
});

afterAll(async () => {
  await server?.close();
  await chain?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let runs = 0;
const freshDir = (): string => join(dir, `out-${++runs}`);

async function save(
  electionId: string,
  out: string,
  extra: string[] = ['--rpc', chain.rpcUrl, '--contract', contract],
) {
  const run = await cli([
    'tiles',
    'save',
    '--api',
    server.url,
    '--election',
    electionId,
    '--out',
    out,
    ...extra,
    '--json',
  ]);
  const report = run.stdout === '' ? undefined : (JSON.parse(run.stdout) as TilesSaveReport);
  return { ...run, report: report!, where: where(report?.findings ?? []) };
}

/** Every tile file of window `w` (one shard) under `root`, as bytes by path. */
function filesOf(root: string, w: number, shard?: number): Map<string, Buffer> {
  const base = windowDir(root, shard === undefined ? e.electionId : se.electionId, w, shard);
  const out = new Map<string, Buffer>();
  const walk = (d: string, prefix: string): void => {
    if (!existsSync(d)) return;
    for (const name of readdirSync(d, { withFileTypes: true })) {
      if (name.isDirectory()) walk(join(d, name.name), `${prefix}${name.name}/`);
      else out.set(`${prefix}${name.name}`, readFileSync(join(d, name.name)));
    }
  };
  walk(base, '');
  return out;
}

describe('tiles save', () => {
  it('saves every anchored window, checked against its root on chain, and resumes without downloading again', async () => {
    const out = freshDir();
    const r = await save(e.electionId, out);
    expect(r.report.findings).toEqual([]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.report).toMatchObject({ rootsFrom: 'chain', verdict: 'saved', shards: 1 });
    // Window 0: tiles 0/000, 0/001.p/44, 1/000.p/1, bundles entries/000, entries/001.p/44; window 1: 0/000.p/10, entries/000.p/10.
    expect(r.report.windows.map((w) => [w.index, w.status, w.tiles, w.downloaded])).toEqual([
      [0, 'saved', 5, 5],
      [1, 'saved', 2, 2],
    ]);
    for (const w of [0, 1]) expect(filesOf(out, w)).toEqual(filesOf(served, w));
    const saved = JSON.parse(readFileSync(join(out, e.electionId, 'election.json'), 'utf8')) as { manifest: unknown };
    expect(saved.manifest).toEqual(e.manifest);

    const again = await save(e.electionId, out);
    expect(again.code).toBe(EXIT.ok);
    expect(again.report.totals).toEqual({ windows: 2, tiles: 7, downloaded: 0, present: 7 });
    rmSync(join(windowDir(out, e.electionId, 0), 'tile/entries/001.p/44'));
    const resumed = await save(e.electionId, out);
    expect(resumed.report.totals).toMatchObject({ downloaded: 1, present: 6 });
    expect(filesOf(out, 0)).toEqual(filesOf(served, 0));

    const text = await cli(['tiles', 'save', '--api', server.url, '--election', e.electionId, '--out', out]);
    expect(text.stdout).toContain(
      "roots from the server's windows list (GET …/windows), not checked against the chain",
    );
    expect(text.stdout).toContain('SAVED');
  });

  it('--from-window leaves the windows below alone; tiles that fail twice are fetched again', async () => {
    const out = freshDir();
    server.tileFailures = 2;
    const r = await save(e.electionId, out, ['--rpc', chain.rpcUrl, '--from-window', '1']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.report.windows.map((w) => w.index)).toEqual([1]);
    expect(r.report.chain?.contractFrom).toBe('server');
    expect(existsSync(windowDir(out, e.electionId, 0))).toBe(false);
    expect(filesOf(out, 1)).toEqual(filesOf(served, 1));
  });

  it('a window whose served tiles do not give its root, or disagree with its bundles, is reported and not written', async () => {
    const bad = join(dir, 'served-bad');
    cpSync(served, bad, { recursive: true });
    const tile = join(windowDir(bad, e.electionId, 0), 'tile/0/001.p/44');
    const bytes = readFileSync(tile);
    bytes[0] = bytes[0]! ^ 1;
    writeFileSync(tile, bytes);
    server.tilesDir = bad;
    const out = freshDir();
    const r = await save(e.electionId, out);
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toEqual(['window-root-mismatch@w0']);
    expect(r.report.findings[0]!.message).toBe(
      'window 0: tile/0/001.p/44 (served) is not the tile its entry bundles give',
    );
    expect(existsSync(windowDir(out, e.electionId, 0))).toBe(false);
    expect(filesOf(out, 1)).toEqual(filesOf(served, 1));

    // Hash tiles and bundles of another tree (two ballots swapped): consistent, but not the root on chain.
    const other = join(dir, 'served-other');
    const hashes = e.rows.slice(0, 300).map((x) => x.ballotHash);
    [hashes[3], hashes[290]] = [hashes[290]!, hashes[3]!];
    writeWindowTiles(other, e.electionId, 0, hashes);
    cpSync(windowDir(served, e.electionId, 1), windowDir(other, e.electionId, 1), { recursive: true });
    server.tilesDir = other;
    const wrong = await save(e.electionId, freshDir());
    expect(wrong.where).toEqual(['window-root-mismatch@w0']);
    expect(wrong.report.findings[0]!.message).toBe(
      `window 0: its tiles give the root ${wrong.report.findings[0]!.message.match(/root ([0-9a-f]{64})/)![1]}, not ${e.windows[0]!.root}`,
    );
  });

  it('tiles the server does not serve leave their window out (exit 2), to be resumed', async () => {
    const partial = join(dir, 'served-partial');
    cpSync(windowDir(served, e.electionId, 0), windowDir(partial, e.electionId, 0), { recursive: true });
    server.tilesDir = partial;
    const out = freshDir();
    const r = await save(e.electionId, out);
    expect(r.code).toBe(EXIT.usage);
    expect(r.report.verdict).toBe('incomplete');
    expect(r.report.windows.map((w) => [w.index, w.status])).toEqual([
      [0, 'saved'],
      [1, 'incomplete'],
    ]);
    expect(r.report.windows[1]!.message).toMatch(
      /does not serve 2 tiles of window 1 \(404 for \S+\/windows\/1\/tile\/0\/000\.p\/10, …\)/,
    );
    server.tilesDir = served;
    const resumed = await save(e.electionId, out);
    expect(resumed.code).toBe(EXIT.ok);
    expect(resumed.report.totals).toMatchObject({ downloaded: 2, present: 5 });
  });

  it("several shards: every shard's windows from the anchored intervals, then a receipt from the copy alone", async () => {
    server.tilesDir = shardServed;
    const out = freshDir();
    const r = await save(se.electionId, out);
    expect(r.report.findings).toEqual([]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.report.shards).toBe(2);
    expect(r.report.windows.map((w) => `${w.shard}/${w.index}`)).toEqual(
      se.windows.flatMap((ws) => ws.map((w) => `${w.shard}/${w.index}`)),
    );
    for (const ws of se.windows)
      for (const w of ws) expect(filesOf(out, w.index, w.shard)).toEqual(filesOf(shardServed, w.index, w.shard));
    expect(existsSync(join(out, se.electionId, 'intervals.json'))).toBe(true);

    const row = se.rows[0]![7]!;
    const file = join(dir, 'shard-receipt.json');
    writeFileSync(file, JSON.stringify(shardReceiptFor(se, row)));
    server.requests.length = 0;
    const receipt = await cli(['receipt', file, '--tiles', out, '--rpc', chain.rpcUrl, '--contract', contract]);
    expect(receipt.code).toBe(EXIT.ok);
    expect(server.requests).toEqual([]);
  });
});

/** `rows` with the ballots at positions a and b exchanged, each keeping the other's seq. */
function swapped<T extends TestRow>(rows: readonly T[], a: number, b: number): T[] {
  const out = [...rows];
  out[a] = { ...rows[b]!, seq: rows[a]!.seq };
  out[b] = { ...rows[a]!, seq: rows[b]!.seq };
  return out;
}

describe('audit --tiles, a copy or an http base', () => {
  async function audit(electionId: string, tiles: string) {
    const report = join(dir, `report-${++runs}.json`);
    const run = await cli([
      'audit',
      '--election',
      electionId,
      '--api',
      server.url,
      '--rpc',
      chain.rpcUrl,
      '--contract',
      contract,
      '--threads',
      '0',
      '--tiles',
      tiles,
      '--report',
      report,
    ]);
    const parsed = JSON.parse(readFileSync(report, 'utf8')) as AuditReport;
    return { ...run, report: parsed, where: where(parsed.findings) };
  }

  it('names both seqs of a swap from the saved copy, the server base and a static mirror', async () => {
    const out = freshDir();
    expect((await save(e.electionId, out)).code).toBe(EXIT.ok);
    serveOneShard(swapped(e.rows, 3, 290));
    const mirror = await startStaticServer(out);
    try {
      for (const tiles of [out, `${server.url}/api/v1/elections/`, mirror.base]) {
        const r = await audit(e.electionId, tiles);
        expect(r.code, tiles).toBe(EXIT.failed);
        expect(r.where, tiles).toEqual([
          'window-root-mismatch@w0',
          'window-root-mismatch@seq3@w0',
          'window-root-mismatch@seq290@w0',
        ]);
        expect(r.report.findings[1]!.message).toContain(
          `differs from the tiles saved earlier in ${tiles.replace(/\/$/, '')}`,
        );
      }
    } finally {
      await mirror.close();
    }
  });

  it('names the shard and seqs of a swap in an election of several shards', async () => {
    server.tilesDir = shardServed;
    const out = freshDir();
    expect((await save(se.electionId, out)).code).toBe(EXIT.ok);
    const rows = se.rows.map((r) => [...r]);
    rows[1] = swapped(se.rows[1]!, 5, 8); // shard 1's window 1
    serveSharded(rows);
    for (const tiles of [out, `${server.url}/api/v1/elections/`]) {
      const r = await audit(se.electionId, tiles);
      expect(r.code).toBe(EXIT.failed);
      expect(r.where.filter((w) => w.startsWith('window-root-mismatch'))).toEqual([
        'window-root-mismatch@s1@w1',
        'window-root-mismatch@s1@seq5@w1',
        'window-root-mismatch@s1@seq8@w1',
      ]);
    }
  });
});
