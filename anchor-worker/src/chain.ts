// The chain as the worker sees it: a few reads, the three writes split into send and confirm (so a crash
// or a fault can fall between them), and the events that say which transaction did what. Tests wrap a
// ChainClient (DelegatingChainClient) to fail before a send, after it, or while confirming; production
// uses EthersChainClient (ethers-chain.ts).

/** Byte values are lowercase hex without 0x, as in the ledger. */
export interface ElectionOnChain {
  manifestHash: string;
  rollRoot: string;
  closed: boolean;
  resultHash: string;
  totalBallots: number;
  anchoredBallots: number;
  anchoredWindows: number;
}

export interface WindowOnChain {
  firstSeq: number;
  count: number;
  root: string;
}

/** A sharded election's anchor interval as the contract keeps it (docs/protocol.md 13.4). */
export interface IntervalOnChain {
  windowCount: number;
  ballotCount: number;
  root: string;
}

export interface IntervalToAnchor {
  index: number;
  windowCount: number;
  ballotCount: number;
  root: string;
}

export interface ChainEvent {
  txHash: string;
  blockNumber: number;
}

export interface SentTx {
  txHash: string;
  nonce: number;
  /** What the transaction does, for messages: "anchorWindow(e, 3)". */
  description: string;
}

export interface ConfirmedTx {
  txHash: string;
  blockNumber: number;
  gasUsed: bigint;
}

export interface WindowToAnchor {
  index: number;
  firstSeq: number;
  count: number;
  root: string;
}

/**
 * Everything the worker asks of the chain. Reads return null for what does not exist; every method
 * throws ChainUnavailableError when the node cannot be reached and ChainRevertError when the contract
 * refuses a write.
 */
export interface ChainClient {
  readonly contractAddress: string;
  /** The anchorer account writes are signed with; the worker must be its only user (nonces). */
  readonly account: string;
  /** Whether the node answers within timeoutMs. Never throws. */
  ping(timeoutMs?: number): Promise<boolean>;
  getElection(electionId: string): Promise<ElectionOnChain | null>;
  windowCount(electionId: string): Promise<number>;
  getWindow(electionId: string, index: number): Promise<WindowOnChain | null>;
  findElectionRegistered(electionId: string, fromBlock?: number): Promise<ChainEvent | null>;
  findWindowAnchored(electionId: string, index: number, fromBlock?: number): Promise<ChainEvent | null>;
  findElectionClosed(electionId: string, fromBlock?: number): Promise<ChainEvent | null>;
  /** Intervals anchored (a sharded election; 0 for one anchoring windows). */
  intervalCount(electionId: string): Promise<number>;
  getInterval(electionId: string, index: number): Promise<IntervalOnChain | null>;
  findIntervalAnchored(electionId: string, index: number, fromBlock?: number): Promise<ChainEvent | null>;
  sendAnchorInterval(electionId: string, interval: IntervalToAnchor): Promise<SentTx>;
  /** Resolves once the account has no transaction pending (pending nonce = mined nonce). */
  settle(timeoutMs?: number): Promise<void>;
  sendRegisterElection(electionId: string, manifestHash: string, rollRoot: string): Promise<SentTx>;
  sendAnchorWindow(electionId: string, window: WindowToAnchor): Promise<SentTx>;
  sendCloseElection(electionId: string, resultHash: string, totalBallots: number): Promise<SentTx>;
  /** Resolves once `tx` is mined with `confirmations` blocks; throws ChainRevertError if it reverted. */
  waitForConfirmation(tx: SentTx, confirmations: number, timeoutMs?: number): Promise<ConfirmedTx>;
  close(): Promise<void>;
}

/** Forwards every call to `inner`; subclass it and override a method to inject a fault. */
export class DelegatingChainClient implements ChainClient {
  constructor(protected readonly inner: ChainClient) {}
  get contractAddress() {
    return this.inner.contractAddress;
  }
  get account() {
    return this.inner.account;
  }
  ping(timeoutMs?: number) {
    return this.inner.ping(timeoutMs);
  }
  getElection(electionId: string) {
    return this.inner.getElection(electionId);
  }
  windowCount(electionId: string) {
    return this.inner.windowCount(electionId);
  }
  getWindow(electionId: string, index: number) {
    return this.inner.getWindow(electionId, index);
  }
  findElectionRegistered(electionId: string, fromBlock?: number) {
    return this.inner.findElectionRegistered(electionId, fromBlock);
  }
  findWindowAnchored(electionId: string, index: number, fromBlock?: number) {
    return this.inner.findWindowAnchored(electionId, index, fromBlock);
  }
  findElectionClosed(electionId: string, fromBlock?: number) {
    return this.inner.findElectionClosed(electionId, fromBlock);
  }
  intervalCount(electionId: string) {
    return this.inner.intervalCount(electionId);
  }
  getInterval(electionId: string, index: number) {
    return this.inner.getInterval(electionId, index);
  }
  findIntervalAnchored(electionId: string, index: number, fromBlock?: number) {
    return this.inner.findIntervalAnchored(electionId, index, fromBlock);
  }
  sendAnchorInterval(electionId: string, interval: IntervalToAnchor) {
    return this.inner.sendAnchorInterval(electionId, interval);
  }
  settle(timeoutMs?: number) {
    return this.inner.settle(timeoutMs);
  }
  sendRegisterElection(electionId: string, manifestHash: string, rollRoot: string) {
    return this.inner.sendRegisterElection(electionId, manifestHash, rollRoot);
  }
  sendAnchorWindow(electionId: string, window: WindowToAnchor) {
    return this.inner.sendAnchorWindow(electionId, window);
  }
  sendCloseElection(electionId: string, resultHash: string, totalBallots: number) {
    return this.inner.sendCloseElection(electionId, resultHash, totalBallots);
  }
  waitForConfirmation(tx: SentTx, confirmations: number, timeoutMs?: number) {
    return this.inner.waitForConfirmation(tx, confirmations, timeoutMs);
  }
  close() {
    return this.inner.close();
  }
}
