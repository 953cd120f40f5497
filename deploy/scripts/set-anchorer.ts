// Allows or revokes an anchorer account on TallyAnchor, signed by the contract owner (the deployer
// key): step one and three of rotating CHAIN_PRIVATE_KEY (docs/operations.md, "Rotating the anchorer key").
//
//   OWNER_KEY=0x… npx tsx deploy/scripts/set-anchorer.ts --rpc http://127.0.0.1:8545 \
//       --contract 0xTALLY_ANCHOR --account 0xNEW_ANCHORER --allow
//   OWNER_KEY=0x… npx tsx deploy/scripts/set-anchorer.ts … --account 0xOLD_ANCHORER --revoke
//
// Allowing an account with no balance also sends it --fund ether (default 1000) from the owner: gas
// is free on the stack's chain (zero base fee), but a client may still offer a priority fee.
//
// The owner key is read from OWNER_KEY (or DEPLOYER_KEY), never from the command line. --contract
// defaults to the address in --deployment FILE (the deployment record of the stack).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Contract, JsonRpcProvider, Wallet, getAddress, isAddress, isHexString, parseEther } from 'ethers';

const ABI = [
  'function setAnchorer(address account, bool allowed)',
  'function isAnchorer(address account) view returns (bool)',
  'function owner() view returns (address)',
];

const USAGE = `Allow or revoke a TallyAnchor anchorer (owner only).

Usage:
  OWNER_KEY=0x… npx tsx deploy/scripts/set-anchorer.ts --rpc URL (--contract 0xADDR | --deployment FILE)
      --account 0xADDR (--allow [--fund ETH] | --revoke)

  --fund ETH   ether sent from the owner to an allowed account whose balance is 0 (default 1000; 0: none)
`;

export interface SetAnchorerArgs {
  rpc: string;
  contract: string;
  account: string;
  allowed: boolean;
  ownerKey: string;
  /** Wei sent to a newly allowed account that holds none. */
  fundWei?: bigint;
}

export async function setAnchorer(
  args: SetAnchorerArgs,
): Promise<{ txHash: string | null; allowed: boolean; fundTxHash: string | null }> {
  const provider = new JsonRpcProvider(args.rpc, undefined, { staticNetwork: true, pollingInterval: 500 });
  try {
    const owner = new Wallet(args.ownerKey, provider);
    const anchor = new Contract(args.contract, ABI, owner);
    const currentOwner = getAddress(await anchor.getFunction('owner')());
    if (currentOwner !== owner.address)
      throw new Error(`the key is ${owner.address}, the contract owner is ${currentOwner}`);
    let fundTxHash: string | null = null;
    if (args.allowed && (args.fundWei ?? 0n) > 0n && (await provider.getBalance(args.account)) === 0n) {
      const fund = await owner.sendTransaction({ to: args.account, value: args.fundWei });
      await fund.wait();
      fundTxHash = fund.hash;
    }
    if ((await anchor.getFunction('isAnchorer')(args.account)) === args.allowed) {
      return { txHash: null, allowed: args.allowed, fundTxHash };
    }
    const tx = await anchor.getFunction('setAnchorer')(args.account, args.allowed);
    const receipt = await tx.wait();
    if (receipt === null || receipt.status !== 1) throw new Error(`setAnchorer transaction ${tx.hash} failed`);
    const now = (await anchor.getFunction('isAnchorer')(args.account)) as boolean;
    if (now !== args.allowed) throw new Error(`after ${tx.hash}, isAnchorer(${args.account}) is ${now}`);
    return { txHash: tx.hash as string, allowed: now, fundTxHash };
  } finally {
    provider.destroy();
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      rpc: { type: 'string' },
      contract: { type: 'string' },
      deployment: { type: 'string' },
      account: { type: 'string' },
      allow: { type: 'boolean' },
      revoke: { type: 'boolean' },
      fund: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const fail = (message: string) => {
    console.error(`set-anchorer: ${message}\nRun with --help for usage.`);
    return 2;
  };
  if (values.rpc === undefined) return fail('missing --rpc URL');
  const contract =
    values.contract ??
    (values.deployment !== undefined
      ? (JSON.parse(readFileSync(values.deployment, 'utf8')) as { address?: string }).address
      : undefined);
  if (contract === undefined || !isAddress(contract)) return fail('give --contract 0xADDRESS or --deployment FILE');
  if (values.account === undefined || !isAddress(values.account)) return fail('--account must be an address');
  if ((values.allow === true) === (values.revoke === true)) return fail('give exactly one of --allow, --revoke');
  const fund = values.fund ?? '1000';
  if (!/^\d+(\.\d+)?$/.test(fund)) return fail('--fund must be an amount of ether, e.g. 1000');
  const ownerKey = process.env.OWNER_KEY || process.env.DEPLOYER_KEY;
  if (ownerKey === undefined || !isHexString(ownerKey, 32))
    return fail('OWNER_KEY must hold the owner private key (0x + 64 hex)');
  const result = await setAnchorer({
    rpc: values.rpc,
    contract,
    account: getAddress(values.account),
    allowed: values.allow === true,
    ownerKey,
    fundWei: parseEther(fund),
  });
  if (result.fundTxHash !== null) console.log(`sent ${fund} ether to ${values.account} (tx ${result.fundTxHash})`);
  const state = result.allowed ? 'allowed' : 'revoked';
  console.log(
    result.txHash === null
      ? `${values.account} was already ${state}`
      : `${values.account} ${state} (tx ${result.txHash})`,
  );
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`set-anchorer: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
