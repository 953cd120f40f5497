// Tiles (#18) end to end: the whole stack (API, anchor worker, anvil, PostgreSQL) and `tallyproof-verify`, the
// independent implementation, reading the tiles the server serves. A receipt is checked from the API's tiles base
// (no proof bundle), and from an observer's copy made by `tiles save` (no API at all); a tile changed in the copy
// fails it. After two ballots of one window are swapped in the ledger (the test plays an operator going around
// the triggers), `audit --tiles COPY` names both seqs; `audit --tiles <API base>` passes before, and after says
// the server's entry bundles (read from the changed ledger) disagree with its hash tiles (stored at sealing) and
// names both seqs from those alone. The same for an election of several shards: its copy holds every shard's
// windows, and a receipt checks from it.
import { hash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../api/test/helper.js';
import type { AuditReport } from '../verifier-cli/src/audit/audit.js';
import { runCli } from '../verifier-cli/src/cli.js';
import type { ReceiptReport } from '../verifier-cli/src/commands/receipt.js';
import type { TilesSaveReport } from '../verifier-cli/src/commands/tiles-save.js';
import { ballotFor, selectionsFor, testManifest, voters } from './support/fixtures.js';
import { startStack, type Stack } from './support/stack.js';
import { until } from './support/wait.js';

let stack: Stack;
let dir: string;

async function verify(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr };
}

/** Creates an election, sends one ballot per voter in two rounds (so at least two windows), waits for every anchor. */
async function election(id: string, n: number, shards?: number): Promise<{ receipt: Record<string, unknown> }[]> {
  const vs = voters(n, `${id}-`);
  const manifest = testManifest(id, stack.ledgerKey.publicKeyHex, { windowSeconds: 1, ...(shards ? { shards } : {}) });
  const created = await request(stack.apiUrl, 'POST', '/api/v1/elections', {
    headers: { authorization: `Bearer ${stack.adminToken}` },
    json: { manifest, roll: vs.map((v) => v.credential) },
  });
  expect(created.status).toBe(201);
  await until(
    'registration',
    async () => {
      const e = await request(stack.apiUrl, 'GET', `/api/v1/elections/${id}`);
      return e.body.registration !== null;
    },
    60_000,
  );
  const send = (from: number, to: number) =>
    Promise.all(
      vs.slice(from, to).map((v, k) =>
        request(stack.apiUrl, 'POST', `/api/v1/elections/${id}/ballots`, {
          json: ballotFor(v, id, selectionsFor(from + k)),
        }),
      ),
    );
  const first = await send(0, Math.floor(n / 2));
  await until(
    'the first window anchored',
    async () => {
      const b = await request(stack.apiUrl, 'GET', `/api/v1/receipts/${first[0]!.body.receipt.ballotHash}`);
      return b.body.status === 'anchored';
    },
    60_000,
  );
  const sent = [...first, ...(await send(Math.floor(n / 2), n))];
  expect(sent.every((r) => r.status === 201)).toBe(true);
  for (const r of sent)
    await until(
      `anchor of ${r.body.receipt.ballotHash}`,
      async () => {
        const b = await request(stack.apiUrl, 'GET', `/api/v1/receipts/${r.body.receipt.ballotHash}`);
        return b.body.status === 'anchored';
      },
      60_000,
    );
  return sent.map((r) => ({ receipt: r.body.receipt }));
}

function receiptFile(receipt: unknown, name: string): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(receipt));
  return path;
}

