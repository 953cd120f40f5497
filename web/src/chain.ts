// Reads from the chain itself, over its JSON-RPC, with ethers: the page never takes a root from the
// Tallyproof server when it can read it from the TallyAnchor contract.
import { Contract, JsonRpcProvider, Network, getAddress, id, isAddress } from 'ethers';

const ABI = [
  'function getWindow(bytes32 electionKey, uint64 windowIndex) view returns (uint64 firstSeq, uint64 count, bytes32 root, uint64 anchoredAt)',
  'function windowCount(bytes32 electionKey) view returns (uint64)',
  // A sharded election's anchor intervals (docs/protocol.md 13.4); getWindow reverts for such an election.
  'function getInterval(bytes32 electionKey, uint64 intervalIndex) view returns (bytes32 root, uint64 windowCount, uint64 ballotCount, uint64 anchoredAt)',
  'function intervalCount(bytes32 electionKey) view returns (uint64)',
];

const RPC_TIMEOUT_MS = 8000;

/** electionKey = keccak256(utf8(electionId)), 0x-prefixed. */
export function electionKey(electionId: string): string {
  return id(electionId);
}

export interface ChainWindow {
  firstSeq: number;
  count: number;
  /** Lowercase hex without 0x, as the wire format writes bytes. */
  root: string;
  /** Block timestamp of the anchoring, seconds. */
  anchoredAt: number;
}

/** An anchor interval as the contract holds it. */
export interface ChainInterval {
  index: number;
  /** Lowercase hex without 0x. */
  root: string;
  windowCount: number;
  ballotCount: number;
  /** Block timestamp of the anchoring, seconds. */
  anchoredAt: number;
}

export interface ChainTx {
  blockNumber: number;
  to: string | null;
  status: number | null;
}

export class ChainError extends Error {
  constructor(
    readonly kind: 'unreachable' | 'wrong-chain' | 'bad-contract' | 'no-window' | 'no-interval',
    message: string,
  ) {
    super(message);
    this.name = 'ChainError';
  }
}

/** eth_chainId with a deadline: ethers alone would retry an unreachable node forever. */
async function chainIdOf(rpcUrl: string): Promise<number> {
  let res: Response;
  try {
    res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(RPC_TIMEOUT_MS),
    });
  } catch (err) {
    throw new ChainError('unreachable', `${rpcUrl}: ${(err as Error).message}`);
  }
  const body = (await res.json().catch(() => null)) as { result?: unknown } | null;
  if (typeof body?.result !== 'string') throw new ChainError('unreachable', `${rpcUrl} did not answer eth_chainId`);
  return Number(BigInt(body.result));
}

/** A read-only view of one TallyAnchor contract through one JSON-RPC endpoint. */
export class ChainReader {
  private constructor(
    readonly rpcUrl: string,
    readonly chainId: number,
    readonly contractAddress: string,
    private readonly provider: JsonRpcProvider,
    private readonly contract: Contract,
  ) {}

  /** Connects and checks the node's chain id against `expectedChainId` (when known). */
  static async connect(rpcUrl: string, contractAddress: string, expectedChainId: number | null): Promise<ChainReader> {
    if (!isAddress(contractAddress))
      throw new ChainError('bad-contract', `"${contractAddress}" is not a contract address`);
    const chainId = await chainIdOf(rpcUrl);
    if (expectedChainId !== null && chainId !== expectedChainId) {
      throw new ChainError('wrong-chain', `${rpcUrl} is chain ${chainId}, the election is on chain ${expectedChainId}`);
    }
    const provider = new JsonRpcProvider(rpcUrl, Network.from(chainId), { staticNetwork: true, batchMaxCount: 1 });
    const address = getAddress(contractAddress);
    return new ChainReader(rpcUrl, chainId, address, provider, new Contract(address, ABI, provider));
  }

