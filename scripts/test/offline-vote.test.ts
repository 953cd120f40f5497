// `tallyproof vote --offline` and `tallyproof submit` against a real API (in-process stack): a ballot is
// signed with no network (the manifest from a file `election show` wrote), sent later, sent again
// harmlessly (the same receipt, one ballot in the ledger); another ballot of the same credential is
// refused (exit 2); a ballot that comes after the close is told so (exit 3), unless an earlier send got it
// in before the close, whose receipt is then recovered.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../test/support/stack.js';
import { ballotFor, testManifest, voters, type Voter } from '../../test/support/fixtures.js';
import { ballotHash } from '../../ledger/src/protocol/protocol.js';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../bin/tallyproof.js', import.meta.url));
/** Nothing listens there: a command given it works without the network or fails. */
const NO_API = 'http://127.0.0.1:9';

let stack: Stack;
let dir: string;

beforeAll(async () => {
  stack = await startStack();
  dir = mkdtempSync(join(tmpdir(), 'tallyproof-offline-'));
});
afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd: dir });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** An open election with three voters; its credentials file; its manifest file as `election show` prints it. */
async function election(id: string): Promise<{ vs: Voter[]; credentials: string; manifest: string }> {
  const vs = voters(3, `${id}-`);
  const res = await fetch(`${stack.apiUrl}/api/v1/elections`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.adminToken}` },
    body: JSON.stringify({
      manifest: testManifest(id, stack.ledgerKey.publicKeyHex, { windowSeconds: 1 }),
      roll: vs.map((v) => v.credential),
    }),
  });
  expect(res.status).toBe(201);
  const credentials = join(dir, `${id}-credentials.jsonl`);
  writeFileSync(
    credentials,
    vs.map((v) => `${JSON.stringify({ credential: v.credential, seed: v.seed.toString('hex') })}\n`).join(''),
  );
  const show = await cli(['election', 'show', '--api', stack.apiUrl, '--election', id]);
  expect(show.code, show.stderr).toBe(0);
  const manifest = join(dir, `${id}-election.json`);
  writeFileSync(manifest, show.stdout);
  return { vs, credentials, manifest };
}

/** Sign offline: the API given is unreachable, so nothing can have been asked of it. */
function signOffline(id: string, f: { credentials: string; manifest: string }, v: Voter, choose: string, out: string) {
  return cli([
    'vote',
    '--offline',
    '--api',
    NO_API,
    '--election',
    id,
    '--manifest',
    f.manifest,
    '--credential',
    f.credentials,
    '--voter',
    v.credential,
    '--choose',
    choose,
    '--out',
    out,
  ]);
}

async function totalBallots(id: string): Promise<number> {
  const r = (await (await fetch(`${stack.apiUrl}/api/v1/elections/${id}/results`)).json()) as { totalBallots: number };
  return r.totalBallots;
}

describe('tallyproof vote --offline, then submit', () => {
  it('signs without a network, sends later, and a second send is harmless', async () => {
    const id = 'offline-cli';
    const f = await election(id);
    const v = f.vs[0]!;
    const ballotFile = join(dir, 'ballot.json');
    const signed = await signOffline(id, f, v, 'q1=oui', ballotFile);
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout).toContain(`tallyproof submit ${ballotFile} --api ${NO_API}`);
    // Exactly the body a POST sends (the reference implementation signs the same bytes), and nothing sent.
    const expected = ballotFor(v, id, { q1: ['oui'], council: [] });
    expect(readFileSync(ballotFile, 'utf8')).toBe(`${JSON.stringify(expected)}\n`);
    expect(await totalBallots(id)).toBe(0);

    const receiptFile = join(dir, 'receipt.json');
    const first = await cli(['submit', ballotFile, '--api', stack.apiUrl, '--out', receiptFile]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('vote cast: seq 0');
    const receipt = readFileSync(receiptFile, 'utf8');
    expect(JSON.parse(receipt).ballotHash).toBe(ballotHash(expected).toString('hex'));

    const second = await cli(['submit', ballotFile, '--api', stack.apiUrl, '--out', receiptFile]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('vote already recorded: seq 0');
    expect(readFileSync(receiptFile, 'utf8')).toBe(receipt);
    expect(await totalBallots(id)).toBe(1);

    // Another ballot of the same credential, signed offline too: refused, the first one stays.
    const other = join(dir, 'other.json');
    expect((await signOffline(id, f, v, 'q1=non', other)).code).toBe(0);
    const refused = await cli(['submit', other, '--api', stack.apiUrl, '--out', join(dir, 'other-receipt.json')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('this credential has already voted');
    expect(await totalBallots(id)).toBe(1);
  }, 60_000);

  it('a manifest file that is not the election, or whose hash does not match, is refused before signing', async () => {
    const id = 'offline-cli-manifest';
    const f = await election(id);
    const tampered = JSON.parse(readFileSync(f.manifest, 'utf8'));
    tampered.manifest.title = 'Another title';
    const file = join(dir, 'tampered.json');
    writeFileSync(file, JSON.stringify(tampered));
    const r = await signOffline(id, { ...f, manifest: file }, f.vs[0]!, 'q1=oui', join(dir, 'never.json'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('does not hash to the manifestHash');
    const wrong = await signOffline('offline-cli', f, f.vs[0]!, 'q1=oui', join(dir, 'never.json'));
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(`is the manifest of ${id}, not offline-cli`);
  }, 60_000);

  it('a ballot that arrives after the close is told it was not counted (exit 3); one already in gets its receipt', async () => {
    const id = 'offline-cli-late';
    const f = await election(id);
    const late = join(dir, 'late.json');
    const early = join(dir, 'early.json');
    expect((await signOffline(id, f, f.vs[0]!, 'q1=oui', late)).code).toBe(0);
    expect((await signOffline(id, f, f.vs[1]!, 'q1=non', early)).code).toBe(0);
    const earlyReceipt = join(dir, 'early-receipt.json');
    expect((await cli(['submit', early, '--api', stack.apiUrl, '--out', earlyReceipt])).code).toBe(0);
    const receipt = readFileSync(earlyReceipt, 'utf8');

    const close = await fetch(`${stack.apiUrl}/api/v1/elections/${id}/close`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.adminToken}` },
    });
    expect(close.status).toBe(202);

    const r = await cli(['submit', late, '--api', stack.apiUrl, '--out', join(dir, 'late-receipt.json')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /the election closed at \d{4}-\d\d-\d\dT[\d:.]+Z before this ballot reached the ballot box; it was not counted/,
    );
    // The early ballot sent again after the close (its first answer taken for lost): its receipt, exit 0.
    const again = await cli(['submit', early, '--api', stack.apiUrl, '--out', earlyReceipt]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('vote already recorded');
    expect(readFileSync(earlyReceipt, 'utf8')).toBe(receipt);
    expect(await totalBallots(id)).toBe(1);
  }, 60_000);
});
