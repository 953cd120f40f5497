// `receipt --tiles` against a real chain (anvil): the inclusion proof computed from a window's tiles — saved in a
// directory, served under the API's base (the stand-in server, which is asked for no proof bundle), or from a
// static mirror (a CDN) — for an election of one shard and one of several. A tile that was changed, tiles of
// another tree, a receipt for a seq the anchored window gives another ballot, a tile that is not there, a ballot
// not anchored yet, records of an interval that do not give its root: each fails, saying what.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployTallyAnchor, tallyAnchor } from '../../contracts/index.js';
import { anvilProvider, startAnvil, type AnvilNode } from '../../test/support/anvil.js';
import type { ReceiptReport } from '../src/commands/receipt.js';
import { EXIT, type Finding } from '../src/errors.js';
import {
  anchorElection,
  buildElection,
  manifestHashHex,
  receiptFor,
  rollRootHex,
  type TestElection,
} from './support/election.js';
import { startFakeServer, type FakeServer } from './support/fake-server.js';
import { cli } from './support/run.js';
import {
  anchorShardedElection,
  buildShardedElection,
  intervalsBody,
  shardReceiptFor,
  type ShardedElection,
} from './support/sharded-election.js';
import { startStaticServer, type StaticServer } from './support/static-server.js';
import { windowDir, writeWindowTiles } from './support/tiles.js';

let chain: AnvilNode;
let contract: string;
let server: FakeServer;
let mirror: StaticServer;
let dir: string;
/** One shard: windows of 300 and 20 ballots anchored, 10 more not yet. */
let e: TestElection;
/** Its tiles, election.json beside them. */
let tiles: string;
/** Three shards, windows of 5; the last anchor pass formed its interval but did not anchor it. */
let se: ShardedElection;
let shardTiles: string;

const where = (findings: readonly Finding[]): string[] =>
  findings.map(
    (f) =>
      `${f.code}${f.shard === undefined ? '' : `@s${f.shard}`}${f.seq === undefined ? '' : `@seq${f.seq}`}` +
      `${f.window === undefined ? '' : `@w${f.window}`}${f.interval === undefined ? '' : `@i${f.interval}`}`,
  );

