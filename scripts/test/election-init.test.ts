// `tallyproof election init` writes a manifest that `election create` accepts as written, and the committed
// example (docs/examples/manifest.json) is one the API accepts; then the lifecycle the CLI shows: open,
// closed early by `election close`, with the actual close time (docs/operations.md, "Lifecycle").
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestHash, normalizeManifest } from '../../ledger/src/protocol/protocol.js';
import { ballotFor, voters } from '../../test/support/fixtures.js';
import { startStack, type Stack } from '../../test/support/stack.js';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../bin/tallyproof.js', import.meta.url));
const example = fileURLToPath(new URL('../../docs/examples/manifest.json', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tallyproof-init-'));

let stack: Stack;
const cli = (...args: string[]) => run(process.execPath, [bin, ...args]);
const admin = () => ['--api', stack.apiUrl, '--token', stack.adminToken];

beforeAll(async () => {
  // No worker: what is checked here is the API's answer, not the chain.
  stack = await startStack({ worker: false });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('tallyproof election init', () => {
  it('writes a manifest that opens now and closes in 2 h, which election create accepts; an early close shows its own time', async () => {
    const file = join(dir, 'manifest.json');
    const init = await cli('election', 'init', '--out', file, '--election', 'from-init', '--title', 'From init');
    expect(init.stderr).toContain(`election create --manifest ${file}`);
    const written = JSON.parse(readFileSync(file, 'utf8'));
    expect(written).toMatchObject({ version: 1, electionId: 'from-init', title: 'From init', windowSeconds: 60 });
    expect(written.contests).toHaveLength(1);
    expect(Date.parse(written.closesAt) - Date.parse(written.opensAt)).toBe(2 * 3600_000);
    expect(written).not.toHaveProperty('ledgerKey'); // the server fills in its own

    const vs = voters(2, 'from-init-');
    const roll = join(dir, 'roll.txt');
    writeFileSync(roll, vs.map((v) => v.credential).join('\n') + '\n');
    const created = await cli('election', 'create', '--manifest', file, '--roll', roll, ...admin());
    expect(JSON.parse(created.stdout)).toMatchObject({ electionId: 'from-init', rollSize: 2 });

    const shown = JSON.parse((await cli('election', 'show', '--election', 'from-init', '--api', stack.apiUrl)).stdout);
    expect(shown).toMatchObject({ status: 'open', closedAt: null, result: null });
    expect(shown.manifest).toMatchObject({ ...written, ledgerKey: stack.ledgerKey.publicKeyHex });

    // It takes ballots at once, its one contest as written (a blank vote allowed).
    const cast = await fetch(`${stack.apiUrl}/api/v1/elections/from-init/ballots`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ballotFor(vs[0]!, 'from-init', { q1: [] })),
    });
    expect(cast.status).toBe(201);

    // Closed early: the close's output and `election show` give the actual close time, not closesAt.
    const closed = JSON.parse((await cli('election', 'close', '--election', 'from-init', ...admin())).stdout);
    expect(Date.parse(closed.closedAt)).toBeLessThan(Date.parse(written.closesAt));
    const after = JSON.parse((await cli('election', 'show', '--election', 'from-init', '--api', stack.apiUrl)).stdout);
    expect(after).toMatchObject({
      status: 'closed',
      closedAt: closed.closedAt,
      result: { resultHash: closed.resultHash, totalBallots: 1 },
    });
  });

  it('refuses an invalid id and an existing file (exit 2), and prints to stdout without --out', async () => {
    await expect(cli('election', 'init', '--election', 'Not An Id')).rejects.toMatchObject({ code: 2 });
    const file = join(dir, 'exists.json');
    writeFileSync(file, 'keep me');
    await expect(cli('election', 'init', '--out', file)).rejects.toMatchObject({ code: 2 });
    expect(readFileSync(file, 'utf8')).toBe('keep me');
    const printed = JSON.parse((await cli('election', 'init', '--open-for', '7d', '--opens-in', '1h')).stdout);
    expect(Date.parse(printed.closesAt) - Date.parse(printed.opensAt)).toBe(7 * 86_400_000);
    expect(Date.parse(printed.opensAt)).toBeGreaterThan(Date.now());
  });
});

describe('docs/examples/manifest.json', () => {
  it('is accepted by the API as written', async () => {
    const text = readFileSync(example, 'utf8');
    const manifest = JSON.parse(text);
    const roll = join(dir, 'example-roll.txt');
    writeFileSync(
      roll,
      voters(3, 'example-')
        .map((v) => `${v.credential}\n`)
        .join(''),
    );
    const created = JSON.parse(
      (await cli('election', 'create', '--manifest', example, '--roll', roll, ...admin())).stdout,
    );
    const stored = normalizeManifest(manifest, stack.ledgerKey.publicKeyHex);
    expect(created).toMatchObject({
      electionId: manifest.electionId,
      manifestHash: manifestHash(stored).toString('hex'),
      rollSize: 3,
    });
    const view = await (await fetch(`${stack.apiUrl}/api/v1/elections/${manifest.electionId}`)).json();
    expect(view).toMatchObject({ manifest: stored, status: 'scheduled', closedAt: null });
  });
});
