// ChainClient (chain.ts) over ethers v6 and TallyAnchor: one connection to the node, re-made after an
// outage; ethers' errors mapped onto the worker's kinds (a refusal, or the chain being unavailable).
import {
  FetchRequest,
  JsonRpcProvider,
  Network,
  Wallet,
  getAddress,
  keccak256,
  type DeferredTopicFilter,
} from 'ethers';
import { TALLY_ANCHOR_INTERFACE, electionKey, tallyAnchor, type TallyAnchorContract } from '../../contracts/index.js';
import type {
  ChainClient,
  ChainEvent,
  ConfirmedTx,
  ElectionOnChain,
  SentTx,
  WindowOnChain,
  IntervalOnChain,
  IntervalToAnchor,
  WindowToAnchor,
} from './chain.js';
import { classify, refusedWith } from './chain-rpc.js';
import { jsonRpc } from '../../contracts/rpc.js';
import { ChainRevertError, ChainUnavailableError, errorMessage } from './errors.js';

export interface EthersChainOptions {
  rpcUrl: string;
  /** 0x-prefixed 32-byte hex. */
  privateKey: string;
  contractAddress: string;
  /** Per JSON-RPC request. */
  requestTimeoutMs?: number;
  /** Receipt and nonce polling. */
  pollIntervalMs?: number;
  /** How long waitForConfirmation waits for a receipt before giving up (the job is then retried). */
  txTimeoutMs?: number;
  /** How long the node may fail to answer while a receipt is awaited before that counts as an outage. */
  outageToleranceMs?: number;
}

interface Connection {
  provider: JsonRpcProvider;
  wallet: Wallet;
  contract: TallyAnchorContract;
}

const hex = (bytes32: string) => bytes32.replace(/^0x/, '').toLowerCase();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** ChainClient over ethers v6 and TallyAnchor. */
export class EthersChainClient implements ChainClient {
  readonly contractAddress: string;
  readonly account: string;
  private conn: Connection | null = null;
  private connecting: Promise<Connection> | null = null;
  private readonly requestTimeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly txTimeoutMs: number;
  private readonly outageToleranceMs: number;

  constructor(private readonly opts: EthersChainOptions) {
    this.contractAddress = getAddress(opts.contractAddress);
    this.account = new Wallet(opts.privateKey).address;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.pollIntervalMs = opts.pollIntervalMs ?? 100;
    this.txTimeoutMs = opts.txTimeoutMs ?? 120_000;
    this.outageToleranceMs = opts.outageToleranceMs ?? 5_000;
  }

  /**
   * The provider is built on first use with the chain id fixed: an ethers provider that has to detect
   * its network retries forever while the node is down, and requests queue behind it. Built this way a
   * request to a node that is down fails, which is what the worker needs to notice an outage.
   */
  private connect(): Promise<Connection> {
    if (this.conn) return Promise.resolve(this.conn);
    this.connecting ??= (async () => {
      try {
        const chainId = BigInt(String(await jsonRpc(this.opts.rpcUrl, 'eth_chainId', [], this.requestTimeoutMs)));
        const request = new FetchRequest(this.opts.rpcUrl);
        request.timeout = this.requestTimeoutMs;
        const network = Network.from(chainId);
        // cacheTimeout -1: no 250 ms result cache, which could hand back a stale nonce.
        const provider = new JsonRpcProvider(request, network, {
          staticNetwork: network,
          cacheTimeout: -1,
          pollingInterval: this.pollIntervalMs,
          batchMaxCount: 1,
        });
        const wallet = new Wallet(this.opts.privateKey, provider);
        this.conn = { provider, wallet, contract: tallyAnchor(this.contractAddress, wallet) };
        return this.conn;
      } catch (err) {
        throw new ChainUnavailableError(`chain node ${this.opts.rpcUrl} unreachable: ${errorMessage(err)}`, {
          cause: err,
        });
      } finally {
        this.connecting = null;
      }
    })();
    return this.connecting;
  }

  private async call<T>(what: string, fn: (c: Connection) => Promise<T>): Promise<T> {
    const c = await this.connect();
    try {
      return await fn(c);
    } catch (err) {
      throw classify(what, err);
    }
  }

