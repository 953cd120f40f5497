// `receipt`, `roots`, and `audit --api` against a real chain (anvil) and a small local HTTP server that
// serves what each test puts in it — honest bundles, or a wrong proof, a changed receipt, a pending
// status, a 404.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deployTallyAnchor, tallyAnchor } from '../../contracts/index.js';
import { anvilProvider, startAnvil, type AnvilNode } from '../../test/support/anvil.js';
import type { AuditReport } from '../src/audit/audit.js';
import type { ReceiptReport } from '../src/commands/receipt.js';
import type { RootsReport } from '../src/commands/roots.js';
import { EXIT } from '../src/errors.js';
import {
  anchorElection,
  buildElection,
  bundleFor,
  manifestHashHex,
  receiptFor,
  resultsOf,
  rollRootHex,
  rowLine,
  type TestElection,
} from './support/election.js';
import { startFakeServer, type FakeServer } from './support/fake-server.js';
import { cli, where } from './support/run.js';

let chain: AnvilNode;
let contract: string;
let server: FakeServer;
let dir: string;
let e: TestElection;

beforeAll(async () => {
  chain = await startAnvil();
  const wallet = new Wallet(chain.accounts[0]!.privateKey, anvilProvider(chain));
  contract = (await deployTallyAnchor(wallet)).address;
  // 14 ballots: windows seq 0..6 and 7..11 anchored, 12 and 13 not yet (the election is open).
  e = buildElection({ electionId: 'receipt-2026', voters: 14, windowSizes: [7, 5] });
  await anchorElection(tallyAnchor(contract, wallet), e, { close: false });
  server = await startFakeServer();
  dir = mkdtempSync(join(tmpdir(), 'tallyproof-verify-receipt-'));
});

