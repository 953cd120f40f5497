// Helpers for the TallyAnchor tests: a chain with a deployed contract, custom-error and event checks.
import { expect } from 'vitest';
import { Wallet, type ContractTransactionResponse, type JsonRpcProvider, type TransactionReceipt } from 'ethers';
import { anvilProvider, startAnvil, type AnvilNode } from '../../test/support/anvil.js';
import {
  TALLY_ANCHOR_INTERFACE,
  deployTallyAnchor,
  tallyAnchor,
  type TallyAnchorContract,
  type TallyAnchorDeployment,
} from '../index.js';

export interface Fixture {
  chain: AnvilNode;
  provider: JsonRpcProvider;
  /** Deployer and owner; not an anchorer unless a test makes it one. */
  owner: Wallet;
  /** On the allow-list from deployment. */
  anchorer: Wallet;
  /** Never allow-listed. */
  stranger: Wallet;
  deployment: TallyAnchorDeployment;
  /** The contract as seen by each account. */
  asOwner: TallyAnchorContract;
  asAnchorer: TallyAnchorContract;
  asStranger: TallyAnchorContract;
}

/** Starts anvil and deploys TallyAnchor owned by account 0 with account 1 as the only anchorer. */
export async function deployFixture(): Promise<Fixture> {
  const chain = await startAnvil();
  const provider = anvilProvider(chain);
  const [owner, anchorer, stranger] = chain.accounts.slice(0, 3).map((a) => new Wallet(a.privateKey, provider)) as [
    Wallet,
    Wallet,
    Wallet,
  ];
  const deployment = await deployTallyAnchor(owner, { anchorers: [anchorer.address] });
  return {
    chain,
    provider,
    owner,
    anchorer,
    stranger,
    deployment,
    asOwner: tallyAnchor(deployment.address, owner),
    asAnchorer: tallyAnchor(deployment.address, anchorer),
    asStranger: tallyAnchor(deployment.address, stranger),
  };
}

export async function stopFixture(fx: Fixture | undefined): Promise<void> {
  if (fx === undefined) return;
  fx.provider.destroy();
  await fx.chain.stop();
}

/** The revert data carried by an ethers error (eth_call, eth_estimateGas or a mined revert). */
function revertData(err: unknown): string | undefined {
  const e = err as { data?: unknown; info?: { error?: { data?: unknown } }; error?: { data?: unknown } };
  for (const candidate of [e.data, e.info?.error?.data, e.error?.data]) {
    if (typeof candidate === 'string' && candidate.startsWith('0x')) return candidate;
  }
  return undefined;
}

/**
 * Awaits `action` and asserts it reverted with the custom error `name` carrying exactly `args`
 * (bigint for integers, lowercase 0x hex for bytes32, checksummed addresses).
 */
export async function expectRevert(action: Promise<unknown>, name: string, args: unknown[]): Promise<void> {
  let error: unknown;
  try {
    await action;
  } catch (err) {
    error = err;
  }
  if (error === undefined) throw new Error(`expected a revert with ${name}, but the call succeeded`);
  const data = revertData(error);
  if (data === undefined)
    throw new Error(`expected a revert with ${name}, got an error without revert data: ${String(error)}`);
  const parsed = TALLY_ANCHOR_INTERFACE.parseError(data);
  expect(parsed, `revert data ${data} is not a TallyAnchor error`).not.toBeNull();
  expect(parsed?.name).toBe(name);
  expect(parsed?.args.toArray()).toEqual(args);
}

/** Sends, waits for the receipt and checks it succeeded. */
export async function mined(tx: Promise<ContractTransactionResponse>): Promise<TransactionReceipt> {
  const receipt = await (await tx).wait();
  if (receipt === null || receipt.status !== 1) throw new Error('transaction failed');
  return receipt;
}

/** The TallyAnchor events of a receipt as {name, args}. */
export function eventsOf(receipt: TransactionReceipt): { name: string; args: unknown[] }[] {
  return receipt.logs.map((log) => {
    const parsed = TALLY_ANCHOR_INTERFACE.parseLog({ topics: [...log.topics], data: log.data });
    if (parsed === null) throw new Error(`log ${log.index} is not a TallyAnchor event`);
    return { name: parsed.name, args: parsed.args.toArray() };
  });
}

/** A deterministic non-zero bytes32 for test data. */
export function b32(label: string | number): string {
  const hex = Buffer.from(String(label)).toString('hex').padEnd(64, 'f').slice(0, 64);
  return `0x${hex}`;
}

export const ZERO32 = `0x${'00'.repeat(32)}`;
