// `npm start` as a user runs it, on the embedded default (no DATABASE_URL, REDIS_URL or chain given):
// start, cast a vote with the CLI, see it anchored on chain, stop with Ctrl-C (SIGINT to the process
// group), start again and find the ballot, its window and the chain state still there.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { JsonRpcProvider } from 'ethers';
import { electionKey, tallyAnchor } from '../../contracts/index.js';
import postgres from 'postgres';
import { embeddedPasswordFile, freePort } from '../../ledger/src/db/embedded.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'tallyproof-start-'));
const workDir = mkdtempSync(join(tmpdir(), 'tallyproof-voter-'));
let current: ChildProcess | null = null;

function cleanEnv(chainPort: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TALLYPROOF_DATA_DIR: dataDir,
    PORT: '0',
    TALLYPROOF_CHAIN_PORT: String(chainPort),
    TALLYPROOF_DEMO_WINDOW_SECONDS: '2',
  };
  for (const k of [
    'DATABASE_URL',
    'REDIS_URL',
    'CHAIN_RPC_URL',
    'CHAIN_PRIVATE_KEY',
    'CONTRACT_ADDRESS',
    'ADMIN_TOKEN',
    'TALLYPROOF_APP_DB_PASSWORD',
  ])
    delete env[k];
  return env;
}

async function npmStart(): Promise<{ api: string; rpc: string; output: () => string; stop(): Promise<string> }> {
  const chainPort = await freePort();
  const child = spawn('npm', ['start'], {
    cwd: repo,
    env: cleanEnv(chainPort),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  current = child;
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // npm re-raises the SIGINT it forwarded, so its own exit is by signal; start.ts prints "stopped" once
  // it has stopped the API, the worker, anvil (which writes its state) and PostgreSQL.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start not ready in 120 s:\n${out}`)), 120_000);
    const check = () => {
      if (/^ready$/m.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (${code}):\n${out}`));
    });
  });
  const api = /^Voter page\s+(\S+)\/$/m.exec(out)![1]!;
  const rpc = /^Chain RPC\s+(\S+)/m.exec(out)![1]!;
  return {
    api,
    rpc,
    output: () => out,
    async stop() {
      process.kill(-child.pid!, 'SIGINT'); // what Ctrl-C does: the whole foreground process group
      await exited;
      current = null;
      return /^stopped$/m.test(out) ? 'stopped cleanly' : `not stopped cleanly:\n${out}`;
    },
  };
}

async function waitFor<T>(what: string, fn: () => Promise<T | null>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

afterAll(async () => {
  if (current?.pid) {
    try {
      process.kill(-current.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(workDir, { recursive: true, force: true });
});

/**
 * The embedded server of a running npm start: its superuser password is random, in a file only this user
 * can read, and every connection npm start holds once started is the application role's (the owner
 * connection that migrated is closed).
 */
async function expectLeastPrivilege(): Promise<void> {
  const passwordFile = embeddedPasswordFile(join(dataDir, 'postgres'));
  expect(statSync(passwordFile).mode & 0o777).toBe(0o600);
  const password = readFileSync(passwordFile, 'utf8').trim();
  expect(password).not.toBe('tallyproof-embedded');
  expect(password.length).toBeGreaterThanOrEqual(24);
  // postmaster.pid's fourth line is the port.
  const port = Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[3]);
  const connect = (pw: string) =>
    postgres({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      password: pw,
      database: 'postgres',
      max: 1,
      onnotice: () => {},
    });
  const legacy = connect('tallyproof-embedded');
  await expect(legacy`SELECT 1`).rejects.toThrow(/password authentication failed/);
  await legacy.end({ timeout: 1 });
  const su = connect(password);
  try {
    const rows = await su`SELECT DISTINCT usename AS role FROM pg_stat_activity
                          WHERE datname IS NOT NULL AND pid <> pg_backend_pid() AND backend_type = 'client backend'`;
    expect(rows.map((r) => r.role)).toEqual(['tallyproof_app']);
  } finally {
    await su.end({ timeout: 1 });
  }
}

describe('npm start (embedded default)', () => {
  it('runs the whole system, anchors a CLI vote, and resumes after Ctrl-C with everything still there', async () => {
    const first = await npmStart();
    expect(first.output()).toContain('demo election "demo" created');
    expect(first.output()).toContain('embedded PostgreSQL (first start: initialising it)');
    const credentials = join(dataDir, 'demo-credentials.jsonl');
    const vote = await run(
      process.execPath,
      [
        join(repo, 'scripts/bin/tallyproof.js'),
        'vote',
        '--api',
        first.api,
        '--election',
        'demo',
        '--credential',
        credentials,
        '--choose',
        'loi-climat=oui',
        '--choose',
        'loi-numerique=non',
        '--choose',
        'conseil=ana,bo',
      ],
      { cwd: workDir },
    );
    expect(vote.stdout).toMatch(/vote cast: seq 0/);
    const receipt = JSON.parse(
      readFileSync(join(workDir, readdirSync(workDir).find((f) => f.startsWith('receipt-'))!), 'utf8'),
    );
    const bundle = await waitFor('the ballot to be anchored', async () => {
      const b = (await (await fetch(`${first.api}/api/v1/receipts/${receipt.ballotHash}`)).json()) as {
        status: string;
        window: { index: number; root: string };
        anchor: { contract: string };
      };
      return b.status === 'anchored' ? b : null;
    });
    expect(bundle.window.index).toBe(0);
    const provider = new JsonRpcProvider(first.rpc, undefined, { staticNetwork: true });
    const onChain = await tallyAnchor(bundle.anchor.contract, provider).getWindow(electionKey('demo'), 0);
    expect(onChain.root).toBe('0x' + bundle.window.root);
    provider.destroy();
    expect(await first.stop()).toBe('stopped cleanly');

    const second = await npmStart();
    expect(second.output()).not.toContain('demo election "demo" created');
    expect(second.output()).toMatch(/embedded PostgreSQL…/);
    expect(second.output()).not.toContain('initialising');
    const again = (await (await fetch(`${second.api}/api/v1/receipts/${receipt.ballotHash}`)).json()) as {
      receipt: unknown;
      status: string;
      window: { root: string };
    };
    expect(again.receipt).toEqual(receipt);
    expect(again.status).toBe('anchored');
    expect(again.window.root).toBe(bundle.window.root);
    const provider2 = new JsonRpcProvider(second.rpc, undefined, { staticNetwork: true });
    const anchor = tallyAnchor(bundle.anchor.contract, provider2);
    expect(Number(await anchor.windowCount(electionKey('demo')))).toBe(1);
    expect((await anchor.getWindow(electionKey('demo'), 0)).root).toBe('0x' + bundle.window.root);
    provider2.destroy();
    await expectLeastPrivilege();
    // The same credential cannot vote twice across restarts.
    const dup = await run(
      process.execPath,
      [
        join(repo, 'scripts/bin/tallyproof.js'),
        'vote',
        '--api',
        second.api,
        '--election',
        'demo',
        '--credential',
        credentials,
        '--choose',
        'loi-climat=non',
      ],
      { cwd: workDir },
    ).catch((e) => e);
    expect(String(dup.stderr)).toContain('already voted');
    expect(await second.stop()).toBe('stopped cleanly');
  }, 300_000);
});
