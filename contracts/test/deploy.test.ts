// Deployment paths (deployTallyAnchor and the deploy CLI) and the shared anvil helper, including
// taking the chain down and bringing it back with its state.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Wallet } from 'ethers';
import { anvilAccounts, anvilProvider, restartAnvil, startAnvil, type AnvilNode } from '../../test/support/anvil.js';
import { TALLY_ANCHOR_DEPLOYED_BYTECODE, deployTallyAnchor, electionKey, tallyAnchor } from '../index.js';
import { parseDeployArgs } from '../scripts/deploy.js';
import { b32, mined } from './support.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
const deployScript = path.join(repoRoot, 'contracts', 'scripts', 'deploy.ts');

let chain: AnvilNode;
let dir: string;

beforeAll(async () => {
  chain = await startAnvil({ chainId: 4242 });
  dir = await mkdtemp(path.join(tmpdir(), 'tallyproof-deploy-'));
});

afterAll(async () => {
  await chain?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('startAnvil', () => {
  it("serves the requested chain id with anvil's funded dev accounts", async () => {
    const provider = anvilProvider(chain);
    expect(chain.chainId).toBe(4242);
    expect(chain.rpcUrl).toBe(`http://127.0.0.1:${chain.port}`);
    expect(Number((await provider.getNetwork()).chainId)).toBe(4242);
    const onNode = (await provider.send('eth_accounts', [])) as string[];
    expect(chain.accounts.map((a) => a.address.toLowerCase())).toEqual(onNode.map((a) => a.toLowerCase()));
    for (const account of chain.accounts) expect(new Wallet(account.privateKey).address).toBe(account.address);
    expect(chain.accounts[0]!.address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'); // anvil's well-known account 0
    provider.destroy();
  });

  it('runs several chains side by side on distinct ports', async () => {
    const [a, b] = await Promise.all([startAnvil(), startAnvil()]);
    try {
      expect(a.port).not.toBe(b.port);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('fails clearly when the port is taken', async () => {
    await expect(startAnvil({ port: chain.port })).rejects.toThrow(/address already in use/i);
  });

  it('keeps the chain across a restart with a state file', async () => {
    const stateFile = path.join(dir, 'anvil-state.json');
    const first = await startAnvil({ stateFile });
    let second: AnvilNode | undefined;
    try {
      const provider = anvilProvider(first);
      const owner = new Wallet(first.accounts[0]!.privateKey, provider);
      const deployment = await deployTallyAnchor(owner);
      const key = electionKey('survives-restart');
      await mined(tallyAnchor(deployment.address, owner).registerElection(key, b32('m'), b32('r')));
      provider.destroy();

      second = await restartAnvil(first, { downtimeMs: 200 }); // SIGTERM (state written), down, back on the same port
      expect(second.port).toBe(first.port);
      const again = anvilProvider(second);
      expect(await again.getCode(deployment.address)).toBe(TALLY_ANCHOR_DEPLOYED_BYTECODE);
      expect((await tallyAnchor(deployment.address, again).getElection(key)).manifestHash).toBe(b32('m'));
      again.destroy();
    } finally {
      await (second ?? first).stop();
      await first.stop(); // idempotent
    }
  });
});

describe('deployTallyAnchor', () => {
  it('makes the deployer the only anchorer by default, or none with []', async () => {
    const provider = anvilProvider(chain);
    const deployer = new Wallet(chain.accounts[5]!.privateKey, provider);
    const byDefault = await deployTallyAnchor(deployer);
    expect(await tallyAnchor(byDefault.address, provider).isAnchorer(deployer.address)).toBe(true);
    const none = await deployTallyAnchor(deployer, { anchorers: [] });
    expect(await tallyAnchor(none.address, provider).isAnchorer(deployer.address)).toBe(false);
    expect(none).toMatchObject({ chainId: 4242, deployer: deployer.address });
    provider.destroy();
  });
});

describe('contracts/scripts/deploy.ts', () => {
  it('deploys and writes the deployment record', async () => {
    const [deployer, anchorerA, anchorerB] = anvilAccounts();
    const out = path.join(dir, 'deployment.json');
    const args = [
      '--rpc',
      chain.rpcUrl,
      '--key',
      deployer!.privateKey,
      '--anchorer',
      anchorerA!.address,
      '--anchorer',
      anchorerB!.address,
      '--out',
      out,
    ];
    const { stdout } = await run(tsx, [deployScript, ...args], { cwd: repoRoot });
    expect(stdout).toMatch(/TallyAnchor deployed at 0x[0-9a-fA-F]{40} on chain 4242/);

    const record = JSON.parse(await readFile(out, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(record).sort()).toEqual([
      'address',
      'blockNumber',
      'chainId',
      'deployedAt',
      'deployer',
      'txHash',
    ]);
    expect(record).toMatchObject({ chainId: 4242, deployer: deployer!.address });
    expect(new Date(record.deployedAt as string).toISOString()).toBe(record.deployedAt);

    const provider = anvilProvider(chain);
    const receipt = await provider.getTransactionReceipt(record.txHash as string);
    expect(receipt?.blockNumber).toBe(record.blockNumber);
    expect(receipt?.contractAddress).toBe(record.address);
    const contract = tallyAnchor(record.address as string, provider);
    expect(await contract.owner()).toBe(deployer!.address);
    expect([
      await contract.isAnchorer(anchorerA!.address),
      await contract.isAnchorer(anchorerB!.address),
      await contract.isAnchorer(deployer!.address),
    ]).toEqual([true, true, false]);
    provider.destroy();
  });

  it('prints usage with --help and refuses bad arguments with exit code 2', async () => {
    const help = await run(tsx, [deployScript, '--help'], { cwd: repoRoot });
    expect(help.stdout).toContain('--anchorer');
    const failure = await run(tsx, [deployScript, '--frobnicate'], { cwd: repoRoot }).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toMatch(/Unknown option '--frobnicate'[\s\S]*--help/);
  });

  it('names the wrong or missing argument', () => {
    const key = anvilAccounts()[0]!.privateKey;
    const noEnv = {};
    const bad: [string[], RegExp][] = [
      [['--key', key, '--out', 'x.json'], /missing --rpc/],
      [['--rpc', 'localhost:8545', '--key', key, '--out', 'x.json'], /--rpc must be an http\(s\) URL/],
      [['--rpc', chain.rpcUrl, '--out', 'x.json'], /missing --key/],
      [['--rpc', chain.rpcUrl, '--key', '0x1234', '--out', 'x.json'], /--key must be/],
      [['--rpc', chain.rpcUrl, '--key', key, '--anchorer', 'nope', '--out', 'x.json'], /"nope" is not an address/],
      [
        ['--rpc', chain.rpcUrl, '--key', key, '--anchorer', key.slice(0, 42), '--no-anchorers', '--out', 'x.json'],
        /exclude each other/,
      ],
      [['--rpc', chain.rpcUrl, '--key', key], /missing --out/],
    ];
    for (const [args, message] of bad) expect(() => parseDeployArgs(args, noEnv), args.join(' ')).toThrow(message);
    expect(parseDeployArgs(['--rpc', chain.rpcUrl, '--out', 'x.json'], { TALLYPROOF_DEPLOYER_KEY: key })).toMatchObject(
      { key, anchorers: undefined },
    );
    expect(
      parseDeployArgs(['--rpc', chain.rpcUrl, '--key', key, '--no-anchorers', '--out', 'x.json'], noEnv),
    ).toMatchObject({ anchorers: [] });
  });

  it('reports an unreachable chain with exit code 1', async () => {
    const failure = await run(
      tsx,
      [
        deployScript,
        '--rpc',
        'http://127.0.0.1:9',
        '--key',
        anvilAccounts()[0]!.privateKey,
        '--out',
        path.join(dir, 'x.json'),
      ],
      { cwd: repoRoot },
    ).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/cannot reach the chain at http:\/\/127\.0\.0\.1:9/);
  });
});
