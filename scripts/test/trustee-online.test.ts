// `tallyproof trustee post/fetch` and the encrypted `vote` against a real API (in-process stack: database,
// anvil, anchor worker): an encrypted election of 3 trustees, threshold 2, whose key ceremony runs through
// the CLI alone (fetch the election and the transcript, each step offline, post each message); ballots cast
// by `vote` (the election key checked against the transcript it fetches); the close; the aggregate fetched;
// t1 and t3 decrypt (t2 is missing); the decrypted counts are the votes.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeManifest } from '../../ledger/src/protocol/protocol.js';
import { startStack, type Stack } from '../../test/support/stack.js';
import { voters } from '../../test/support/fixtures.js';
import { until } from '../../test/support/wait.js';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../bin/tallyproof.js', import.meta.url));

let stack: Stack;
let dir: string;

beforeAll(async () => {
  stack = await startStack();
  dir = mkdtempSync(join(tmpdir(), 'tallyproof-trustee-online-'));
});
afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const at = (name: string) => join(dir, name);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, ADMIN_TOKEN: stack.adminToken };
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd: dir, env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function ok(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await cli(args);
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r;
}

describe('the ceremonies through the API with trustee post and fetch', () => {
  const electionId = 'enc-cli-online';
  const ids = ['t1', 't2', 't3'];
  const vs = voters(3, electionId);
  const trusteeFile = (id: string) => at(`${id}.json`);
  const step = (kind: string, id: string, input: string[]) =>
    ok([
      'trustee',
      kind,
      '--trustee',
      trusteeFile(id),
      '--election',
      at('election.json'),
      ...input,
      '--out',
      at(`${kind}-${id}.json`),
    ]);
  const post = (file: string) => ok(['trustee', 'post', '--api', stack.apiUrl, '--election', electionId, file]);
  const fetchTo = (what: string, file: string) =>
    ok(['trustee', 'fetch', '--api', stack.apiUrl, '--election', electionId, `--${what}`, '--out', file]);

  it('runs the key ceremony, takes encrypted votes, and 2 of 3 trustees decrypt them', async () => {
    const entries = await Promise.all(
      ids.map(async (id) => JSON.parse((await ok(['trustee', 'new', '--id', id, '--out', trusteeFile(id)])).stdout)),
    );
    const now = Date.now();
    const manifest = normalizeManifest(
      {
        version: 2,
        electionId,
        title: 'Encrypted, online',
        contests: [
          {
            id: 'q',
            title: 'Q',
            choices: [
              { id: 'yes', label: 'Yes' },
              { id: 'no', label: 'No' },
            ],
            minSelections: 1,
            maxSelections: 1,
          },
        ],
        opensAt: new Date(now - 60_000).toISOString(),
        closesAt: new Date(now + 3600_000).toISOString(),
        windowSeconds: 1,
        ballotMode: 'encrypted',
        trustees: entries,
        threshold: 2,
      },
      stack.ledgerKey.publicKeyHex,
    );
    const created = await fetch(`${stack.apiUrl}/api/v1/elections`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.adminToken}` },
      body: JSON.stringify({ manifest, roll: vs.map((v) => v.credential) }),
    });
    expect(created.status, await created.text()).toBe(201);

    await fetchTo('election-view', at('election.json'));
    expect(JSON.parse(readFileSync(at('election.json'), 'utf8')).encryption.keyCeremony).toBe('in-progress');

    // The key ceremony: each step on the trustees' (here: the same) machine, each message posted.
    await Promise.all(ids.map((id) => step('commit', id, [])));
    for (const id of ids) await post(at(`commit-${id}.json`));
    const repeat = await post(at('commit-t1.json'));
    expect(repeat.stderr).toContain('already on the board');
    await fetchTo('transcript', at('transcript-1.json'));

    // A commit made again with --force after the first was posted (on a copy of t1's file): the board keeps
    // the first, and the copy's secrets no longer match the board, which shares says.
    copyFileSync(trusteeFile('t1'), at('t1-copy.json'));
    const again = ['--trustee', at('t1-copy.json'), '--election', at('election.json')];
    await ok(['trustee', 'commit', ...again, '--force', '--out', at('commit-again.json')]);
    const refused = await cli(['trustee', 'post', '--api', stack.apiUrl, at('commit-again.json')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('refused (409) trustee-message-exists');
    expect(refused.stderr).toContain('the board already holds another message of this kind from this trustee');
    const stale = await cli(['trustee', 'shares', ...again, '--transcript', at('transcript-1.json'), '--out', at('x')]);
    expect(stale.code).toBe(2);
    expect(stale.stderr).toContain('the board holds a keygen-commit of t1, signed with your key, that is not the one');

    await Promise.all(ids.map((id) => step('shares', id, ['--transcript', at('transcript-1.json')])));
    for (const id of ids) await post(at(`shares-${id}.json`));
    await fetchTo('transcript', at('transcript-2.json'));
    const confirmed = await Promise.all(
      ids.map((id) => step('confirm', id, ['--transcript', at('transcript-2.json')])),
    );
    for (const id of ids) await post(at(`confirm-${id}.json`));
    const view = await fetchTo('election-view', at('election-after.json'));
    const publicKey = JSON.parse(readFileSync(at('election-after.json'), 'utf8')).encryption.publicKey as string;
    expect(view.stderr).toContain('key ceremony complete');
    for (const c of confirmed) expect(c.stderr).toContain(`election key ${publicKey}`);

    // Encrypted votes, cast by the CLI (which checks the server's election key against the transcript).
    const credentials = at('credentials.jsonl');
    writeFileSync(
      credentials,
      vs.map((v) => `${JSON.stringify({ credential: v.credential, seed: v.seed.toString('hex') })}\n`).join(''),
    );
    const choices = ['yes', 'no', 'yes'];
    for (const [i, v] of vs.entries()) {
      const r = await ok([
        'vote',
        '--api',
        stack.apiUrl,
        '--election',
        electionId,
        '--credential',
        credentials,
        '--voter',
        v.credential,
        '--choose',
        `q=${choices[i]}`,
        '--out',
        at(`receipt-${i}.json`),
      ]);
      expect(r.stdout).toContain(`vote cast: seq ${i}`);
    }

    const close = await fetch(`${stack.apiUrl}/api/v1/elections/${electionId}/close`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.adminToken}` },
    });
    expect(close.status).toBe(202);
    await until(
      'the aggregate',
      async () => (await fetch(`${stack.apiUrl}/api/v1/elections/${electionId}/aggregate`)).status === 200,
      60_000,
    );
    const aggregate = await fetchTo('aggregate', at('aggregate.json'));
    expect(aggregate.stderr).toContain('3 ballots');

    // t2 is away: t1 and t3 suffice.
    for (const id of ['t3', 't1']) {
      await step('decrypt', id, ['--aggregate', at('aggregate.json')]);
      await post(at(`decrypt-${id}.json`));
    }
    await fetchTo('decryption', at('decryption.json'));
    const result = JSON.parse(readFileSync(at('decryption.json'), 'utf8'));
    expect(result).toMatchObject({
      electionId,
      trustees: ['t1', 't3'],
      tally: { q: { yes: 2, no: 1 } },
      totalBallots: 3,
    });

    // A message of the wrong election is refused before it is sent.
    const wrong = await cli(['trustee', 'post', '--api', stack.apiUrl, '--election', 'another', at('decrypt-t1.json')]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(`is a message for election ${electionId}, not another`);
  }, 180_000);
});
