// Deploys TallyAnchor from the committed artifact and records where it is.
//
//   npx tsx contracts/scripts/deploy.ts --rpc http://127.0.0.1:8545 --key 0x... \
//       [--anchorer 0xADDR ...] --out deployment.json
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { JsonRpcProvider, Wallet, isAddress, isHexString } from 'ethers';
import { deployTallyAnchor } from '../index.js';
import { jsonRpc } from '../rpc.js';

const USAGE = `Deploy the TallyAnchor contract (bytecode from contracts/artifacts/TallyAnchor.json).

Usage:
  tsx contracts/scripts/deploy.ts --rpc URL --key 0xPRIVATE_KEY [--anchorer 0xADDRESS ...] --out FILE

Options:
  --rpc URL          JSON-RPC endpoint of the chain, e.g. http://127.0.0.1:8545
  --key 0xHEX        private key of the deployer (32 bytes); the deployer becomes the owner,
                     who manages the anchorer allow-list
  --anchorer 0xADDR  account allowed to register elections, anchor windows and close elections;
                     repeat for several. Default: the deployer alone.
  --no-anchorers     start with an empty allow-list (the owner adds anchorers with setAnchorer)
  --out FILE         where to write {address, chainId, blockNumber, deployer, txHash, deployedAt}
  -h, --help         show this help

The private key can also come from the TALLYPROOF_DEPLOYER_KEY environment variable, which keeps it
out of the shell history.
`;

/** A usage error: printed with a pointer to --help, exit code 2. */
class UsageError extends Error {}

export interface DeployArgs {
  rpc: string;
  key: string;
  anchorers: string[] | undefined;
  out: string;
}

/** The options as parseArgs reads them; throws on an unknown or malformed one. */
function readOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      rpc: { type: 'string' },
      key: { type: 'string' },
      anchorer: { type: 'string', multiple: true },
      'no-anchorers': { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
}

export function parseDeployArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): DeployArgs | 'help' {
  let values: ReturnType<typeof readOptions>;
  try {
    values = readOptions(argv);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help === true) return 'help';

  const rpc = values.rpc;
  if (rpc === undefined) throw new UsageError('missing --rpc URL');
  if (!/^https?:\/\//.test(rpc)) throw new UsageError(`--rpc must be an http(s) URL, got "${rpc}"`);

  const key = values.key ?? (env.TALLYPROOF_DEPLOYER_KEY || undefined);
  if (key === undefined) throw new UsageError('missing --key 0xPRIVATE_KEY (or TALLYPROOF_DEPLOYER_KEY)');
  if (!isHexString(key, 32)) throw new UsageError('--key must be a 0x-prefixed 32-byte hex private key');

  if (values['no-anchorers'] === true && values.anchorer !== undefined) {
    throw new UsageError('--anchorer and --no-anchorers exclude each other');
  }
  for (const address of values.anchorer ?? []) {
    if (!isAddress(address)) throw new UsageError(`--anchorer "${address}" is not an address`);
  }
  const anchorers = values['no-anchorers'] === true ? [] : values.anchorer;

  const out = values.out;
  if (out === undefined) throw new UsageError('missing --out FILE');
  return { rpc, key, anchorers, out };
}

/**
 * Asks the node for its chain id with a plain request and a timeout: an ethers provider pointed at
 * an unreachable node retries network detection forever instead of failing.
 */
async function fetchChainId(rpc: string): Promise<number> {
  try {
    return Number(await jsonRpc<string>(rpc, 'eth_chainId', [], 10_000));
  } catch (err) {
    throw new Error(`cannot reach the chain at ${rpc}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export async function deploy(args: DeployArgs): Promise<Record<string, string | number>> {
  const chainId = await fetchChainId(args.rpc);
  const provider = new JsonRpcProvider(args.rpc, chainId, { staticNetwork: true, cacheTimeout: -1 });
  try {
    const signer = new Wallet(args.key, provider);
    const balance = await provider.getBalance(signer.address);
    if (balance === 0n) throw new Error(`deployer ${signer.address} has no funds on chain ${chainId}`);

    const deployment = await deployTallyAnchor(signer, { anchorers: args.anchorers });
    const record = { ...deployment, deployedAt: new Date().toISOString() };
    await writeFile(args.out, `${JSON.stringify(record, null, 2)}\n`);
    return record;
  } finally {
    provider.destroy();
  }
}

async function main(): Promise<number> {
  let args: DeployArgs | 'help';
  try {
    args = parseDeployArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`deploy: ${err.message}\nRun with --help for usage.`);
      return 2;
    }
    throw err;
  }
  if (args === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    const record = await deploy(args);
    console.log(
      `TallyAnchor deployed at ${record.address} on chain ${record.chainId} ` +
        `(block ${record.blockNumber}, tx ${record.txHash})`,
    );
    console.log(`wrote ${path.resolve(args.out)}`);
    return 0;
  } catch (err) {
    console.error(`deploy: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
