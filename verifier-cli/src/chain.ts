// The chain side: TallyAnchor's views, read with ethers through the verifier's own human-readable ABI
// fragments (nothing imported from contracts/). Every root, hash and count the verifier compares
// against comes from here, never from the server.
import { Contract, JsonRpcProvider, Network, getAddress, id, isAddress, isCallException } from 'ethers';
import { InputError } from './errors.js';
import { fromBytes32, toBytes32 } from './hex.js';

/** The part of TallyAnchor's ABI the verifier reads (views, their custom errors, the events). */
export const TALLY_ANCHOR_ABI = [
  'function getElection(bytes32 electionKey) view returns (bytes32 manifestHash, bytes32 rollRoot, uint64 registeredAt, bool closed, bytes32 resultHash, uint64 totalBallots, uint64 anchoredBallots, uint64 anchoredWindows)',
  'function windowCount(bytes32 electionKey) view returns (uint64)',
  'function getWindow(bytes32 electionKey, uint64 windowIndex) view returns (uint64 firstSeq, uint64 count, bytes32 root, uint64 anchoredAt)',
  'function verifyInclusion(bytes32 electionKey, uint64 windowIndex, uint64 leafIndex, bytes32 ballotHash, bytes32[] proof) view returns (bool)',
  // An election of several shards (docs/protocol.md 13.4): one anchor interval of shard windows per transaction.
  'function intervalCount(bytes32 electionKey) view returns (uint64)',
  'function getInterval(bytes32 electionKey, uint64 intervalIndex) view returns (bytes32 root, uint64 windowCount, uint64 ballotCount, uint64 anchoredAt)',
  'function verifyIntervalInclusion(bytes32 electionKey, uint64 intervalIndex, uint64 recordIndex, uint32 shard, uint64 windowIndex, uint64 firstSeq, uint64 count, bytes32 windowRoot, bytes32[] intervalProof, uint64 leafIndex, bytes32 ballotHash, bytes32[] windowProof) view returns (bool)',
  'error TallyAnchorElectionNotRegistered(bytes32 electionKey)',
  'error TallyAnchorUnknownWindow(bytes32 electionKey, uint64 windowIndex)',
  'error TallyAnchorUnknownInterval(bytes32 electionKey, uint64 intervalIndex)',
  'event ElectionRegistered(bytes32 indexed electionKey, bytes32 manifestHash, bytes32 rollRoot)',
  'event WindowAnchored(bytes32 indexed electionKey, uint64 indexed windowIndex, uint64 firstSeq, uint64 count, bytes32 root)',
  'event IntervalAnchored(bytes32 indexed electionKey, uint64 indexed intervalIndex, uint64 windowCount, uint64 ballotCount, bytes32 root)',
  'event ElectionClosed(bytes32 indexed electionKey, bytes32 resultHash, uint64 totalBallots)',
] as const;

/** electionKey = keccak256(utf8(electionId)), 0x-prefixed. */
export function electionKey(electionId: string): string {
  return id(electionId);
}

/** getElection, with hashes as lowercase hex without 0x and counts as numbers. */
export interface ChainElection {
  manifestHash: string;
  rollRoot: string;
  registeredAt: number;
  closed: boolean;
  resultHash: string;
  totalBallots: number;
  anchoredBallots: number;
  anchoredWindows: number;
}

/** getWindow(index), root as lowercase hex without 0x. */
export interface ChainWindow {
  index: number;
  firstSeq: number;
  count: number;
  root: string;
  /** Block timestamp of the anchoring transaction, seconds. */
  anchoredAt: number;
}

/** getInterval(index) of an election of several shards, root as lowercase hex without 0x. */
export interface ChainInterval {
  index: number;
  root: string;
  /** Records (shard windows) in the interval's tree. */
  windowCount: number;
  /** The ballots of those windows. */
  ballotCount: number;
  /** Block timestamp of the anchoring transaction, seconds. */
  anchoredAt: number;
}

/** The two-level proof of verifyIntervalInclusion (docs/protocol.md 13.4); hashes as lowercase hex. */
export interface IntervalInclusionArgs {
  intervalIndex: number;
  recordIndex: number;
  shard: number;
  windowIndex: number;
  firstSeq: number;
  count: number;
  windowRoot: string;
  intervalProof: readonly string[];
  leafIndex: number;
  ballotHash: string;
  windowProof: readonly string[];
}

/** An anchoring event's transaction, for the observer's table. */
export interface ChainEventRef {
  txHash: string;
  blockNumber: number;
}

const CONNECT_TIMEOUT_MS = 10_000;
const WINDOW_READ_CONCURRENCY = 16;

