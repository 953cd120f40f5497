// TallyAnchor for TypeScript: the committed ABI and bytecode (contracts/artifacts/TallyAnchor.json,
// produced by `npx tsx contracts/scripts/build.ts`), the election key, deployment, and a typed
// ethers v6 Contract.
import {
  type BaseContract,
  Contract,
  ContractFactory,
  Interface,
  getAddress,
  id,
  type BaseContractMethod,
  type ContractRunner,
  type ContractTransactionResponse,
  type InterfaceAbi,
  type Result,
  type Signer,
} from 'ethers';
import artifact from './artifacts/TallyAnchor.json' with { type: 'json' };

/** The contract ABI (JSON fragments as emitted by solc). */
export const TALLY_ANCHOR_ABI: InterfaceAbi = artifact.abi;
/** Creation bytecode, 0x-prefixed; the constructor takes `address[] initialAnchorers`. */
export const TALLY_ANCHOR_BYTECODE: string = artifact.bytecode;
/** Runtime bytecode, 0x-prefixed; what eth_getCode returns for a deployed TallyAnchor. */
export const TALLY_ANCHOR_DEPLOYED_BYTECODE: string = artifact.deployedBytecode;
/** The solc build that produced the bytecode. */
export const TALLY_ANCHOR_SOLC_VERSION: string = artifact.solcVersion;
/** Parsed ABI, e.g. for `parseError(err.data)` or `parseLog(log)`. */
export const TALLY_ANCHOR_INTERFACE = new Interface(TALLY_ANCHOR_ABI);

/** `electionKey = keccak256(utf8(electionId))`, 0x-prefixed lowercase hex (docs/protocol.md). */
export function electionKey(electionId: string): string {
  return id(electionId);
}

export interface TallyAnchorDeployment {
  address: string;
  chainId: number;
  blockNumber: number;
  deployer: string;
  txHash: string;
}

/**
 * Deploys TallyAnchor owned by `signer`. The allow-list starts with `opts.anchorers`, by default the
 * deployer alone; pass `[]` to start with none. Resolves once the deployment is mined.
 */
export async function deployTallyAnchor(
  signer: Signer,
  opts: { anchorers?: string[] } = {},
): Promise<TallyAnchorDeployment> {
  if (signer.provider === null) throw new Error('deployTallyAnchor: the signer has no provider');
  const deployer = await signer.getAddress();
  const anchorers = (opts.anchorers ?? [deployer]).map((address) => getAddress(address));
  const factory = new ContractFactory(TALLY_ANCHOR_ABI, TALLY_ANCHOR_BYTECODE, signer);
  const contract = await factory.deploy(anchorers);
  const tx = contract.deploymentTransaction();
  if (tx === null) throw new Error('deployTallyAnchor: no deployment transaction');
  const receipt = await tx.wait();
  if (receipt === null || receipt.status !== 1 || receipt.contractAddress === null) {
    throw new Error(`deployTallyAnchor: deployment ${tx.hash} failed`);
  }
  const network = await signer.provider.getNetwork();
  return {
    address: getAddress(receipt.contractAddress),
    chainId: Number(network.chainId),
    blockNumber: receipt.blockNumber,
    deployer,
    txHash: tx.hash,
  };
}

type View<A extends unknown[], R> = BaseContractMethod<A, R, R>;
type Write<A extends unknown[]> = BaseContractMethod<A, void, ContractTransactionResponse>;

/** Result of getElection: an ethers Result, readable by name or position. */
export type ElectionRecord = Result & {
  readonly manifestHash: string;
  readonly rollRoot: string;
  /** Block timestamp (seconds) of the registration. */
  readonly registeredAt: bigint;
  readonly closed: boolean;
  /** Zero while open. */
  readonly resultHash: string;
  /** Zero while open; equals anchoredBallots once closed. */
  readonly totalBallots: bigint;
  /** Ballots anchored so far: the firstSeq of the next window (window mode), the sum of the intervals' ballotCount
   * (interval mode). */
  readonly anchoredBallots: bigint;
  /** Windows anchored so far: the index of the next window. Always 0 for an election in interval mode. */
  readonly anchoredWindows: bigint;
};

/** Result of getWindow: an ethers Result, readable by name or position. */
export type WindowRecord = Result & {
  readonly firstSeq: bigint;
  readonly count: bigint;
  readonly root: string;
  /** Block timestamp (seconds) of the anchoring transaction. */
  readonly anchoredAt: bigint;
};

/** Result of getInterval (sharded elections): an ethers Result, readable by name or position. */
export type IntervalRecord = Result & {
  /** RFC 6962 root over the interval's 60-byte shard-window records. */
  readonly root: string;
  /** Shard windows (records, leaves of the interval tree) in the interval. */
  readonly windowCount: bigint;
  /** Ballots in those windows. */
  readonly ballotCount: bigint;
  /** Block timestamp (seconds) of the anchoring transaction. */
  readonly anchoredAt: bigint;
};

/** ethers Contract for TallyAnchor with typed methods. Integers go in as bigint/number, come out as bigint. */
export interface TallyAnchorContract extends BaseContract {
  // writes (anchorers)
  registerElection: Write<[electionKey: string, manifestHash: string, rollRoot: string]>;
  anchorWindow: Write<
    [electionKey: string, windowIndex: bigint | number, firstSeq: bigint | number, count: bigint | number, root: string]
  >;
  anchorInterval: Write<
    [
      electionKey: string,
      intervalIndex: bigint | number,
      windowCount: bigint | number,
      ballotCount: bigint | number,
      root: string,
    ]
  >;
  closeElection: Write<[electionKey: string, resultHash: string, totalBallots: bigint | number]>;
  // owner
  setAnchorer: Write<[account: string, allowed: boolean]>;
  transferOwnership: Write<[newOwner: string]>;
  renounceOwnership: Write<[]>;
  // views
  owner: View<[], string>;
  isAnchorer: View<[account: string], boolean>;
  windowCount: View<[electionKey: string], bigint>;
  getWindow: View<[electionKey: string, windowIndex: bigint | number], WindowRecord>;
  getElection: View<[electionKey: string], ElectionRecord>;
  intervalCount: View<[electionKey: string], bigint>;
  getInterval: View<[electionKey: string, intervalIndex: bigint | number], IntervalRecord>;
  verifyInclusion: View<
    [
      electionKey: string,
      windowIndex: bigint | number,
      leafIndex: bigint | number,
      ballotHash: string,
      proof: string[],
    ],
    boolean
  >;
  verifyIntervalInclusion: View<
    [
      electionKey: string,
      intervalIndex: bigint | number,
      recordIndex: bigint | number,
      shard: bigint | number,
      windowIndex: bigint | number,
      firstSeq: bigint | number,
      count: bigint | number,
      windowRoot: string,
      intervalProof: string[],
      leafIndex: bigint | number,
      ballotHash: string,
      windowProof: string[],
    ],
    boolean
  >;
}

/** A TallyAnchor at `address`; `runner` is a Signer to write or a Provider to read. */
export function tallyAnchor(address: string, runner: ContractRunner | null): TallyAnchorContract {
  return new Contract(address, TALLY_ANCHOR_INTERFACE, runner) as unknown as TallyAnchorContract;
}
