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
// anvil is resolved from @foundry-rs/anvil's platform package, else `anvil` on PATH.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { HDNodeWallet, JsonRpcProvider, Mnemonic } from 'ethers';

/** anvil's default dev mnemonic; passed explicitly so the derived accounts below always match. */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';
/** Number of funded dev accounts (anvil's default). */
export const ANVIL_ACCOUNT_COUNT = 10;
export const ANVIL_DEFAULT_CHAIN_ID = 31337;

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
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
/** Children still running, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

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
  if (opts.downtimeMs !== undefined && opts.downtimeMs > 0) await new Promise((resolve) => setTimeout(resolve, opts.downtimeMs));
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

/** The anvil executable: the platform package's binary, else `anvil` on PATH. */
export function anvilBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  try {
    const require = createRequire(import.meta.url);
    const dir = path.dirname(require.resolve(`${pkg}/package.json`));
    const binary = path.join(dir, 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
    if (existsSync(binary)) return binary;
  } catch {
    // platform package not installed; fall through to PATH
  }
  return 'anvil';
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

class AnvilStartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
    this.name = 'AnvilStartError';
  }
}

async function launch(opts: AnvilOptions & { chainId: number; port: number }): Promise<AnvilNode> {
  const args = [
    '--host', HOST,
    '--port', String(opts.port),
    '--chain-id', String(opts.chainId),
    '--mnemonic', ANVIL_MNEMONIC,
    '--accounts', String(ANVIL_ACCOUNT_COUNT),
  ];
  if (opts.blockTimeSeconds !== undefined) args.push('--block-time', String(opts.blockTimeSeconds));
  if (opts.stateFile !== undefined) args.push('--state', opts.stateFile);
  if (opts.stateIntervalSeconds !== undefined) args.push('--state-interval', String(opts.stateIntervalSeconds));

  const binary = anvilBinary();
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);

  // Keep the last few KiB of output for error messages; always drain the pipes (anvil logs every
  // request). Readiness is anvil's own "Listening on HOST:PORT" line, so that another process that
  // already holds the port cannot be mistaken for this node.
  let output = '';
  let onListening: () => void = () => undefined;
  const listening = new Promise<void>((resolve) => {
    onListening = resolve;
  });
  const listeningLine = `Listening on ${HOST}:${opts.port}`;
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-8192);
    if (output.includes(listeningLine)) onListening();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  const spawnFailed = new Promise<Error>((resolve) => child.once('error', resolve));

  const rpcUrl = `http://${HOST}:${opts.port}`;
  const ready = waitForChainId(rpcUrl, opts.chainId, listening);
  let outcome;
  try {
    outcome = await Promise.race([
      ready.then(() => ({ kind: 'ready' as const })),
      exited.then((exit) => ({ kind: 'exited' as const, exit })),
      spawnFailed.then((error) => ({ kind: 'spawn-error' as const, error })),
    ]);
  } catch (err) {
    // Not ready in time, or the wrong chain: do not leave the process behind.
    child.kill('SIGKILL');
    await exited;
    throw err;
  }

  if (outcome.kind !== 'ready') {
    ready.cancel();
    if (outcome.kind === 'spawn-error') {
      running.delete(child);
      throw new AnvilStartError(`cannot run anvil (${binary}): ${outcome.error.message}`, false);
    }
    const { code, signal } = outcome.exit;
    throw new AnvilStartError(
      `anvil exited during start (code ${code}, signal ${signal}) on port ${opts.port}: ${output.trim()}`,
      /address already in use/i.test(output),
    );
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };

  return { rpcUrl, port: opts.port, chainId: opts.chainId, accounts: anvilAccounts(), stop };
}

/**
 * Once `listening` resolves, polls eth_chainId until it answers `chainId`; fails after
 * READY_TIMEOUT_MS in all; cancel() ends the wait early.
 */
function waitForChainId(rpcUrl: string, chainId: number, listening: Promise<void>): Promise<void> & { cancel(): void } {
  let cancelled = false;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const poll = (async () => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), READY_TIMEOUT_MS);
      timer.unref(); // a failed start must not hold the process open
    });
    const first = await Promise.race([listening.then(() => 'listening' as const), timedOut]);
    clearTimeout(timer);
    if (first === 'timeout' && !cancelled) {
      throw new AnvilStartError(`anvil did not report listening on ${rpcUrl} within ${READY_TIMEOUT_MS} ms`, false);
    }
    while (!cancelled) {
      try {
        const res = await fetch(rpcUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
        });
        const body = (await res.json()) as { result?: string };
        if (body.result !== undefined) {
          if (Number(body.result) !== chainId) {
            throw new AnvilStartError(`anvil at ${rpcUrl} answered chain id ${body.result}, expected ${chainId}`, false);
          }
          return;
        }
      } catch (err) {
        if (err instanceof AnvilStartError) throw err;
        // not listening yet
      }
      if (Date.now() > deadline) throw new AnvilStartError(`anvil at ${rpcUrl} not ready after ${READY_TIMEOUT_MS} ms`, false);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  // A cancelled or lost race must not surface as an unhandled rejection.
  poll.catch(() => undefined);
  return Object.assign(poll, {
    cancel: () => {
      cancelled = true;
    },
  });
}

/** A port that was free a moment ago (bind port 0, read it, release it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the free port'));
      });
    });
  });
}