function toCount(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER))
    throw new InputError(`the chain returned ${what} = ${value}, beyond what the verifier handles`);
  return Number(value);
}

/** Read-only access to one TallyAnchor on one chain. */
export class ChainReader {
  private constructor(
    readonly rpcUrl: string,
    readonly chainId: number,
    readonly address: string,
    private readonly provider: JsonRpcProvider,
    private readonly contract: Contract,
  ) {}

  /**
   * Connects to `rpcUrl` (asking its chain id first, with a timeout, so an unreachable endpoint is an
   * InputError and not an endless retry) and checks that code is deployed at `address`.
   */
  static async connect(rpcUrl: string, address: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<ChainReader> {
    if (!isAddress(address)) throw new InputError(`--contract ${address} is not an EVM address`);
    const chainId = await fetchChainId(rpcUrl, timeoutMs);
    const provider = new JsonRpcProvider(rpcUrl, Network.from(chainId), { staticNetwork: true, cacheTimeout: -1 });
    const checksummed = getAddress(address);
    let code: string;
    try {
      code = await provider.getCode(checksummed);
    } catch (err) {
      provider.destroy();
      throw new InputError(
        `cannot read the contract code at ${checksummed} from ${rpcUrl}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (code === '0x') {
      provider.destroy();
      throw new InputError(`no contract at ${checksummed} on chain ${chainId} (${rpcUrl})`);
    }
    const contract = new Contract(checksummed, TALLY_ANCHOR_ABI, provider);
    return new ChainReader(rpcUrl, chainId, checksummed, provider, contract);
  }

  close(): void {
    this.provider.destroy();
  }

  /** getElection(electionKey), or null when the election is not registered. */
  async election(electionId: string): Promise<ChainElection | null> {
    try {
      const r = await this.contract.getFunction('getElection').staticCall(electionKey(electionId));
      return {
        manifestHash: fromBytes32(r[0] as string),
        rollRoot: fromBytes32(r[1] as string),
        registeredAt: toCount(r[2] as bigint, 'registeredAt'),
        closed: r[3] as boolean,
        resultHash: fromBytes32(r[4] as string),
        totalBallots: toCount(r[5] as bigint, 'totalBallots'),
        anchoredBallots: toCount(r[6] as bigint, 'anchoredBallots'),
        anchoredWindows: toCount(r[7] as bigint, 'anchoredWindows'),
      };
    } catch (err) {
      if (isCallException(err) && err.revert?.name === 'TallyAnchorElectionNotRegistered') return null;
      throw this.readError('getElection', err);
    }
  }

  async windowCount(electionId: string): Promise<number> {
    try {
      const n = (await this.contract.getFunction('windowCount').staticCall(electionKey(electionId))) as bigint;
      return toCount(n, 'windowCount');
    } catch (err) {
      throw this.readError('windowCount', err);
    }
  }

  async window(electionId: string, index: number): Promise<ChainWindow> {
    try {
      const r = await this.contract.getFunction('getWindow').staticCall(electionKey(electionId), index);
      return {
        index,
        firstSeq: toCount(r[0] as bigint, 'firstSeq'),
        count: toCount(r[1] as bigint, 'count'),
        root: fromBytes32(r[2] as string),
        anchoredAt: toCount(r[3] as bigint, 'anchoredAt'),
      };
    } catch (err) {
      throw this.readError(`getWindow(${index})`, err);
    }
  }

  /** Windows 0 .. count-1, read a few at a time, in index order. */
  async windows(electionId: string, count: number, onRead?: (done: number) => void): Promise<ChainWindow[]> {
    return readConcurrently(count, (index) => this.window(electionId, index), onRead);
  }

  /** intervalCount: an election of several shards' anchor intervals (0 for one that anchors windows). */
  async intervalCount(electionId: string): Promise<number> {
    try {
      const n = (await this.contract.getFunction('intervalCount').staticCall(electionKey(electionId))) as bigint;
      return toCount(n, 'intervalCount');
    } catch (err) {
      throw this.readError('intervalCount', err);
    }
  }

  async interval(electionId: string, index: number): Promise<ChainInterval> {
    try {
      const r = await this.contract.getFunction('getInterval').staticCall(electionKey(electionId), index);
      return {
        index,
        root: fromBytes32(r[0] as string),
        windowCount: toCount(r[1] as bigint, 'windowCount'),
        ballotCount: toCount(r[2] as bigint, 'ballotCount'),
        anchoredAt: toCount(r[3] as bigint, 'anchoredAt'),
      };
    } catch (err) {
      throw this.readError(`getInterval(${index})`, err);
    }
  }

  /** Intervals 0 .. count-1, read a few at a time, in index order. */
  async intervals(electionId: string, count: number): Promise<ChainInterval[]> {
    return readConcurrently(count, (index) => this.interval(electionId, index));
  }

  /** The contract's own two-level check (verifyIntervalInclusion view). */
  async verifyIntervalInclusion(electionId: string, a: IntervalInclusionArgs): Promise<boolean> {
    try {
      return (await this.contract
        .getFunction('verifyIntervalInclusion')
        .staticCall(
          electionKey(electionId),
          a.intervalIndex,
          a.recordIndex,
          a.shard,
          a.windowIndex,
          a.firstSeq,
          a.count,
          toBytes32(a.windowRoot),
          a.intervalProof.map(toBytes32),
          a.leafIndex,
          toBytes32(a.ballotHash),
          a.windowProof.map(toBytes32),
        )) as boolean;
    } catch (err) {
      throw this.readError('verifyIntervalInclusion', err);
    }
  }

  /** The contract's own RFC 9162 check (verifyInclusion view). */
  async verifyInclusion(
    electionId: string,
    windowIndex: number,
    leafIndex: number,
    ballotHash: string,
    auditPath: readonly string[],
  ): Promise<boolean> {
    try {
      return (await this.contract
        .getFunction('verifyInclusion')
        .staticCall(
          electionKey(electionId),
          windowIndex,
          leafIndex,
          toBytes32(ballotHash),
          auditPath.map(toBytes32),
        )) as boolean;
    } catch (err) {
      throw this.readError('verifyInclusion', err);
    }
  }

  /**
   * Transactions of the ElectionRegistered, WindowAnchored and ElectionClosed events of `electionId`
   * from block `fromBlock` on (for the observer's table; RPC endpoints may limit log ranges).
   */
  async events(
    electionId: string,
    fromBlock: number,
  ): Promise<{
    registered?: ChainEventRef;
    windows: Map<number, ChainEventRef>;
    intervals: Map<number, ChainEventRef>;
    closed?: ChainEventRef;
  }> {
    const key = electionKey(electionId);
    const ref = (log: { transactionHash: string; blockNumber: number }): ChainEventRef => ({
      txHash: log.transactionHash,
      blockNumber: log.blockNumber,
    });
    try {
      const [registered, anchored, intervalLogs, closed] = await Promise.all([
        this.contract.queryFilter(this.contract.filters.ElectionRegistered!(key), fromBlock),
        this.contract.queryFilter(this.contract.filters.WindowAnchored!(key), fromBlock),
        this.contract.queryFilter(this.contract.filters.IntervalAnchored!(key), fromBlock),
        this.contract.queryFilter(this.contract.filters.ElectionClosed!(key), fromBlock),
      ]);
      // The second indexed topic is the window's (or interval's) index.
      const byIndex = (logs: typeof anchored): Map<number, ChainEventRef> =>
        new Map(
          logs.map((log) => ['args' in log ? Number(log.args[1] as bigint) : Number(BigInt(log.topics[2]!)), ref(log)]),
        );
      const out: {
        registered?: ChainEventRef;
        windows: Map<number, ChainEventRef>;
        intervals: Map<number, ChainEventRef>;
        closed?: ChainEventRef;
      } = { windows: byIndex(anchored), intervals: byIndex(intervalLogs) };
      if (registered[0] !== undefined) out.registered = ref(registered[0]);
      if (closed[0] !== undefined) out.closed = ref(closed[0]);
      return out;
    } catch (err) {
      throw this.readError('eth_getLogs', err);
    }
  }

  private readError(what: string, err: unknown): InputError {
    return new InputError(`chain read ${what} on ${this.address} (${this.rpcUrl}) failed: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** read(0) .. read(count-1), WINDOW_READ_CONCURRENCY at a time, in index order. */
export async function readConcurrently<T>(
  count: number,
  read: (index: number) => Promise<T>,
  onRead?: (done: number) => void,
): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  let done = 0;
  const reader = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      out[index] = await read(index);
      onRead?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(WINDOW_READ_CONCURRENCY, count) }, reader));
  return out;
}

/** eth_chainId with a timeout; an InputError names the endpoint when it does not answer. */
export async function fetchChainId(rpcUrl: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<number> {
  let body: { result?: unknown; error?: { message?: string } };
  try {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    body = (await res.json()) as typeof body;
  } catch (err) {
    throw new InputError(`the chain RPC endpoint ${rpcUrl} does not answer: ${(err as Error).message}`, { cause: err });
  }
  if (typeof body.result !== 'string')
    throw new InputError(`the chain RPC endpoint ${rpcUrl} refused eth_chainId: ${body.error?.message ?? 'no result'}`);
  return Number(BigInt(body.result));
}
