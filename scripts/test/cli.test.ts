import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { keyPairFromSeed } from '../../ledger/src/protocol/ed25519.js';
import { validateRoll } from '../../ledger/src/index.js';

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