  async ping(timeoutMs = 1500): Promise<boolean> {
    try {
      await jsonRpc(this.opts.rpcUrl, 'eth_blockNumber', [], timeoutMs);
      return true;
    } catch {
      return false;
    }
  }

  async getElection(electionId: string): Promise<ElectionOnChain | null> {
    const key = electionKey(electionId);
    return this.call(`getElection(${electionId})`, async (c) => {
      let e: Awaited<ReturnType<typeof c.contract.getElection>>;
      try {
        e = await c.contract.getElection(key);
      } catch (err) {
        if (refusedWith(err, 'TallyAnchorElectionNotRegistered')) return null;
        throw err;
      }
      return {
        manifestHash: hex(e.manifestHash),
        rollRoot: hex(e.rollRoot),
        closed: e.closed,
        resultHash: hex(e.resultHash),
        totalBallots: Number(e.totalBallots),
        anchoredBallots: Number(e.anchoredBallots),
        anchoredWindows: Number(e.anchoredWindows),
      };
    });
  }

  windowCount(electionId: string): Promise<number> {
    return this.call(`windowCount(${electionId})`, async (c) =>
      Number(await c.contract.windowCount(electionKey(electionId))),
    );
  }

  getWindow(electionId: string, index: number): Promise<WindowOnChain | null> {
    return this.call(`getWindow(${electionId}, ${index})`, async (c) => {
      try {
        const w = await c.contract.getWindow(electionKey(electionId), index);
        return { firstSeq: Number(w.firstSeq), count: Number(w.count), root: hex(w.root) };
      } catch (err) {
        if (refusedWith(err, 'TallyAnchorUnknownWindow')) return null;
        throw err;
      }
    });
  }

  intervalCount(electionId: string): Promise<number> {
    return this.call(`intervalCount(${electionId})`, async (c) =>
      Number(await c.contract.intervalCount(electionKey(electionId))),
    );
  }

  getInterval(electionId: string, index: number): Promise<IntervalOnChain | null> {
    return this.call(`getInterval(${electionId}, ${index})`, async (c) => {
      try {
        const i = await c.contract.getInterval(electionKey(electionId), index);
        return { windowCount: Number(i.windowCount), ballotCount: Number(i.ballotCount), root: hex(i.root) };
      } catch (err) {
        if (refusedWith(err, 'TallyAnchorUnknownInterval')) return null;
        throw err;
      }
    });
  }

  findIntervalAnchored(electionId: string, index: number, fromBlock = 0) {
    return this.findEvent(
      `IntervalAnchored(${electionId}, ${index})`,
      (c) => c.filters.IntervalAnchored!(electionKey(electionId), index),
      fromBlock,
    );
  }

  private async findEvent(
    what: string,
    filter: (c: TallyAnchorContract) => DeferredTopicFilter,
    fromBlock: number,
  ): Promise<ChainEvent | null> {
    return this.call(what, async (c) => {
      const logs = await c.contract.queryFilter(filter(c.contract), fromBlock, 'latest');
      const log = logs[0];
      return log ? { txHash: log.transactionHash, blockNumber: log.blockNumber } : null;
    });
  }

  findElectionRegistered(electionId: string, fromBlock = 0) {
    return this.findEvent(
      `ElectionRegistered(${electionId})`,
      (c) => c.filters.ElectionRegistered!(electionKey(electionId)),
      fromBlock,
    );
  }

  findWindowAnchored(electionId: string, index: number, fromBlock = 0) {
    return this.findEvent(
      `WindowAnchored(${electionId}, ${index})`,
      (c) => c.filters.WindowAnchored!(electionKey(electionId), index),
      fromBlock,
    );
  }

  findElectionClosed(electionId: string, fromBlock = 0) {
    return this.findEvent(
      `ElectionClosed(${electionId})`,
      (c) => c.filters.ElectionClosed!(electionKey(electionId)),
      fromBlock,
    );
  }