  /** getWindow(electionKey, index); ChainError 'no-window' when the contract holds no such window. */
  async getWindow(electionId: string, index: number): Promise<ChainWindow> {
    let r: { firstSeq: bigint; count: bigint; root: string; anchoredAt: bigint };
    try {
      r = await this.contract.getFunction('getWindow').staticCall(electionKey(electionId), index);
    } catch (err) {
      const e = err as { code?: string; shortMessage?: string; message: string };
      if (e.code === 'CALL_EXCEPTION')
        throw new ChainError(
          'no-window',
          `window ${index} of ${electionId} is not on chain (${e.shortMessage ?? e.message})`,
        );
      throw new ChainError('unreachable', e.shortMessage ?? e.message);
    }
    return {
      firstSeq: Number(r.firstSeq),
      count: Number(r.count),
      root: r.root.slice(2).toLowerCase(),
      anchoredAt: Number(r.anchoredAt),
    };
  }

  /** getInterval(electionKey, index); ChainError 'no-interval' when the contract holds no such interval. */
  async getInterval(electionId: string, index: number): Promise<ChainInterval> {
    let r: { root: string; windowCount: bigint; ballotCount: bigint; anchoredAt: bigint };
    try {
      r = await this.contract.getFunction('getInterval').staticCall(electionKey(electionId), index);
    } catch (err) {
      const e = err as { code?: string; shortMessage?: string; message: string };
      if (e.code === 'CALL_EXCEPTION')
        throw new ChainError(
          'no-interval',
          `interval ${index} of ${electionId} is not on chain (${e.shortMessage ?? e.message})`,
        );
      throw new ChainError('unreachable', e.shortMessage ?? e.message);
    }
    return {
      index,
      root: r.root.slice(2).toLowerCase(),
      windowCount: Number(r.windowCount),
      ballotCount: Number(r.ballotCount),
      anchoredAt: Number(r.anchoredAt),
    };
  }

  /**
   * The anchored window that holds `seq`, found from the chain alone: windows are contiguous from seq 0 and never
   * empty (the contract refuses a gap or an empty window), so it is the last with firstSeq ≤ seq, found by binary
   * search over windowCount (about log2(windows) + 2 calls; `hint`, a window index to try first, may save them).
   * Null when no anchored window holds it yet.
   */
  async windowOfSeq(
    electionId: string,
    seq: number,
    hint: number | null = null,
  ): Promise<{ index: number; window: ChainWindow } | null> {
    const holds = (w: ChainWindow) => seq >= w.firstSeq && seq < w.firstSeq + w.count;
    const count = await this.windowCount(electionId);
    if (count === 0) return null;
    if (hint !== null && Number.isSafeInteger(hint) && hint >= 0 && hint < count) {
      const w = await this.getWindow(electionId, hint);
      if (holds(w)) return { index: hint, window: w };
    }
    const last = await this.getWindow(electionId, count - 1);
    if (seq >= last.firstSeq) return holds(last) ? { index: count - 1, window: last } : null;
    // Invariant: window lo starts at or before seq, window hi after it.
    let lo = 0;
    let hi = count - 1;
    let found = await this.getWindow(electionId, 0);
    if (found.firstSeq > seq) return null;
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const w = await this.getWindow(electionId, mid);
      if (w.firstSeq <= seq) {
        lo = mid;
        found = w;
      } else hi = mid;
    }
    return holds(found) ? { index: lo, window: found } : null;
  }

  async intervalCount(electionId: string): Promise<number> {
    return Number(await this.contract.getFunction('intervalCount').staticCall(electionKey(electionId)));
  }

  async windowCount(electionId: string): Promise<number> {
    return Number(await this.contract.getFunction('windowCount').staticCall(electionKey(electionId)));
  }

  /** The mined transaction, or null when this node does not know it. */
  async transaction(txHash: string): Promise<ChainTx | null> {
    const r = await this.provider.getTransactionReceipt(txHash);
    if (r === null) return null;
    return { blockNumber: r.blockNumber, to: r.to, status: r.status };
  }

  destroy(): void {
    this.provider.destroy();
  }
}
