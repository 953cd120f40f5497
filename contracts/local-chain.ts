// A real local EVM chain (anvil from @foundry-rs/anvil): the embedded default of `npm start` (with a
// persistent --state file) and the chain of every test file (test/support/anvil.ts re-exports this).
//
//   const chain = await startAnvil();               // free port, chain id 31337, automine
//   const provider = anvilProvider(chain);          // ethers JsonRpcProvider tuned for a local node
//   const wallet = new Wallet(chain.accounts[0].privateKey, provider);
//   ...
//   await chain.stop();
//
// Fault tests can take the chain down and bring it back with its state:
//
//   const chain = await startAnvil({ stateFile });  // --state: loaded at start, dumped at stop
//   const again = await restartAnvil(chain, { downtimeMs: 5_000 }); // same port, chain id, state
//
// or by hand: `await chain.stop(); ...; await startAnvil(anvilOptions(chain))`.
//
// anvil is resolved from @foundry-rs/anvil's platform package, else `anvil` on PATH; the process itself
// (spawn, readiness, stop) is contracts/anvil-process.ts.
import { HDNodeWallet, JsonRpcProvider, Mnemonic } from 'ethers';
import { AnvilStartError, freePort, spawnAnvil } from './anvil-process.js';

export { anvilBinary } from './anvil-process.js';

/** anvil's default dev mnemonic; passed explicitly so the derived accounts below always match. */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';
/** Number of funded dev accounts (anvil's default). */
export const ANVIL_ACCOUNT_COUNT = 10;
export const ANVIL_DEFAULT_CHAIN_ID = 31337;

const PORT_ATTEMPTS = 5;

export interface AnvilOptions {
  /** `--state FILE`: loaded at start if it exists, written when the node is stopped (SIGTERM). */
  stateFile?: string;
  /** `--block-time N`: mine a block every N seconds instead of one per transaction. */
  blockTimeSeconds?: number;
  /** Chain id, default 31337. */
  chainId?: number;
  /** Fixed port; by default a free port is picked (and another tried if it is taken meanwhile). */
  port?: number;
  /** `--state-interval N`: also write the state file every N seconds, so a crash loses at most N seconds. */
  stateIntervalSeconds?: number;
}

export interface AnvilAccount {
  address: string;
  privateKey: string;
}

export interface AnvilNode {
  rpcUrl: string;
  port: number;
  chainId: number;
  /** anvil's funded dev accounts, in anvil's order. */
  accounts: AnvilAccount[];
  /** SIGTERM (anvil then writes its state file), SIGKILL after a grace period; resolves on exit. */
  stop(): Promise<void>;
}

/** Options each running node was started with, for restartAnvil. */
const startedWith = new WeakMap<AnvilNode, AnvilOptions>();

/** Starts anvil on 127.0.0.1 and resolves once it answers eth_chainId. */
export async function startAnvil(opts: AnvilOptions = {}): Promise<AnvilNode> {
  const chainId = opts.chainId ?? ANVIL_DEFAULT_CHAIN_ID;
  const attempts = opts.port === undefined ? PORT_ATTEMPTS : 1;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = opts.port ?? (await freePort());
    try {
      const node = await launch({ ...opts, chainId, port });
      startedWith.set(node, { ...opts, chainId, port });
      return node;
    } catch (err) {
      lastError = err;
      // Only a port taken between freePort() and anvil's bind is worth another try.
      if (!(err instanceof AnvilStartError) || !err.portInUse) throw err;
    }
  }
  throw lastError;
}

/** The options `node` was started with, its port included (e.g. to start it again later). */
export function anvilOptions(node: AnvilNode): Required<Pick<AnvilOptions, 'chainId' | 'port'>> & AnvilOptions {
  const opts = startedWith.get(node);
  if (opts === undefined) throw new Error('anvilOptions: node was not started by startAnvil');
  return { ...opts, chainId: opts.chainId ?? ANVIL_DEFAULT_CHAIN_ID, port: opts.port ?? node.port };
}

/**
 * Stops `node` (SIGTERM: with a stateFile, anvil writes its state), keeps the chain down for
 * `downtimeMs`, then starts it again on the same port with the same options. Without a stateFile
 * the new chain starts empty.
 */
export async function restartAnvil(node: AnvilNode, opts: { downtimeMs?: number } = {}): Promise<AnvilNode> {
  const startOpts = anvilOptions(node);
  await node.stop();
  if (opts.downtimeMs !== undefined && opts.downtimeMs > 0)
    await new Promise((resolve) => setTimeout(resolve, opts.downtimeMs));
  return startAnvil(startOpts);
}

/**
 * An ethers provider for `node`: fixed network (no chain-id probing), no 250 ms request cache
 * (with it, back-to-back sends from one wallet can reuse a stale nonce) and fast polling.
 */
export function anvilProvider(node: Pick<AnvilNode, 'rpcUrl' | 'chainId'>): JsonRpcProvider {
  return new JsonRpcProvider(node.rpcUrl, node.chainId, {
    staticNetwork: true,
    cacheTimeout: -1,
    pollingInterval: 50,
  });
}

let cachedAccounts: AnvilAccount[] | undefined;

/** anvil's dev accounts: m/44'/60'/0'/0/i of ANVIL_MNEMONIC. */
export function anvilAccounts(): AnvilAccount[] {
  if (cachedAccounts === undefined) {
    // Derive the seed once (PBKDF2), then each child.
    const parent = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(ANVIL_MNEMONIC), "m/44'/60'/0'/0");
    cachedAccounts = Array.from({ length: ANVIL_ACCOUNT_COUNT }, (_, i) => {
      const wallet = parent.deriveChild(i);
      return { address: wallet.address, privateKey: wallet.privateKey };
    });
  }
  return cachedAccounts.map((account) => ({ ...account }));
}

async function launch(opts: AnvilOptions & { chainId: number; port: number }): Promise<AnvilNode> {
  const args = ['--mnemonic', ANVIL_MNEMONIC, '--accounts', String(ANVIL_ACCOUNT_COUNT)];
  if (opts.blockTimeSeconds !== undefined) args.push('--block-time', String(opts.blockTimeSeconds));
  if (opts.stateFile !== undefined) args.push('--state', opts.stateFile);
  if (opts.stateIntervalSeconds !== undefined) args.push('--state-interval', String(opts.stateIntervalSeconds));
  const { rpcUrl, stop } = await spawnAnvil(opts.port, opts.chainId, args);
  return { rpcUrl, port: opts.port, chainId: opts.chainId, accounts: anvilAccounts(), stop };
}