function electionInfo(manifest: unknown, roll: string[]): Record<string, unknown> {
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

beforeAll(async () => {
  chain = await startAnvil();
  const wallet = new Wallet(chain.accounts[0]!.privateKey, anvilProvider(chain));
  contract = (await deployTallyAnchor(wallet)).address;
  dir = mkdtempSync(join(tmpdir(), 'tallyproof-verify-tiles-receipt-'));

  e = buildElection({ electionId: 'tiles-receipt', voters: 330, windowSizes: [300, 20], signer: 'node' });
  await anchorElection(tallyAnchor(contract, wallet), e, { close: false });
  tiles = join(dir, 'tiles');
  for (const w of e.windows)
    writeWindowTiles(
      tiles,
      e.electionId,
      w.index,
      e.rows.slice(w.firstSeq, w.firstSeq + w.count).map((r) => r.ballotHash),
    );
  writeFileSync(join(tiles, e.electionId, 'election.json'), JSON.stringify(electionInfo(e.manifest, e.roll)));

  se = buildShardedElection({
    electionId: 'tiles-receipt-shards',
    shards: 3,
    voters: 40,
    windowSize: 5,
    unanchoredPasses: 1,
  });
  await anchorShardedElection(tallyAnchor(contract, wallet), se, { close: false });
  shardTiles = join(dir, 'shard-tiles');
  for (const windows of se.windows)
    for (const w of windows)
      writeWindowTiles(
        shardTiles,
        se.electionId,
        w.index,
        se.rows[w.shard]!.slice(w.firstSeq, w.firstSeq + w.count).map((r) => r.ballotHash),
        w.shard,
      );
  writeFileSync(join(shardTiles, se.electionId, 'election.json'), JSON.stringify(electionInfo(se.manifest, se.roll)));
  writeFileSync(join(shardTiles, se.electionId, 'intervals.json'), JSON.stringify(intervalsBody(se)));

  server = await startFakeServer();
  server.elections.set(e.electionId, { info: electionInfo(e.manifest, e.roll), ledgerLines: [] });
  server.elections.set(se.electionId, {
    info: electionInfo(se.manifest, se.roll),
    ledgerLines: [],
    intervals: (intervalsBody(se) as { intervals: unknown[] }).intervals,
  });
  mirror = await startStaticServer(dir);
});

afterAll(async () => {
  await mirror?.close();
  await server?.close();
  await chain?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let files = 0;
function receiptFile(receipt: unknown): string {
  const path = join(dir, `receipt-${++files}.json`);
  writeFileSync(path, JSON.stringify(receipt));
  return path;
}

/** `receipt FILE --tiles SOURCE --rpc … --contract … --json`, plus `extra`. */
async function receipt(file: string, source: string, extra: string[] = ['--contract', contract]) {
  const run = await cli(['receipt', file, '--tiles', source, '--rpc', chain.rpcUrl, ...extra, '--json']);
  const report = run.stdout === '' ? undefined : (JSON.parse(run.stdout) as ReceiptReport);
  return { ...run, report, where: where(report?.findings ?? []) };
}

/** A copy of the saved tiles to spoil. */
function copyOf(from: string): string {
  const to = join(dir, `copy-${++files}`);
  cpSync(from, to, { recursive: true });
  return to;
}

/** Flips one byte of the file. */
function spoil(file: string, at: number): void {
  const bytes = readFileSync(file);
  bytes[at] = bytes[at]! ^ 0xff;
  writeFileSync(file, bytes);
}

describe('receipt --tiles, one shard', () => {
  it('verifies from a saved directory, with no server at all: the leaf in its tile, the path to the root on chain', async () => {
    for (const seq of [0, 5, 255, 256, 299, 300, 319]) {
      const r = await receipt(receiptFile(receiptFor(e, e.rows[seq]!)), tiles);
      expect(r.report!.findings, `seq ${seq}`).toEqual([]);
      expect(r.code).toBe(EXIT.ok);
      const w = seq < 300 ? e.windows[0]! : e.windows[1]!;
      expect(r.report).toMatchObject({
        verdict: 'anchored',
        proofFrom: 'tiles',
        seq,
        leafIndex: seq - w.firstSeq,
        window: { index: w.index, firstSeq: w.firstSeq, count: w.count, root: w.root },
      });
    }
    const text = await cli([
      'receipt',
      receiptFile(receiptFor(e, e.rows[257]!)),
      '--tiles',
      tiles,
      '--rpc',
      chain.rpcUrl,
    ]);
    expect(text.stdout).toContain('tile/0/001.p/44 of window 0 holds H(0x00 || ballot hash) at leaf 257 (seq 257)');
    expect(text.stdout).toContain('checked by this tool and by the contract');
    expect(text.stdout).toContain('(named by the server: pass --contract to pin it)');
    expect(text.stdout).toMatch(/VERIFIED/);
  });

  it("from the API's base: the tiles and the election document, and no proof bundle asked for", async () => {
    server.tilesDir = tiles;
    server.requests.length = 0;
    const r = await receipt(receiptFile(receiptFor(e, e.rows[42]!)), `${server.url}/api/v1/elections/`);
    expect(r.report!.findings).toEqual([]);
    expect(r.code).toBe(EXIT.ok);
    expect(server.requests.some((q) => q.includes('/receipts/'))).toBe(false);
    expect(server.requests).toContain(`GET /api/v1/elections/${e.electionId}`);
    expect(server.requests).toContain(`GET /api/v1/elections/${e.electionId}/windows/0/tile/0/000`);
  });

  it('from a static mirror (a CDN), and through tiles that fail twice before they come', async () => {
    mirror.requests.length = 0;
    const r = await receipt(receiptFile(receiptFor(e, e.rows[310]!)), `${mirror.base}tiles/`);
    expect(r.code).toBe(EXIT.ok);
    expect(mirror.requests).toContain(`/mirror/tiles/${e.electionId}/election.json`);

    server.tilesDir = tiles;
    server.tileFailures = 2;
    const retried = await receipt(receiptFile(receiptFor(e, e.rows[7]!)), `${server.url}/api/v1/elections/`);
    expect(retried.code).toBe(EXIT.ok);
    expect(server.tileFailures).toBe(0);
  });

  it("a changed leaf in the receipt's tile: named, though the rest of the path leads to the root", async () => {
    const copy = copyOf(tiles);
    spoil(join(windowDir(copy, e.electionId, 0), 'tile/0/000'), 9 * 32);
    const r = await receipt(receiptFile(receiptFor(e, e.rows[9]!)), copy);
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toEqual(['inclusion-proof-invalid@seq9@w0']);
    expect(r.report!.findings[0]!.message).toMatch(
      /tile\/0\/000 holds leaf hash [0-9a-f]{64} at leaf 9, not H\(0x00 \|\| ballot hash\) = [0-9a-f]{64}, yet the other tiles lead from your ballot to window 0's root on chain: that tile in \S+ is not the anchored window's/,
    );
  });

  it('a changed tile on the path: the path no longer leads to the root on chain; the contract says so too', async () => {
    const copy = copyOf(tiles);
    spoil(join(windowDir(copy, e.electionId, 0), 'tile/0/001.p/44'), 0);
    const r = await receipt(receiptFile(receiptFor(e, e.rows[9]!)), copy);
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toEqual(['inclusion-proof-invalid@seq9@w0', 'inclusion-proof-invalid@seq9@w0']);
    expect(r.report!.findings[0]!.message).toMatch(/do not lead from your ballot to its root on chain/);
    expect(r.report!.findings[1]!.message).toMatch(/the contract's verifyInclusion rejects/);
  });

  it('tiles of another tree, and a receipt for a seq where the anchored window has another ballot', async () => {
    const other = join(dir, 'other-tree');
    const swapped = e.rows.slice(0, 300).map((r) => r.ballotHash);
    [swapped[9], swapped[10]] = [swapped[10]!, swapped[9]!];
    writeWindowTiles(other, e.electionId, 0, swapped);
    const r = await receipt(receiptFile(receiptFor(e, e.rows[9]!)), other, [
      '--manifest',
      join(tiles, e.electionId, 'election.json'),
      '--contract',
      contract,
    ]);
    expect(r.code).toBe(EXIT.failed);
    expect(r.report!.findings[0]!.message).toMatch(/the tiles of window 0 in \S+ do not lead to its root on chain/);

    // Signed for seq 11, but the anchored window holds the ballot of seq 12 there.
    const misplaced = receiptFor(e, { ...e.rows[12]!, seq: 11 });
    const m = await receipt(receiptFile(misplaced), tiles);
    expect(m.code).toBe(EXIT.failed);
    expect(m.where).toContain('inclusion-proof-invalid@seq11@w0');
    expect(m.report!.findings[0]!.message).toMatch(/the anchored window 0 holds another ballot at this seq/);
  });

  it('a tile that is not there, a receipt given by its hash alone, no manifest to be found: exit 2', async () => {
    const copy = copyOf(tiles);
    rmSync(join(windowDir(copy, e.electionId, 1), 'tile'), { recursive: true });
    const missing = await receipt(receiptFile(receiptFor(e, e.rows[301]!)), copy);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toMatch(/windows\/1\/tile\/0\/000\.p\/20 is not there/);

    const byHash = await receipt(e.rows[3]!.ballotHash, tiles);
    expect(byHash.code).toBe(EXIT.usage);
    expect(byHash.stderr).toMatch(/with --tiles, give the receipt file/);

    rmSync(join(copy, e.electionId, 'election.json'));
    const noManifest = await receipt(receiptFile(receiptFor(e, e.rows[3]!)), copy);
    expect(noManifest.code).toBe(EXIT.usage);
    expect(noManifest.stderr).toMatch(/no manifest of election tiles-receipt in .*give --manifest FILE or --api URL/);
    const withApi = await receipt(receiptFile(receiptFor(e, e.rows[3]!)), copy, ['--api', server.url]);
    expect(withApi.code).toBe(EXIT.ok);
    expect(withApi.report!.chain?.contractFrom).toBe('server');
  });

  it('a ballot in no anchored window: not anchored yet (exit 3), overdue once the promise has passed', async () => {
    const fresh = await receipt(receiptFile(receiptFor(e, e.rows[325]!)), tiles);
    expect(fresh.code).toBe(EXIT.notYetAnchored);
    expect(fresh.where).toEqual(['not-anchored@seq325']);
    const text = await cli([
      'receipt',
      receiptFile(receiptFor(e, e.rows[325]!)),
      '--tiles',
      tiles,
      '--rpc',
      chain.rpcUrl,
    ]);
    expect(text.stdout).toContain('NOT YET ANCHORED: no window anchored on chain holds its seq yet');

    const old = { ...e.rows[326]!, receivedAt: new Date(Date.now() - 3_600_000).toISOString() };
    const overdue = await receipt(receiptFile(receiptFor(e, old)), tiles);
    expect(overdue.code).toBe(EXIT.failed);
    expect(overdue.where).toEqual(['anchor-overdue@seq326']);
  });
});

describe('receipt --tiles, several shards', () => {
  const anchoredRow = () => se.rows[1]![6]!; // shard 1's window 1
  const lastPassRow = () => {
    const last = se.intervals[se.intervals.length - 1]!.records[0]!;
    return se.rows[last.shard]![last.firstSeq]!;
  };

  it("verifies from a saved directory (the intervals' records kept beside the tiles) and from the API's base", async () => {
    const row = anchoredRow();
    const r = await receipt(receiptFile(shardReceiptFor(se, row)), shardTiles);
    expect(r.report!.findings).toEqual([]);
    expect(r.code).toBe(EXIT.ok);
    const interval = se.intervals.find((i) => i.records.some((x) => x.shard === 1 && x.windowIndex === 1))!;
    expect(r.report).toMatchObject({
      shard: 1,
      seq: 6,
      leafIndex: 1,
      shardWindow: { shard: 1, index: 1, firstSeq: 5, count: 5 },
      interval: { index: interval.index, root: interval.root },
      recordIndex: interval.records.findIndex((x) => x.shard === 1 && x.windowIndex === 1),
    });
    expect(r.report!.passed.join('\n')).toMatch(/whose record \d+ is in interval \d+, root \S+ on chain/);

    server.tilesDir = shardTiles;
    server.requests.length = 0;
    const api = await receipt(receiptFile(shardReceiptFor(se, row)), `${server.url}/api/v1/elections/`);
    expect(api.code).toBe(EXIT.ok);
    expect(server.requests.filter((q) => q.includes('/intervals?')).length).toBeGreaterThan(0);
    expect(server.requests).toContain(`GET /api/v1/elections/${se.electionId}/shards/1/windows/1/tile/0/000.p/5`);
  });

  it("records that do not give the interval's root on chain: interval-mismatch", async () => {
    const copy = copyOf(shardTiles);
    const body = intervalsBody(se) as {
      intervals: { windows: { shard: number; windowIndex: number; count: number }[] }[];
    };
    for (const i of body.intervals) for (const r of i.windows) if (r.shard === 1 && r.windowIndex === 1) r.count = 6; // seq 6 still inside
    writeFileSync(join(copy, se.electionId, 'intervals.json'), JSON.stringify(body));
    const r = await receipt(receiptFile(shardReceiptFor(se, anchoredRow())), copy);
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toEqual([expect.stringMatching(/^interval-mismatch@s1@seq6@w1@i\d+$/)]);
  });

  it('a ballot whose interval is formed but not anchored: not anchored yet (exit 3)', async () => {
    const row = lastPassRow();
    const r = await receipt(receiptFile(shardReceiptFor(se, row)), shardTiles);
    expect(r.code).toBe(EXIT.notYetAnchored);
    expect(r.where).toEqual([`not-anchored@s${row.shard}@seq${row.seq}`]);
  });

  it('a receipt without its shard in an election of several: receipt-mismatch', async () => {
    const r = await receipt(receiptFile(shardReceiptFor(se, anchoredRow(), false)), shardTiles);
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain('receipt-mismatch@seq6');
  });
});
