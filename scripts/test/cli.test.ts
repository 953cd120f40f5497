import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyPairFromSeed } from '../../ledger/src/protocol/ed25519.js';
import { validateRoll } from '../../ledger/src/index.js';
import { startStack, type Stack } from '../../test/support/stack.js';
import { testManifest, voters } from '../../test/support/fixtures.js';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../bin/tallyproof.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tallyproof-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tallyproof credentials', () => {
  it('generate writes a valid roll and matching private credentials, and refuses to overwrite them', async () => {
    const roll = join(dir, 'roll.txt');
    const creds = join(dir, 'creds.jsonl');
    await run(process.execPath, [
      bin,
      'credentials',
      'generate',
      '--count',
      '250',
      '--roll',
      roll,
      '--credentials',
      creds,
    ]);
    const keys = readFileSync(roll, 'utf8').trim().split('\n');
    const lines = readFileSync(creds, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { credential: string; seed: string });
    expect(keys.length).toBe(250);
    expect((await validateRoll(keys)).length).toBe(250);
    expect(lines.map((l) => l.credential)).toEqual(keys);
    for (const l of lines.slice(0, 20))
      expect(keyPairFromSeed(Buffer.from(l.seed, 'hex')).publicKey.toString('hex')).toBe(l.credential);
    await expect(
      run(process.execPath, [bin, 'credentials', 'generate', '--count', '1', '--roll', roll, '--credentials', creds]),
    ).rejects.toMatchObject({ code: 2 });
  });

  it('derive reproduces the credential test vectors', async () => {
    const vectors = JSON.parse(
      readFileSync(new URL('../../docs/test-vectors/credentials.json', import.meta.url), 'utf8'),
    ).cases.filter((c: { electionId: string }) => c.electionId === 'vectors-2026');
    const secrets = join(dir, 'secrets.txt');
    writeFileSync(secrets, vectors.map((c: { secret: string }) => c.secret).join('\n') + '\n');
    const roll = join(dir, 'derived-roll.txt');
    const creds = join(dir, 'derived.jsonl');
    await run(process.execPath, [
      bin,
      'credentials',
      'derive',
      '--secrets',
      secrets,
      '--election',
      'vectors-2026',
      '--roll',
      roll,
      '--credentials',
      creds,
    ]);
    expect(readFileSync(roll, 'utf8').trim().split('\n')).toEqual(
      vectors.map((c: { publicKey: string }) => c.publicKey),
    );
    expect(
      readFileSync(creds, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).seed),
    ).toEqual(vectors.map((c: { seed: string }) => c.seed));
  });

  it('explains itself and rejects bad arguments with exit code 2', async () => {
    const help = await run(process.execPath, [bin, 'vote', '--help']);
    expect(help.stdout).toContain('--choose');
    await expect(run(process.execPath, [bin, 'credentials', 'generate', '--count', 'x'])).rejects.toMatchObject({
      code: 2,
    });
  });
});

/** The CLI's environment with no admin token, so that only what a test gives counts. */
function envWithout(...names: string[]): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const n of names) delete env[n];
  return env;
}

