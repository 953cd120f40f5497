// An election of several shards through the API (docs/protocol.md 13.3) against a real chain (anvil) and the
// small local HTTP server of test/support/fake-server.ts: `receipt` checks a receipt naming its shard and its
// two-level proof against the interval on chain; `audit --api` reads the sharded export, …/intervals and
// …/windows?shard=s page by page. Honest answers pass; altered ones are named.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deployTallyAnchor, tallyAnchor } from '../../contracts/index.js';
import { anvilProvider, startAnvil, type AnvilNode } from '../../test/support/anvil.js';
import type { AuditReport } from '../src/audit/audit.js';
import type { ReceiptReport } from '../src/commands/receipt.js';
import { EXIT, type Finding } from '../src/errors.js';
import { manifestHashHex, rollRootHex } from './support/election.js';
import { startFakeServer, type FakeElection, type FakeServer } from './support/fake-server.js';
import { cli } from './support/run.js';
import {
  anchorShardedElection,
  buildShardedElection,
  intervalsBody,
  ledgerLines,
  shardBundleFor,
  shardedResults,
  shardReceiptFor,
  windowsList,
  type ShardedElection,
  type ShardRow,
} from './support/sharded-election.js';

const SHARDS = 4;
let chain: AnvilNode;
let contract: string;
let server: FakeServer;
let dir: string;
let e: ShardedElection;
/** A row in a window of 3 anchored in an interval of several records, not the interval's first. */
let row: ShardRow;

beforeAll(async () => {
  chain = await startAnvil();
  const wallet = new Wallet(chain.accounts[0]!.privateKey, anvilProvider(chain));
  contract = (await deployTallyAnchor(wallet)).address;
  // Open: the last anchor pass's interval is formed but not anchored.
  e = buildShardedElection({
    electionId: 'shards-api',
    shards: SHARDS,
    voters: 40,
    windowSize: 3,
    unanchoredPasses: 1,
  });
  await anchorShardedElection(tallyAnchor(contract, wallet), e, { close: false });
  const interval = e.intervals[1]!;
  const record = interval.records.find((r, i) => i > 0 && r.count === 3)!;
  row = e.rows[record.shard]![record.firstSeq + 1]!;
  server = await startFakeServer();
  dir = mkdtempSync(join(tmpdir(), 'tallyproof-verify-shards-api-'));
});