beforeAll(async () => {
  stack = await startStack();
  dir = mkdtempSync(join(tmpdir(), 'tallyproof-tiles-verify-'));
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('tiles on the whole stack, read by the verifier', () => {
  it('receipt from the tiles, tiles save, and audit --tiles naming the seqs of a swap', async () => {
    const E = 'tiles-stack';
    const sent = await election(E, 40);
    const base = `${stack.apiUrl}/api/v1/elections/`;
    const chainArgs = ['--rpc', stack.rpcUrl, '--contract', stack.contractAddress];

    // A receipt checked from the API's tiles (and the manifest at the same base), no proof bundle.
    for (const k of [0, 39]) {
      const file = receiptFile(sent[k]!.receipt, `receipt-${k}`);
      const r = await verify(['receipt', file, '--tiles', base, ...chainArgs, '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as ReceiptReport;
      expect(report).toMatchObject({ verdict: 'anchored', proofFrom: 'tiles', seq: sent[k]!.receipt.seq });
    }

    // The observer's copy, checked against the roots on chain; then the receipt from the copy alone.
    const copy = join(dir, 'copy');
    const saved = await verify([
      'tiles',
      'save',
      '--api',
      stack.apiUrl,
      '--election',
      E,
      '--out',
      copy,
      ...chainArgs,
      '--json',
    ]);
    expect(saved.code, saved.stdout + saved.stderr).toBe(0);
    const save = JSON.parse(saved.stdout) as TilesSaveReport;
    expect(save.rootsFrom).toBe('chain');
    expect(save.windows.length).toBeGreaterThanOrEqual(2);
    expect(save.windows.every((w) => w.status === 'saved')).toBe(true);
    expect(save.windows.reduce((n, w) => n + w.count, 0)).toBe(40);
    const again = JSON.parse(
      (await verify(['tiles', 'save', '--api', stack.apiUrl, '--election', E, '--out', copy, ...chainArgs, '--json']))
        .stdout,
    ) as TilesSaveReport;
    expect(again.totals.downloaded).toBe(0);
    // Without the chain: the roots the server lists (sealed windows), said so.
    const unpinned = await verify([
      'tiles',
      'save',
      '--api',
      stack.apiUrl,
      '--election',
      E,
      '--out',
      join(dir, 'copy-2'),
    ]);
    expect(unpinned.code, unpinned.stdout + unpinned.stderr).toBe(0);
    expect(unpinned.stdout).toContain(
      "roots from the server's windows list (GET …/windows), not checked against the chain",
    );

    const seq = sent[5]!.receipt.seq as number;
    const fromCopy = await verify([
      'receipt',
      receiptFile(sent[5]!.receipt, 'receipt-5'),
      '--tiles',
      copy,
      ...chainArgs,
    ]);
    expect(fromCopy.code, fromCopy.stdout).toBe(0);

    // A tile of the copy changed at the receipt's leaf: a clear failure.
    const w = save.windows.find((x) => seq >= x.firstSeq && seq < x.firstSeq + x.count)!;
    const tile = join(copy, E, 'windows', String(w.index), 'tile', '0', w.count >= 256 ? '000' : `000.p/${w.count}`);
    const bytes = readFileSync(tile);
    const leaf = (seq - w.firstSeq) * 32;
    bytes[leaf] = bytes[leaf]! ^ 0xff;
    writeFileSync(tile, bytes);
    const spoiled = await verify([
      'receipt',
      receiptFile(sent[5]!.receipt, 'receipt-5b'),
      '--tiles',
      copy,
      ...chainArgs,
      '--json',
    ]);
    expect(spoiled.code).toBe(1);
    const spoiledReport = JSON.parse(spoiled.stdout) as ReceiptReport;
    expect(spoiledReport.findings.map((f) => f.code)).toEqual(['inclusion-proof-invalid']);
    expect(spoiledReport.findings[0]!.message).toMatch(
      /holds leaf hash [0-9a-f]{64} at leaf \d+, not H\(0x00 \|\| ballot hash\)/,
    );
    bytes[leaf] = bytes[leaf]! ^ 0xff;
    writeFileSync(tile, bytes);

    // The whole audit with the API's tiles: clean.
    const audit = async (tiles: string) => {
      const report = join(dir, `audit-${Math.random().toString(36).slice(2)}.json`);
      const r = await verify(
        ['audit', '--election', E, '--api', stack.apiUrl, ...chainArgs, '--threads', '0'].concat([
          '--no-progress',
          '--tiles',
          tiles,
          '--report',
          report,
        ]),
      );
      return { ...r, report: JSON.parse(readFileSync(report, 'utf8')) as AuditReport };
    };
    const clean = await audit(base);
    expect(clean.code, JSON.stringify(clean.report.findings)).toBe(0);

    // Two ballots of one window swapped in the ledger (each row keeps its seq): the copy names both seqs.
    const big = save.windows.reduce((a, b) => (b.count > a.count ? b : a));
    const [a, b] = [big.firstSeq, big.firstSeq + big.count - 1];
    await stack.db.admin.begin(async (tx) => {
      await tx`ALTER TABLE ballots DISABLE TRIGGER ballots_no_update`;
      const park = 2 ** 40;
      await tx`UPDATE ballots SET seq = ${park} WHERE election_id = ${E} AND seq = ${a}`;
      await tx`UPDATE ballots SET seq = ${a} WHERE election_id = ${E} AND seq = ${b}`;
      await tx`UPDATE ballots SET seq = ${b} WHERE election_id = ${E} AND seq = ${park}`;
      await tx`ALTER TABLE ballots ENABLE TRIGGER ballots_no_update`;
    });
    const tampered = await audit(copy);
    expect(tampered.code).toBe(1);
    const named = tampered.report.findings
      .filter((f) => f.code === 'window-root-mismatch')
      .map((f) => [f.window, f.seq]);
    expect(named).toEqual([
      [big.index, undefined],
      [big.index, a],
      [big.index, b],
    ]);
    // The server's own hash tiles were stored at sealing and still give the root on chain, but its entry bundles
    // are read from the changed ledger: they disagree with its hash tiles, which the audit says, and the hash
    // tiles alone name both seqs, with the leaf hash each held then.
    const live = await audit(base);
    expect(live.code).toBe(1);
    const liveFindings = live.report.findings.filter((f) => f.code === 'window-root-mismatch');
    expect(liveFindings.map((f) => [f.window, f.seq])).toEqual(named);
    expect(liveFindings[0]!.message).toMatch(
      /the entry bundle tile\/entries\/000(\.p\/\d+)? in \S+ is inconsistent with the hash tiles \(its entries at seq \d+, seq \d+ do not hash/,
    );
    expect(liveFindings[0]!.message).not.toContain('do not locate the change');
    const ballotHashAt = (s: number) => sent.find((r) => r.receipt.seq === s)!.receipt.ballotHash as string;
    const leafHash = (h: string) => hash('sha256', Buffer.concat([Buffer.of(0), Buffer.from(h, 'hex')]), 'hex');
    for (const [f, was, now] of [
      [liveFindings[1]!, a, b],
      [liveFindings[2]!, b, a],
    ] as const)
      expect(f.message).toContain(
        `(a ballot whose leaf hash was ${leafHash(ballotHashAt(was))} (its entry bundle is inconsistent with the ` +
          `hash tiles) then, ballot hash ${ballotHashAt(now)} now)`,
      );
  }, 240_000);

  it("several shards: tiles save keeps every shard's windows; a receipt checks from the API's base and the copy", async () => {
    const E = 'tiles-stack-shards';
    const sent = await election(E, 24, 3);
    const chainArgs = ['--rpc', stack.rpcUrl, '--contract', stack.contractAddress];
    const copy = join(dir, 'copy-shards');
    const saved = await verify([
      'tiles',
      'save',
      '--api',
      stack.apiUrl,
      '--election',
      E,
      '--out',
      copy,
      ...chainArgs,
      '--json',
    ]);
    expect(saved.code, saved.stdout + saved.stderr).toBe(0);
    const save = JSON.parse(saved.stdout) as TilesSaveReport;
    expect(save.shards).toBe(3);
    expect(new Set(save.windows.map((w) => w.shard))).toEqual(new Set([0, 1, 2]));
    expect(save.windows.reduce((n, w) => n + w.count, 0)).toBe(24);

    for (const tiles of [`${stack.apiUrl}/api/v1/elections/`, copy]) {
      const r = await verify([
        'receipt',
        receiptFile(sent[3]!.receipt, 'shard-receipt'),
        '--tiles',
        tiles,
        ...chainArgs,
        '--json',
      ]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as ReceiptReport;
      expect(report).toMatchObject({ verdict: 'anchored', shard: sent[3]!.receipt.shard, proofFrom: 'tiles' });
      expect(report.interval).toBeDefined();
    }
  }, 240_000);
});