describe('tallyproof against a real API (in-process stack: database, anvil, anchor worker)', () => {
  let stack: Stack;
  // Inside the checkout (its tmp/ is ignored by git), as a user pasting the hints works: `npx tallyproof-verify`
  // resolves the repository's own bin only from within it.
  const repo = fileURLToPath(new URL('../..', import.meta.url));
  let work: string;

  beforeAll(async () => {
    stack = await startStack();
    mkdirSync(join(repo, 'tmp'), { recursive: true });
    work = mkdtempSync(join(repo, 'tmp', 'cli-test-'));
  });
  afterAll(async () => {
    await stack?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** A manifest file and a roll file for `electionId` (voters' keys, one per line). */
  function electionFiles(electionId: string, over: Parameters<typeof testManifest>[2] = {}) {
    const manifest = join(dir, `${electionId}-manifest.json`);
    const roll = join(dir, `${electionId}-roll.txt`);
    writeFileSync(manifest, JSON.stringify(testManifest(electionId, stack.ledgerKey.publicKeyHex, over)));
    writeFileSync(
      roll,
      voters(3, electionId)
        .map((v) => v.credential)
        .join('\n') + '\n',
    );
    return { manifest, roll };
  }

  it('election create run twice succeeds twice (a repeat is 200, "already exists, identical")', async () => {
    const f = electionFiles('cli-create');
    const args = [bin, 'election', 'create', '--api', stack.apiUrl, '--manifest', f.manifest, '--roll', f.roll];
    const env = { ...envWithout('ADMIN_TOKEN'), ADMIN_TOKEN: stack.adminToken };
    const first = await run(process.execPath, args, { env });
    expect(first.stderr).toContain('election cli-create created');
    const again = await run(process.execPath, args, { env });
    expect(again.stderr).toContain('election cli-create already exists, identical');
    expect(JSON.parse(again.stdout)).toEqual(JSON.parse(first.stdout));
    // Another manifest under the same id is still refused.
    writeFileSync(
      f.manifest,
      JSON.stringify(testManifest('cli-create', stack.ledgerKey.publicKeyHex, { title: 'Another title' })),
    );
    const other = await run(process.execPath, args, { env }).catch((e) => e);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('election not created (409) election-exists');
  });

  it('reads the admin token npm start keeps in the data directory when neither --token nor ADMIN_TOKEN is given', async () => {
    const help = await run(process.execPath, [bin, 'election', 'create', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(
      '$TALLYPROOF_DATA_DIR/admin-token (default .tallyproof/admin-token)',
    );
    const f = electionFiles('cli-token');
    const args = [bin, 'election', 'create', '--api', stack.apiUrl, '--manifest', f.manifest, '--roll', f.roll];
    const dataDir = join(dir, 'data');
    const missing = await run(process.execPath, args, {
      env: { ...envWithout('ADMIN_TOKEN'), TALLYPROOF_DATA_DIR: dataDir },
    }).catch((e) => e);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(join(dataDir, 'admin-token'));
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'admin-token'), stack.adminToken + '\n', { mode: 0o600 });
    const created = await run(process.execPath, args, {
      env: { ...envWithout('ADMIN_TOKEN'), TALLYPROOF_DATA_DIR: dataDir },
    });
    expect(created.stderr).toContain('election cli-token created');
    // The default data directory is .tallyproof under the current directory, as npm start's.
    mkdirSync(join(dir, '.tallyproof'), { recursive: true });
    writeFileSync(join(dir, '.tallyproof', 'admin-token'), stack.adminToken + '\n');
    const closed = await run(
      process.execPath,
      [bin, 'election', 'close', '--api', stack.apiUrl, '--election', 'cli-token'],
      { cwd: dir, env: envWithout('ADMIN_TOKEN', 'TALLYPROOF_DATA_DIR') },
    );
    expect(JSON.parse(closed.stdout)).toMatchObject({ electionId: 'cli-token', status: 'closed' });
  });

  it('the receipt check that vote prints works as pasted, in a folder holding several receipts', async () => {
    const electionId = 'cli-vote';
    const f = electionFiles(electionId, { windowSeconds: 1 });
    await run(
      process.execPath,
      [bin, 'election', 'create', '--api', stack.apiUrl, '--manifest', f.manifest, '--roll', f.roll],
      { env: { ...envWithout('ADMIN_TOKEN'), ADMIN_TOKEN: stack.adminToken } },
    );
    const credentials = join(dir, `${electionId}-credentials.jsonl`);
    writeFileSync(
      credentials,
      voters(3, electionId)
        .map((v) => JSON.stringify({ credential: v.credential, seed: v.seed.toString('hex') }) + '\n')
        .join(''),
    );
    const vote = (i: number) =>
      run(
        process.execPath,
        [
          bin,
          'vote',
          '--api',
          stack.apiUrl,
          '--election',
          electionId,
          '--credential',
          credentials,
          '--voter',
          voters(3, electionId)[i]!.credential,
          '--choose',
          'q1=oui',
        ],
        { cwd: work },
      );
    await vote(0);
    const { stdout } = await vote(1);
    expect(readdirSync(work).filter((n) => n.startsWith('receipt-')).length).toBe(2);
    const hint = /^ {2}(npx tallyproof-verify receipt .*)$/m.exec(stdout)?.[1];
    expect(hint, stdout).toBeDefined();
    expect(hint).toContain(`--rpc ${stack.rpcUrl}`);
    const ballotHash = /receipt hash ([0-9a-f]{64})/.exec(stdout)![1]!;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const b = (await (await fetch(`${stack.apiUrl}/api/v1/receipts/${ballotHash}`)).json()) as { status: string };
      if (b.status === 'anchored') break;
      if (Date.now() > deadline) throw new Error(`ballot ${ballotHash} not anchored in 60 s`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const check = await run('sh', ['-c', hint!], { cwd: work });
    expect(check.stdout).toContain(ballotHash.slice(0, 8));
    expect(check.stdout.toLowerCase()).toContain('anchored');
  }, 120_000);
});
