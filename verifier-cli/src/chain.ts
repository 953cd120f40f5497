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
  'error TallyAnchorElectionNotRegistered(bytes32 electionKey)',
  'error TallyAnchorUnknownWindow(bytes32 electionKey, uint64 windowIndex)',
  'event ElectionRegistered(bytes32 indexed electionKey, bytes32 manifestHash, bytes32 rollRoot)',
  'event WindowAnchored(bytes32 indexed electionKey, uint64 indexed windowIndex, uint64 firstSeq, uint64 count, bytes32 root)',
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
    const out: ChainWindow[] = new Array(count);
    let next = 0;
    let done = 0;
    const reader = async (): Promise<void> => {
      while (next < count) {
        const index = next++;
        out[index] = await this.window(electionId, index);
        onRead?.(++done);
      }
    };
    await Promise.all(Array.from({ length: Math.min(WINDOW_READ_CONCURRENCY, count) }, reader));
    return out;
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
  ): Promise<{ registered?: ChainEventRef; windows: Map<number, ChainEventRef>; closed?: ChainEventRef }> {
    const key = electionKey(electionId);
    const ref = (log: { transactionHash: string; blockNumber: number }): ChainEventRef => ({
      txHash: log.transactionHash,
      blockNumber: log.blockNumber,
    });
    try {
      const [registered, anchored, closed] = await Promise.all([
        this.contract.queryFilter(this.contract.filters.ElectionRegistered!(key), fromBlock),
        this.contract.queryFilter(this.contract.filters.WindowAnchored!(key), fromBlock),
        this.contract.queryFilter(this.contract.filters.ElectionClosed!(key), fromBlock),
      ]);
      const windows = new Map<number, ChainEventRef>();
      for (const log of anchored) {
        const index = 'args' in log ? Number(log.args[1] as bigint) : Number(BigInt(log.topics[2]!));
        windows.set(index, ref(log));
      }
      const out: { registered?: ChainEventRef; windows: Map<number, ChainEventRef>; closed?: ChainEventRef } = {
        windows,
      };
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