afterAll(async () => {
  await server?.close();
  await chain?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Serve the honest election and every ballot's honest bundle. */
beforeEach(() => {
  server.elections.set(e.electionId, {
    info: {
      manifest: e.manifest,
      manifestHash: manifestHashHex(e.manifest),
      rollRoot: rollRootHex(e.roll),
      rollSize: e.roll.length,
      status: 'open',
      chainId: chain.chainId,
      contract,
      registration: { txHash: `0x${'00'.repeat(32)}`, blockNumber: 2 },
    },
    roll: e.roll,
    results: resultsOf(e),
    ledgerLines: e.rows.map(rowLine),
  });
  server.bundles.clear();
  for (const row of e.rows) server.bundles.set(row.ballotHash, bundleFor(e, row, { chainId: chain.chainId, contract }));
});

let files = 0;
function receiptFile(receipt: unknown, wrap = false): string {
  const path = join(dir, `receipt-${++files}.json`);
  writeFileSync(path, JSON.stringify(wrap ? { receipt } : receipt));
  return path;
}

async function receipt(
  input: string,
  extra: string[] = ['--contract', contract],
): Promise<{ code: number; report: ReceiptReport; stdout: string; where: string[] }> {
  const run = await cli(['receipt', input, '--api', server.url, '--rpc', chain.rpcUrl, ...extra, '--json']);
  expect(run.stderr).toBe('');
  const report = JSON.parse(run.stdout) as ReceiptReport;
  return { code: run.code, report, stdout: run.stdout, where: where(report.findings) };
}

describe('receipt', () => {
  it('verifies an anchored ballot from the receipt file (exit 0), and from its hash alone', async () => {
    const row = e.rows[9]!;
    const r = await receipt(receiptFile(receiptFor(e, row), true));
    expect(r.report.findings).toEqual([]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.report.verdict).toBe('anchored');
    expect(r.report).toMatchObject({
      seq: 9,
      leafIndex: 2,
      window: { index: 1, firstSeq: 7, count: 5, root: e.windows[1]!.root },
    });
    expect(r.report.passed.join('\n')).toMatch(/checked by this tool and by the contract/);

    const byHash = await receipt(row.ballotHash);
    expect(byHash.code).toBe(EXIT.ok);

    const text = await cli([
      'receipt',
      row.ballotHash,
      '--api',
      server.url,
      '--rpc',
      chain.rpcUrl,
      '--contract',
      contract,
    ]);
    expect(text.stdout).toMatch(/VERIFIED/);
    expect(text.stdout).toMatch(/leaf 2 of window 1 \(seq 7\.\.11\)/);
  });

  it('every leaf of every window verifies, including single-leaf paths', async () => {
    for (const row of e.rows.slice(0, 12)) expect((await receipt(row.ballotHash)).code, `seq ${row.seq}`).toBe(EXIT.ok);
  });

  it('reads the contract address from the server when not pinned, and says so', async () => {
    const r = await receipt(e.rows[0]!.ballotHash, []);
    expect(r.code).toBe(EXIT.ok);
    expect(r.report.chain?.contractFrom).toBe('server');
  });

  it('a wrong proof served by the server: inclusion-proof-invalid, naming the seq and window', async () => {
    const row = e.rows[3]!;
    const bundle = structuredClone(bundleFor(e, row, { chainId: chain.chainId, contract })) as {
      inclusion: { auditPath: string[] };
    };
    bundle.inclusion.auditPath[1] = 'cd'.repeat(32);
    server.bundles.set(row.ballotHash, bundle);
    const r = await receipt(receiptFile(receiptFor(e, row)));
    expect(r.code).toBe(EXIT.failed);
    expect(r.report.verdict).toBe('invalid');
    expect(r.where).toEqual(['inclusion-proof-invalid@seq3@w0', 'inclusion-proof-invalid@seq3@w0']); // own check and the contract's
  });

  it("a proof for another leaf, a truncated path, a claimed root that is not the chain's", async () => {
    const row = e.rows[4]!;
    const honest = bundleFor(e, row, { chainId: chain.chainId, contract }) as {
      inclusion: { leafIndex: number; auditPath: string[] };
      window: { root: string };
    };

    server.bundles.set(row.ballotHash, { ...honest, inclusion: { ...honest.inclusion, leafIndex: 5 } });
    expect((await receipt(row.ballotHash)).where).toEqual(['inclusion-proof-invalid@seq4@w0']);

    server.bundles.set(row.ballotHash, {
      ...honest,
      inclusion: { ...honest.inclusion, auditPath: honest.inclusion.auditPath.slice(1) },
    });
    expect((await receipt(row.ballotHash)).where).toEqual(['inclusion-proof-invalid@seq4@w0']);

    server.bundles.set(row.ballotHash, { ...honest, window: { ...honest.window, root: 'ef'.repeat(32) } });
    const r = await receipt(row.ballotHash);
    expect(r.where).toEqual(['window-root-mismatch@seq4@w0']);
    expect(r.code).toBe(EXIT.failed);
  });

  it('the server holds another receipt than the voter: receipt-mismatch', async () => {
    const row = e.rows[5]!;
    const held = receiptFor(e, { ...row, receivedAt: '2026-01-01T00:00:00.000Z' });
    const r = await receipt(receiptFile(held));
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain('receipt-mismatch@seq5');
  });

  it('a receipt not signed by the ledger key: bad-receipt-signature', async () => {
    const row = e.rows[6]!;
    const held = { ...receiptFor(e, row), seq: 99 };
    const r = await receipt(receiptFile(held));
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain('bad-receipt-signature@seq99');
  });

  it('a pending ballot: not anchored yet (exit 3); overdue once the promise expired (exit 1)', async () => {
    const row = e.rows[12]!;
    const fresh = await receipt(receiptFile(receiptFor(e, row)));
    expect(fresh.code).toBe(EXIT.notYetAnchored);
    expect(fresh.report.verdict).toBe('not-anchored');
    expect(fresh.where).toEqual(['not-anchored@seq12']);

    const oldRow = { ...e.rows[13]!, receivedAt: new Date(Date.now() - 3_600_000).toISOString() };
    server.bundles.set(oldRow.ballotHash, { receipt: receiptFor(e, oldRow), status: 'sealed' });
    const overdue = await receipt(receiptFile(receiptFor(e, oldRow)));
    expect(overdue.code).toBe(EXIT.failed);
    expect(overdue.where).toEqual(['anchor-overdue@seq13']);
  });

  it('a receipt the server no longer knows: missing-ballot', async () => {
    const row = e.rows[2]!;
    server.bundles.delete(row.ballotHash);
    const r = await receipt(receiptFile(receiptFor(e, row)));
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toEqual(['missing-ballot@seq2']);
  });

  it('usage errors exit 2', async () => {
    expect((await cli(['receipt', 'not-a-hash-nor-a-file', '--api', server.url, '--rpc', chain.rpcUrl])).code).toBe(
      EXIT.usage,
    );
    expect((await cli(['receipt', e.rows[0]!.ballotHash, '--rpc', chain.rpcUrl])).code).toBe(EXIT.usage);
    const bad = join(dir, 'bad-receipt.json');
    writeFileSync(bad, '{"version":1}');
    expect((await cli(['receipt', bad, '--api', server.url, '--rpc', chain.rpcUrl])).code).toBe(EXIT.usage);
  });
});

describe('roots', () => {
  it('lists registration and windows from the chain (JSON and table)', async () => {
    const run = await cli([
      'roots',
      '--rpc',
      chain.rpcUrl,
      '--contract',
      contract,
      '--election',
      e.electionId,
      '--json',
      '--logs',
    ]);
    expect(run.code).toBe(EXIT.ok);
    const report = JSON.parse(run.stdout) as RootsReport;
    expect(report.registration).toMatchObject({
      manifestHash: manifestHashHex(e.manifest),
      rollRoot: rollRootHex(e.roll),
    });
    expect(report.windows.map((w) => [w.index, w.firstSeq, w.count, w.root])).toEqual(
      e.windows.map((w) => [w.index, w.firstSeq, w.count, w.root]),
    );
    expect(report.windows.every((w) => w.tx?.txHash.startsWith('0x'))).toBe(true);
    expect(report.close).toBeNull();
    expect(report.anchoredBallots).toBe(12);

    const table = await cli(['roots', '--rpc', chain.rpcUrl, '--contract', contract, '--election', e.electionId]);
    expect(table.stdout).toMatch(/window\s+firstSeq\s+lastSeq\s+count\s+root\s+anchoredAt/);
    expect(table.stdout).toContain(e.windows[1]!.root);
    expect(table.stdout).toMatch(/not closed/);
  });

  it('an unknown election: not-registered, exit 1', async () => {
    const run = await cli(['roots', '--rpc', chain.rpcUrl, '--contract', contract, '--election', 'nobody-2026']);
    expect(run.code).toBe(EXIT.failed);
    expect(run.stdout).toMatch(/not registered/);
  });
});

describe('audit --api', () => {
  const auditApi = async (extra: string[] = []): Promise<{ code: number; report: AuditReport }> => {
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
      '--json',
      ...extra,
    ]);
    expect(run.stderr).toBe('');
    return { code: run.code, report: JSON.parse(run.stdout) as AuditReport };
  };

  it('audits the same way from the API: an open election with two unanchored ballots passes', async () => {
    const { code, report } = await auditApi();
    expect(where(report.findings)).toEqual(['unanchored@seq12']);
    expect(code).toBe(EXIT.ok);
    expect(report.source).toMatch(/\(API\)$/);
    expect(server.requests).toContain(`GET /api/v1/elections/${e.electionId}/ledger?from=0`);
    expect(server.requests).toContain(`GET /api/v1/elections/${e.electionId}/roll`);
  });

  it('finds a row the server changed', async () => {
    const lines = e.rows.map(rowLine);
    const tampered = { ...e.rows[8]!, ballotText: e.rows[8]!.ballotText.replace('"oui"', '"non"') };
    lines[8] = rowLine(tampered);
    server.elections.get(e.electionId)!.ledgerLines = lines;
    const { code, report } = await auditApi();
    expect(code).toBe(EXIT.failed);
    expect(where(report.findings)).toContain('bad-signature@seq8');
    expect(where(report.findings)).toContain('window-root-mismatch@w1');
  });

  it('reads the NDJSON roll however it is laid out: any order, CRLF, blank lines, escapes', async () => {
    const keys = e.roll.slice().reverse();
    const lines = keys.map((k, i) =>
      i === 1
        ? JSON.stringify(k).replace('"' + k[0], '"\\u00' + k[0]!.charCodeAt(0).toString(16))
        : i === 2
          ? `  ${JSON.stringify(k)} `
          : JSON.stringify(k),
    );
    server.elections.get(e.electionId)!.rollBody = '\r\n' + lines.join('\r\n') + '\r\n\r\n';
    server.elections.get(e.electionId)!.rollSizeHeader = String(keys.length);
    const { code, report } = await auditApi();
    expect(code).toBe(EXIT.ok);
    expect(where(report.findings)).toEqual(['unanchored@seq12']);
  });

  it('also takes a roll served as a JSON array (application/json)', async () => {
    server.elections.get(e.electionId)!.rollAsJsonArray = true;
    const { code, report } = await auditApi();
    expect(code).toBe(EXIT.ok);
    expect(where(report.findings)).toEqual(['unanchored@seq12']);
  });

  it('a served roll that is not the registered one: roll-root-mismatch (the roll is checked against the chain)', async () => {
    const served = server.elections.get(e.electionId)!;
    served.roll = e.roll.slice(1);
    const { code, report } = await auditApi();
    expect(code).toBe(EXIT.failed);
    expect(where(report.findings)).toContain('roll-root-mismatch');
    expect(where(report.findings)).toContain('not-on-roll@seq0');
  });

  it('a malformed roll line: exit 2, naming the line', async () => {
    const served = server.elections.get(e.electionId)!;
    served.rollBody =
      [
        JSON.stringify(e.roll[0]),
        JSON.stringify(e.roll[1]),
        e.roll[2]!.slice(0, 20) + '{',
        JSON.stringify(e.roll[3]),
      ].join('\n') + '\n';
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
      '0',
    ]);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(/\/roll: line 3 is not a JSON string/);
  });

  it('a roll stream shorter than its X-Roll-Size: exit 2', async () => {
    server.elections.get(e.electionId)!.rollSizeHeader = String(e.roll.length + 1);
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
      '0',
    ]);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(/X-Roll-Size/);
  });

  it('without a roll route, asks for --roll FILE (exit 2); --roll FILE overrides the route', async () => {
    const served = server.elections.get(e.electionId)!;
    delete served.roll;
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
      '0',
    ]);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(/--roll FILE/);
    const roll = join(dir, 'roll.json');
    writeFileSync(roll, JSON.stringify(e.roll));
    expect((await auditApi(['--roll', roll])).code).toBe(EXIT.ok);
    // With a roll route that serves a wrong roll, the file still wins: the route is not asked.
    served.roll = e.roll.slice(1);
    server.requests.length = 0;
    const { code, report } = await auditApi(['--roll', roll]);
    expect(code).toBe(EXIT.ok);
    expect(where(report.findings)).toEqual(['unanchored@seq12']);
    expect(server.requests).not.toContain(`GET /api/v1/elections/${e.electionId}/roll`);
  });
});
