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
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Wallet, decodeRlp, encodeRlp, getAddress, type RlpStructuredData } from 'ethers';

const DEPLOY_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** QBFT's fixed mixHash ("istanbul digest"): Besu refuses a QBFT genesis without it. */
export const QBFT_MIX_HASH = '0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365';
/** First host octet of validator 1 on the chain network; validator N is at .(10 + N). */
export const FIRST_VALIDATOR_HOST = 11;
export const P2P_PORT = 30303;
/** 10^24 wei for the deployer and the anchorer: gas is free (zeroBaseFee, --min-gas-price=0), this is headroom. */
const FUNDING_WEI = 10n ** 24n;

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

/**
 * The QBFT genesis extraData: RLP([vanity (32 zero bytes), [validator addresses], votes (empty list),
 * round (0, an RLP scalar: the empty string), seals (empty list)]).
 */
export function qbftExtraData(validatorAddresses: string[]): string {
  if (validatorAddresses.length === 0) throw new Error('QBFT needs at least one validator');
  const data: RlpStructuredData = [
    `0x${'00'.repeat(32)}`,
    validatorAddresses.map((a) => getAddress(a).toLowerCase()),
    [],
    '0x',
    [],
  ];
  return encodeRlp(data);
}

/** Inverse of qbftExtraData, strict about the shape; returns the checksummed validator addresses. */
export function decodeQbftExtraData(extraData: string): string[] {
  const decoded = decodeRlp(extraData);
  if (!Array.isArray(decoded) || decoded.length !== 5) throw new Error('QBFT extraData must be an RLP list of 5 items');
  const [vanity, validators, votes, round, seals] = decoded;
  if (typeof vanity !== 'string' || !/^0x(00){32}$/.test(vanity)) throw new Error('vanity must be 32 zero bytes');
  if (!Array.isArray(validators) || validators.some((v) => typeof v !== 'string' || !/^0x[0-9a-f]{40}$/.test(v))) {
    throw new Error('validators must be a list of 20-byte addresses');
  }
  if (!Array.isArray(votes) || votes.length !== 0) throw new Error('votes must be an empty list in a genesis');
  if (round !== '0x') throw new Error('round must be 0');
  if (!Array.isArray(seals) || seals.length !== 0) throw new Error('seals must be an empty list in a genesis');
  return (validators as string[]).map((v) => getAddress(v));
}

export function buildGenesis(opts: { chainId: number; blockPeriodSeconds: number; validators: string[]; funded: string[] }) {
  return {
    config: {
      chainId: opts.chainId,
      berlinBlock: 0,
      londonBlock: 0,
      // Free gas: base fee 0 (London) with --min-gas-price=0 on every node.
      zeroBaseFee: true,
      qbft: {
        blockperiodseconds: opts.blockPeriodSeconds,
        epochlength: 30000,
        requesttimeoutseconds: Math.max(4, opts.blockPeriodSeconds * 2),
      },
    },
    nonce: '0x0',
    timestamp: '0x0',
    gasLimit: '0x1fffffffffffff',
    difficulty: '0x1',
    mixHash: QBFT_MIX_HASH,
    coinbase: '0x0000000000000000000000000000000000000000',
    extraData: qbftExtraData(opts.validators),
    alloc: Object.fromEntries(opts.funded.map((a) => [getAddress(a).slice(2).toLowerCase(), { balance: `0x${FUNDING_WEI.toString(16)}` }])),
  };
}

/** Hex only: safe in URLs (DATABASE_URL, REDIS_URL), on command lines and in env files. */
function secret(bytes = 24): string {
  return randomBytes(bytes).toString('hex');
}

/** Replaces `NAME=value` lines of the template (keeping comments and order); appends names it lacks. */
export function fillEnv(template: string, values: Record<string, string>): string {
  const seen = new Set<string>();
  const lines = template.replace(/\n+$/, '').split('\n').map((line) => {
    const m = /^([A-Z][A-Z0-9_]*)=/.exec(line);
    if (m === null || !(m[1]! in values)) return line;
    seen.add(m[1]!);
    return `${m[1]}=${values[m[1]!]}`;
  });
  const missing = Object.keys(values).filter((k) => !seen.has(k));
  if (missing.length > 0) lines.push('', '# Added by generate-qbft.ts', ...missing.map((k) => `${k}=${values[k]}`));
  return lines.join('\n').replace(/\n*$/, '\n');
}

function assertWritable(path: string, force: boolean, what: string) {
  if (!force && existsSync(path)) {
    throw new Error(`${what} ${path} already exists; pass --force to replace it (then remove the chain volumes: docker compose down -v)`);
  }
}

export function generateQbftNetwork(opts: GenerateOptions): GeneratedNetwork {
  const chainId = opts.chainId ?? 1981;
  const count = opts.validators ?? 4;
  const blockPeriodSeconds = opts.blockPeriodSeconds ?? 2;
  const subnet = opts.subnet ?? '172.30.0';
  const force = opts.force === true;
  if (!Number.isSafeInteger(chainId) || chainId < 1) throw new Error(`chain id must be a positive integer, got ${chainId}`);
  if (!Number.isInteger(count) || count < 1 || count > 100) throw new Error(`validators must be in [1, 100], got ${count}`);
  if (!Number.isInteger(blockPeriodSeconds) || blockPeriodSeconds < 1) throw new Error('block period must be at least 1 s');
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
      info: { name: `validator-${i + 1}`, address: wallet.address, enodeId, ip, enode: `enode://${enodeId}@${ip}:${P2P_PORT}` },
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
    const template = readFileSync(opts.envTemplate ?? join(DEPLOY_DIR, '.env.example'), 'utf8');
    // QBFT_DIR is read by the compose file relative to deploy/; keep it relative when it is inside deploy/.
    const rel = relative(DEPLOY_DIR, outDir);
    const qbftDir = !rel.startsWith('..') && !isAbsolute(rel) ? `./${rel}` : outDir;
    const values: Record<string, string> = {
      CHAIN_ID: String(chainId),
      CHAIN_SUBNET: subnet,
      QBFT_DIR: qbftDir,
      POSTGRES_PASSWORD: secret(),
      TALLYPROOF_APP_DB_PASSWORD: secret(),
      REDIS_PASSWORD: secret(),
      GRAFANA_ADMIN_PASSWORD: secret(),
      ADMIN_TOKEN: randomBytes(32).toString('hex'),
      LEDGER_KEY_SEED: randomBytes(32).toString('hex'),
      DEPLOYER_KEY: deployer.privateKey,
      CHAIN_PRIVATE_KEY: anchorer.privateKey,
      ANCHORER_ADDRESS: anchorer.address,
    };
    mkdirSync(dirname(envFile), { recursive: true });
    writeFileSync(envFile, fillEnv(template, values), { mode: 0o600 });
    chmodSync(envFile, 0o600);
  }

  return { chainId, genesisFile, validators: nodes.map((n) => n.info), deployer: deployer.address, anchorer: anchorer.address, envFile };
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

function main(argv: string[]): number {
  let values;
  try {
    ({ values } = parseArgs({
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
    }));
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
