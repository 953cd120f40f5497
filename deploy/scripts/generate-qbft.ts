// Generates the Hyperledger Besu QBFT network of the production stack and the secrets of deploy/.env.
//
//   npx tsx deploy/scripts/generate-qbft.ts [--out DIR] [--env FILE] [--chain-id N] [--force]
//
// Writes, under --out (default deploy/generated/, git-ignored):
//   genesis.json                   QBFT genesis; extraData = RLP([32 zero bytes, [validators], [], 0, []])
//   network.json                   the public facts: chain id, validator addresses and enodes, funded accounts
//   validator-N/key                the node private key (hex, no 0x), what --node-private-key-file reads
//   validator-N/key.pub, address   its public key and address (the validator address is the node address)
//   validator-N/static-nodes.json  enode URLs of the other validators, at their fixed IPs on the chain network
// and the env file (default deploy/.env, mode 0600) from deploy/.env.example with every secret filled in:
// database, Redis and Grafana passwords, the admin token, the ledger key seed, the deployer (contract
// owner) key and the anchorer key (CHAIN_PRIVATE_KEY). Both accounts are funded in the genesis.
// Nothing is overwritten without --force; a new genesis also needs new chain volumes (docker compose down -v).
// The genesis encoding is qbft-genesis.ts, the env file env-file.ts.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Wallet } from 'ethers';
import { writeEnvFile } from './env-file.js';
import { buildGenesis } from './qbft-genesis.js';

// What deploy/test/compose.test.ts imports from this script.
export { fillEnv } from './env-file.js';
export { decodeQbftExtraData, qbftExtraData } from './qbft-genesis.js';

const DEPLOY_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** First host octet of validator 1 on the chain network; validator N is at .(10 + N). */
export const FIRST_VALIDATOR_HOST = 11;
export const P2P_PORT = 30303;

export interface GenerateOptions {
  /** Directory for genesis.json and the validator keys; created, must be empty unless `force`. */
  outDir: string;
  /** Env file to write; null to write none. */
  envFile: string | null;
  /** Template for the env file (deploy/.env.example). */
  envTemplate?: string;
  chainId?: number;
  validators?: number;
  blockPeriodSeconds?: number;
  /** First three octets of the chain network's /24 subnet, as in CHAIN_SUBNET of the compose file. */
  subnet?: string;
  force?: boolean;
}

export interface ValidatorInfo {
  name: string;
  address: string;
  /** Uncompressed secp256k1 public key without the 0x04 prefix: the node id in enode URLs. */
  enodeId: string;
  ip: string;
  enode: string;
}

export interface GeneratedNetwork {
  chainId: number;
  genesisFile: string;
  validators: ValidatorInfo[];
  deployer: string;
  anchorer: string;
  envFile: string | null;
}

function assertWritable(path: string, force: boolean, what: string) {
  if (!force && existsSync(path)) {
    throw new Error(
      `${what} ${path} already exists; ` +
        'pass --force to replace it (then remove the chain volumes: docker compose down -v)',
    );
  }
}

