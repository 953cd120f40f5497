// The one-shot `contract-deploy` service of deploy/docker-compose.yml: makes sure TallyAnchor is on the
// chain and that DEPLOYMENT_FILE (/shared/deployment.json, read by the API and the worker) names it.
//
// 1. Waits until the chain answers and produces blocks (QBFT needs 3 of its 4 validators).
// 2. DEPLOYMENT_FILE exists: checks that the chain id matches and that the address holds code, then exits 0.
//    A file naming an address without code means the chain was reset under a ledger that anchored on
//    it: this stops with an error instead of silently deploying a second contract.
// 3. CONTRACT_ADDRESS is set (an existing contract): checks it holds code and records it.
// 4. Otherwise runs `tsx contracts/scripts/deploy.ts --rpc … --anchorer ANCHORER_ADDRESS --out …` with
//    the deployer key in TALLYPROOF_DEPLOYER_KEY (kept off the command line), writing the file atomically.
//
// Environment: CHAIN_RPC_URL, CHAIN_ID (expected chain id, optional), DEPLOYER_KEY or
// TALLYPROOF_DEPLOYER_KEY, ANCHORER_ADDRESS, CONTRACT_ADDRESS (optional), DEPLOYMENT_FILE,
// CHAIN_WAIT_SECONDS (default 600).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonRpc } from '../../contracts/rpc.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const rpc = <T>(url: string, method: string, params: unknown[] = []) => jsonRpc<T>(url, method, params, 5000);

async function waitForBlocks(url: string, seconds: number): Promise<number> {
  const deadline = Date.now() + seconds * 1000;
  let last = 'no answer yet';
  for (;;) {
    try {
      const height = Number(BigInt(await rpc<string>(url, 'eth_blockNumber')));
      if (height > 0) return Number(BigInt(await rpc<string>(url, 'eth_chainId')));
      last = 'still at block 0 (QBFT needs more than 2/3 of the validators online)';
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new Error(`the chain at ${url} produced no block within ${seconds} s: ${last}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

async function hasCode(url: string, address: string): Promise<boolean> {
  const code = await rpc<string>(url, 'eth_getCode', [address, 'latest']);
  return code !== '0x' && code !== '0x0';
}

function env(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function runDeployCli(args: string[], deployerKey: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(REPO, 'contracts/scripts/deploy.ts'), ...args], {
      cwd: REPO,
      stdio: 'inherit',
      env: { ...process.env, TALLYPROOF_DEPLOYER_KEY: deployerKey },
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`contracts/scripts/deploy.ts exited with ${signal ?? code}`));
    });
  });
}

async function main(): Promise<void> {
  const placeholders = Object.entries(process.env)
    .filter(([, v]) => v?.startsWith('change-me'))
    .map(([k]) => k);
  if (placeholders.length > 0) {
    throw new Error(
      `deploy/.env still holds placeholders from .env.example (${placeholders.join(', ')}): run deploy/scripts/generate-qbft.ts`,
    );
  }
  const url = env('CHAIN_RPC_URL');
  if (url === undefined) throw new Error('CHAIN_RPC_URL is not set');
  const file = env('DEPLOYMENT_FILE') ?? '/shared/deployment.json';
  const waitSeconds = Number(env('CHAIN_WAIT_SECONDS') ?? 600);
  const expectedChainId = env('CHAIN_ID');

  const chainId = await waitForBlocks(url, waitSeconds);
  if (expectedChainId !== undefined && Number(expectedChainId) !== chainId) {
    throw new Error(`the chain at ${url} has chain id ${chainId}, CHAIN_ID says ${expectedChainId}`);
  }

  if (existsSync(file)) {
    const recorded = JSON.parse(readFileSync(file, 'utf8')) as { address?: string; chainId?: number };
    if (typeof recorded.address !== 'string') throw new Error(`${file} has no "address"`);
    if (recorded.chainId !== chainId)
      throw new Error(`${file} is for chain ${recorded.chainId}, the node is on chain ${chainId}`);
    if (!(await hasCode(url, recorded.address))) {
      throw new Error(
        `${file} names ${recorded.address} but the chain has no code there: the chain was reset or this is another chain. ` +
          'Restore the chain volumes, or, for a new ledger only, remove the deployment volume.',
      );
    }
    console.log(`TallyAnchor already deployed at ${recorded.address} on chain ${chainId}`);
    return;
  }

  const existing = env('CONTRACT_ADDRESS');
  if (existing !== undefined) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(existing)) throw new Error('CONTRACT_ADDRESS must be 0x followed by 40 hex digits');
    if (!(await hasCode(url, existing)))
      throw new Error(`CONTRACT_ADDRESS ${existing} holds no code on chain ${chainId}`);
    const record = { address: existing, chainId, recordedAt: new Date().toISOString() };
    writeFileSync(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
    console.log(`using the existing TallyAnchor at ${existing} on chain ${chainId}`);
    return;
  }

  const key = env('DEPLOYER_KEY') ?? env('TALLYPROOF_DEPLOYER_KEY');
  if (key === undefined)
    throw new Error('no deployment yet and DEPLOYER_KEY is not set: put the contract owner key in deploy/.env');
  const anchorer = env('ANCHORER_ADDRESS');
  if (anchorer === undefined) throw new Error('ANCHORER_ADDRESS is not set (the address of CHAIN_PRIVATE_KEY)');
  rmSync(`${file}.tmp`, { force: true });
  await runDeployCli(['--rpc', url, '--anchorer', anchorer, '--out', `${file}.tmp`], key);
  renameSync(`${file}.tmp`, file);
}

main().catch((err: unknown) => {
  console.error(`contract-deploy: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