  async settle(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [mined, pending] = await this.call(`nonces of ${this.account}`, (c) =>
        Promise.all([
          c.provider.getTransactionCount(this.account, 'latest'),
          c.provider.getTransactionCount(this.account, 'pending'),
        ]),
      );
      if (pending <= mined) return;
      if (Date.now() > deadline)
        throw new ChainUnavailableError(
          `account ${this.account} still has ${pending - mined} transaction(s) pending after ${timeoutMs} ms`,
        );
      await sleep(this.pollIntervalMs);
    }
  }

  /**
   * Sign locally with an explicit nonce, then broadcast: the hash is known before the node sees the
   * transaction. estimateGas runs first, so a call the contract would refuse is never sent.
   */
  private send(
    description: string,
    method: 'registerElection' | 'anchorWindow' | 'anchorInterval' | 'closeElection',
    args: unknown[],
  ): Promise<SentTx> {
    return this.call(description, async (c) => {
      const nonce = await c.provider.getTransactionCount(this.account, 'pending');
      const data = TALLY_ANCHOR_INTERFACE.encodeFunctionData(method, args);
      const tx = await c.wallet.populateTransaction({ to: this.contractAddress, data, nonce });
      // 20% headroom over the estimate: the estimate is exact for the state it ran on.
      if (tx.gasLimit != null) tx.gasLimit = (BigInt(tx.gasLimit) * 12n) / 10n;
      const signed = await c.wallet.signTransaction(tx);
      const txHash = keccak256(signed);
      await c.provider.broadcastTransaction(signed);
      return { txHash, nonce, description };
    });
  }

  sendRegisterElection(electionId: string, manifestHash: string, rollRoot: string) {
    return this.send(`registerElection(${electionId})`, 'registerElection', [
      electionKey(electionId),
      '0x' + manifestHash,
      '0x' + rollRoot,
    ]);
  }

  sendAnchorWindow(electionId: string, w: WindowToAnchor) {
    return this.send(`anchorWindow(${electionId}, ${w.index})`, 'anchorWindow', [
      electionKey(electionId),
      w.index,
      w.firstSeq,
      w.count,
      '0x' + w.root,
    ]);
  }

  sendAnchorInterval(electionId: string, i: IntervalToAnchor) {
    return this.send(`anchorInterval(${electionId}, ${i.index})`, 'anchorInterval', [
      electionKey(electionId),
      i.index,
      i.windowCount,
      i.ballotCount,
      '0x' + i.root,
    ]);
  }

  sendCloseElection(electionId: string, resultHash: string, totalBallots: number) {
    return this.send(`closeElection(${electionId})`, 'closeElection', [
      electionKey(electionId),
      '0x' + resultHash,
      totalBallots,
    ]);
  }

  async waitForConfirmation(tx: SentTx, confirmations: number, timeoutMs = this.txTimeoutMs): Promise<ConfirmedTx> {
    const deadline = Date.now() + timeoutMs;
    let failingSince: number | null = null;
    for (;;) {
      try {
        const c = await this.connect();
        const receipt = await c.provider.getTransactionReceipt(tx.txHash);
        if (receipt) {
          if (receipt.status !== 1)
            throw new ChainRevertError(
              `${tx.description}: transaction ${tx.txHash} reverted in block ${receipt.blockNumber}`,
              null,
            );
          const head = await c.provider.getBlockNumber();
          if (head - receipt.blockNumber + 1 >= confirmations)
            return { txHash: tx.txHash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed };
        } else if (
          (await c.provider.getTransactionCount(this.account, 'latest')) > tx.nonce &&
          !(await c.provider.getTransactionReceipt(tx.txHash))
        ) {
          // The account's nonce moved past ours without this transaction: it was dropped or replaced.
          throw new ChainUnavailableError(
            `${tx.description}: transaction ${tx.txHash} (nonce ${tx.nonce}) was dropped or replaced`,
          );
        }
        failingSince = null;
      } catch (err) {
        if (
          err instanceof ChainRevertError ||
          (err instanceof ChainUnavailableError && /dropped or replaced/.test(err.message))
        )
          throw err;
        failingSince ??= Date.now();
        if (Date.now() - failingSince > this.outageToleranceMs)
          throw classify(`${tx.description}: awaiting ${tx.txHash}`, err);
      }
      if (Date.now() > deadline)
        throw new ChainUnavailableError(
          `${tx.description}: transaction ${tx.txHash} not confirmed after ${timeoutMs} ms`,
        );
      await sleep(this.pollIntervalMs);
    }
  }

  async close(): Promise<void> {
    this.conn?.provider.destroy();
    this.conn = null;
  }
}