export function generateQbftNetwork(opts: GenerateOptions): GeneratedNetwork {
  const chainId = opts.chainId ?? 1981;
  const count = opts.validators ?? 4;
  const blockPeriodSeconds = opts.blockPeriodSeconds ?? 2;
  const subnet = opts.subnet ?? '172.30.0';
  const force = opts.force === true;
  if (!Number.isSafeInteger(chainId) || chainId < 1)
    throw new Error(`chain id must be a positive integer, got ${chainId}`);
  if (!Number.isInteger(count) || count < 1 || count > 100)
    throw new Error(`validators must be in [1, 100], got ${count}`);
  if (!Number.isInteger(blockPeriodSeconds) || blockPeriodSeconds < 1)
    throw new Error('block period must be at least 1 s');
  if (!/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(subnet) || subnet.split('.').some((o) => Number(o) > 255)) {
    throw new Error(`subnet must be three octets such as 172.30.0, got "${subnet}"`);
  }

  const outDir = resolve(opts.outDir);
  const genesisFile = join(outDir, 'genesis.json');
  assertWritable(genesisFile, force, 'genesis');
  if (opts.envFile !== null) assertWritable(resolve(opts.envFile), force, 'env file');

  const nodes = Array.from({ length: count }, (_, i) => {
    const wallet = Wallet.createRandom();
    const enodeId = wallet.signingKey.publicKey.slice(4); // strip 0x04
    const ip = `${subnet}.${FIRST_VALIDATOR_HOST + i}`;
    return {
      wallet,
      info: {
        name: `validator-${i + 1}`,
        address: wallet.address,
        enodeId,
        ip,
        enode: `enode://${enodeId}@${ip}:${P2P_PORT}`,
      },
    };
  });
  const deployer = Wallet.createRandom();
  const anchorer = Wallet.createRandom();

  const genesis = buildGenesis({
    chainId,
    blockPeriodSeconds,
    validators: nodes.map((n) => n.info.address),
    funded: [deployer.address, anchorer.address],
  });

  // The directory is private (0700); the key files inside are 0644 because Besu reads its key as the
  // container's besu user (uid 1000), not as the owner of the host file. Only the files are mounted.
  mkdirSync(outDir, { recursive: true, mode: 0o700 });
  chmodSync(outDir, 0o700);
  writeFileSync(genesisFile, `${JSON.stringify(genesis, null, 2)}\n`, { mode: 0o644 });
  for (const { wallet, info } of nodes) {
    const dir = join(outDir, info.name);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    writeFileSync(join(dir, 'key'), wallet.privateKey.slice(2), { mode: 0o644 });
    chmodSync(join(dir, 'key'), 0o644);
    writeFileSync(join(dir, 'key.pub'), `0x${info.enodeId}\n`, { mode: 0o644 });
    writeFileSync(join(dir, 'address'), `${info.address}\n`, { mode: 0o644 });
    const peers = nodes.filter((n) => n.info !== info).map((n) => n.info.enode);
    writeFileSync(join(dir, 'static-nodes.json'), `${JSON.stringify(peers, null, 2)}\n`, { mode: 0o644 });
  }
  const network = {
    chainId,
    blockPeriodSeconds,
    subnet,
    validators: nodes.map((n) => n.info),
    deployer: deployer.address,
    anchorer: anchorer.address,
    generatedAt: new Date().toISOString(),
  };
  writeFileSync(join(outDir, 'network.json'), `${JSON.stringify(network, null, 2)}\n`, { mode: 0o644 });

  let envFile: string | null = null;
  if (opts.envFile !== null) {
    envFile = resolve(opts.envFile);
    // QBFT_DIR is read by the compose file relative to deploy/; keep it relative when it is inside deploy/.
    const rel = relative(DEPLOY_DIR, outDir);
    const qbftDir = !rel.startsWith('..') && !isAbsolute(rel) ? `./${rel}` : outDir;
    writeEnvFile(envFile, opts.envTemplate ?? join(DEPLOY_DIR, '.env.example'), {
      chainId,
      subnet,
      qbftDir,
      deployerKey: deployer.privateKey,
      anchorer,
    });
  }

  return {
    chainId,
    genesisFile,
    validators: nodes.map((n) => n.info),
    deployer: deployer.address,
    anchorer: anchorer.address,
    envFile,
  };
}

const USAGE = `Generate the Besu QBFT network (genesis + validator keys) and the secrets of deploy/.env.

Usage:
  npx tsx deploy/scripts/generate-qbft.ts [options]

Options:
  --out DIR            genesis and validator keys (default: deploy/generated)
  --env FILE           env file to write from deploy/.env.example (default: deploy/.env)
  --no-env             write no env file
  --chain-id N         EVM chain id (default: 1981)
  --validators N       number of QBFT validators (default: 4, as in docker-compose.yml)
  --block-period S     seconds between blocks (default: 2)
  --subnet A.B.C       /24 of the chain network, = CHAIN_SUBNET (default: 172.30.0)
  --force              replace existing files (then: docker compose down -v, the old chain is gone)
  -h, --help           show this help
`;

/** The options as parseArgs reads them; throws on an unknown or malformed one. */
function readOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      out: { type: 'string' },
      env: { type: 'string' },
      'no-env': { type: 'boolean' },
      'chain-id': { type: 'string' },
      validators: { type: 'string' },
      'block-period': { type: 'string' },
      subnet: { type: 'string' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
}

function main(argv: string[]): number {
  let values: ReturnType<typeof readOptions>;
  try {
    values = readOptions(argv);
  } catch (err) {
    console.error(`generate-qbft: ${err instanceof Error ? err.message : String(err)}\nRun with --help for usage.`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const int = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new Error(`--${name} must be a positive integer, got "${v}"`);
    return Number(v);
  };
  try {
    const result = generateQbftNetwork({
      outDir: values.out ?? join(DEPLOY_DIR, 'generated'),
      envFile: values['no-env'] === true ? null : (values.env ?? join(DEPLOY_DIR, '.env')),
      chainId: int(values['chain-id'], 'chain-id'),
      validators: int(values.validators, 'validators'),
      blockPeriodSeconds: int(values['block-period'], 'block-period'),
      subnet: values.subnet,
      force: values.force === true,
    });
    console.log(`QBFT network for chain ${result.chainId}: ${result.validators.length} validators`);
    for (const v of result.validators) console.log(`  ${v.name}  ${v.address}  ${v.ip}`);
    console.log(`deployer (contract owner) ${result.deployer}, anchorer ${result.anchorer}`);
    console.log(`wrote ${result.genesisFile}${result.envFile === null ? '' : ` and ${result.envFile}`}`);
    return 0;
  } catch (err) {
    console.error(`generate-qbft: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