afterAll(async () => {
  await server?.close();
  await chain?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function honest(): FakeElection {
  return {
    info: {
      manifest: e.manifest,
      manifestHash: manifestHashHex(e.manifest),
      rollRoot: rollRootHex(e.roll),
      rollSize: e.roll.length,
      status: 'open',
      chainId: chain.chainId,
      contract,
    },
    roll: e.roll,
    results: shardedResults(e),
    ledgerLines: ledgerLines(e.rows),
    intervals: (intervalsBody(e) as { intervals: unknown[] }).intervals,
    shardWindows: e.windows.map((_, s) => windowsList(e, s)),
  };
}

beforeEach(() => {
  server.elections.set(e.electionId, honest());
  server.bundles.clear();
  for (const r of e.rows.flat())
    server.bundles.set(r.ballotHash, shardBundleFor(e, r, { chainId: chain.chainId, contract }));
  server.requests.length = 0;
});

const where = (findings: readonly Finding[]): string[] =>
  findings.map(
    (f) =>
      `${f.code}${f.shard === undefined ? '' : `@s${f.shard}`}${f.seq === undefined ? '' : `@seq${f.seq}`}` +
      `${f.window === undefined ? '' : `@w${f.window}`}${f.interval === undefined ? '' : `@i${f.interval}`}`,
  );

let files = 0;
async function receipt(
  input: string | Record<string, unknown>,
): Promise<{ code: number; report: ReceiptReport; where: string[] }> {
  let arg = input;
  if (typeof input !== 'string') {
    arg = join(dir, `receipt-${++files}.json`);
    writeFileSync(arg, JSON.stringify(input));
  }
  const run = await cli([
    'receipt',
    arg as string,
    '--api',
    server.url,
    '--rpc',
    chain.rpcUrl,
    '--contract',
    contract,
    '--json',
  ]);
  expect(run.stderr).toBe('');
  const report = JSON.parse(run.stdout) as ReceiptReport;
  return { code: run.code, report, where: where(report.findings) };
}

/** The bundle served for `r`, to alter. */
const bundleOf = (r: ShardRow) => server.bundles.get(r.ballotHash) as Record<string, Record<string, unknown>>;

describe('receipt of an election of several shards', () => {
  it('verifies a receipt naming its shard: two levels, up to the interval root on chain', async () => {
    const held = bundleOf(row).receipt as Record<string, unknown>;
    const r = await receipt(held);
    expect(r.report.findings).toEqual([]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.report).toMatchObject({ verdict: 'anchored', shard: row.shard, seq: row.seq, leafIndex: 1 });
    expect(r.report.interval).toMatchObject({
      index: 1,
      root: e.intervals[1]!.root,
      windowCount: e.intervals[1]!.windowCount,
    });
    expect(r.report.passed.join('\n')).toMatch(
      /of shard \d+ .*interval 1, root .* checked by this tool and by the contract/,
    );
  });

  it('every ballot of every anchored interval verifies, each by its hash', async () => {
    const anchoredWindows = new Set(
      e.intervals.slice(0, e.anchoredIntervals).flatMap((i) => i.records.map((r) => `${r.shard}/${r.windowIndex}`)),
    );
    let checked = 0;
    for (const r of e.rows.flat()) {
      const w = e.windows[r.shard]!.find((x) => r.seq >= x.firstSeq && r.seq < x.firstSeq + x.count)!;
      if (!anchoredWindows.has(`${r.shard}/${w.index}`)) continue;
      expect((await receipt(r.ballotHash)).code, `shard ${r.shard} seq ${r.seq}`).toBe(EXIT.ok);
      checked++;
    }
    expect(checked).toBe(e.intervals.slice(0, e.anchoredIntervals).reduce((n, i) => n + i.ballotCount, 0));
  });

  it('a ballot of the interval not anchored yet: exit 3', async () => {
    const pending = e.intervals[e.intervals.length - 1]!.records[0]!;
    const r = await receipt(e.rows[pending.shard]![pending.firstSeq]!.ballotHash);
    expect(r.code).toBe(EXIT.notYetAnchored);
    expect(r.where).toEqual([`not-anchored@s${pending.shard}@seq${pending.firstSeq}`]);
  });

  it("a wrong record path, a wrong ballot path, another shard's window: inclusion-proof-invalid", async () => {
    const interval = bundleOf(row).interval!;
    interval.auditPath = [...(interval.auditPath as string[])].reverse();
    expect((await receipt(row.ballotHash)).where).toContain(
      `inclusion-proof-invalid@s${row.shard}@seq${row.seq}@w1@i1`,
    );

    server.bundles.set(row.ballotHash, shardBundleFor(e, row, { chainId: chain.chainId, contract }));
    const inclusion = bundleOf(row).inclusion!;
    inclusion.auditPath = (inclusion.auditPath as string[]).map(() => 'ab'.repeat(32));
    const r = await receipt(row.ballotHash);
    expect(r.code).toBe(EXIT.failed);
    expect(r.report.findings.map((f) => f.message).join('\n')).toMatch(/does not lead to the root/);

    server.bundles.set(row.ballotHash, shardBundleFor(e, row, { chainId: chain.chainId, contract }));
    bundleOf(row).window!.shard = (row.shard + 1) % SHARDS;
    expect((await receipt(row.ballotHash)).report.findings.map((f) => f.code)).toEqual(['inclusion-proof-invalid']);
  });

  it("the bundle's interval figures are only claims: a wrong root there is interval-mismatch, the chain's is used", async () => {
    bundleOf(row).interval!.root = 'cd'.repeat(32);
    const r = await receipt(row.ballotHash);
    expect(r.where).toEqual([`interval-mismatch@s${row.shard}@i1`]);
    expect(r.report.passed.join('\n')).toMatch(/checked by this tool and by the contract/);
  });

  it('a receipt without its shard, or signed without it, does not check', async () => {
    // The ledger key signs the receipt as one of an election of one shard.
    bundleOf(row).receipt = shardReceiptFor(e, row, false);
    const r = await receipt(row.ballotHash);
    expect(r.code).toBe(EXIT.failed);
    expect(r.report.findings.map((f) => f.code)).toContain('receipt-mismatch');
    expect(r.report.findings.find((f) => f.code === 'receipt-mismatch')?.message).toMatch(/names no shard/);

    // The voter's copy with its shard changed: the signature no longer holds.
    server.bundles.set(row.ballotHash, shardBundleFor(e, row, { chainId: chain.chainId, contract }));
    const held = { ...(bundleOf(row).receipt as Record<string, unknown>), shard: (row.shard + 1) % SHARDS };
    const changed = await receipt(held);
    expect(changed.report.findings.map((f) => f.code)).toEqual(
      expect.arrayContaining(['bad-receipt-signature', 'receipt-mismatch']),
    );
  });
});

async function auditApi(): Promise<{ code: number; report: AuditReport; where: string[] }> {
  const report = join(dir, `report-${++files}.json`);
  const run = await cli([
    'audit',
    '--election',
    e.electionId,
    '--api',
    server.url,
    '--rpc',
    chain.rpcUrl,
    '--contract',
    contract,
    '--threads',
    '1',
    '--report',
    report,
    '--json',
  ]);
  const parsed = JSON.parse(run.stdout) as AuditReport;
  return { code: run.code, report: parsed, where: where(parsed.findings) };
}

describe('audit --api of an election of several shards', () => {
  it("passes: the sharded export, the intervals and every shard's windows, page by page", async () => {
    const r = await auditApi();
    const pending = e.intervals[e.intervals.length - 1]!.records;
    expect(r.where.sort()).toEqual(pending.map((x) => `unanchored@s${x.shard}@seq${x.firstSeq}`).sort());
    expect(r.code).toBe(EXIT.ok);
    expect(r.report.chain).toMatchObject({ shards: SHARDS, intervals: e.anchoredIntervals });
    expect(r.report.ledger.rows).toBe(e.rows.flat().length);
    expect(server.requests).toContain(`GET /api/v1/elections/${e.electionId}/intervals?from=2&limit=100`);
    for (let s = 0; s < SHARDS; s++) {
      expect(server.requests).toContain(`GET /api/v1/elections/${e.electionId}/windows?shard=${s}&from=0`);
      // Pages of 2: a shard of more windows is read on.
      if (e.windows[s]!.length > 2)
        expect(server.requests).toContain(`GET /api/v1/elections/${e.electionId}/windows?shard=${s}&from=2`);
    }
  });

  it('a listed window whose root is not its anchored record, or one left out of the list', async () => {
    const served = server.elections.get(e.electionId)!;
    const s = row.shard;
    (served.shardWindows![s]![1] as Record<string, unknown>).root = 'ef'.repeat(32);
    served.shardWindows![(s + 1) % SHARDS]!.splice(0, 1);
    const r = await auditApi();
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain(`window-root-mismatch@s${s}@w1`);
    expect(r.where).toContain(`window-range-mismatch@s${(s + 1) % SHARDS}@w0`);
  });

  it('an interval the server does not list: interval-mismatch, and its windows unanchored', async () => {
    const served = server.elections.get(e.electionId)!;
    served.intervals = served.intervals!.filter((i) => (i as { index: number }).index !== 0);
    const r = await auditApi();
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain('interval-mismatch@i0');
  });
});
