// One anvil process for contracts/local-chain.ts: found (the platform package's binary, else `anvil` on
// PATH), spawned, waited for (its "Listening on" line, then eth_chainId) and stopped; children still
// running when the process exits are killed.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { jsonRpc } from './rpc.js';

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;

/** Children still running, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

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

/** Why anvil did not start; `portInUse` when another process took the port first. */
export class AnvilStartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
    this.name = 'AnvilStartError';
  }
}

interface AnvilExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What ends the wait for a starting anvil. */
type StartOutcome = { kind: 'ready' } | { kind: 'exited'; exit: AnvilExit } | { kind: 'spawn-error'; error: Error };

/**
 * Runs anvil on 127.0.0.1:`port` with chain id `chainId` and the further `args`; resolves once it answers
 * eth_chainId. Throws AnvilStartError if it exits first, cannot be run, or answers another chain id.
 */
export async function spawnAnvil(
  port: number,
  chainId: number,
  args: string[],
): Promise<{ rpcUrl: string; stop(): Promise<void> }> {
  const binary = anvilBinary();
  const child = spawn(binary, ['--host', HOST, '--port', String(port), '--chain-id', String(chainId), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);

  // Keep the last few KiB of output for error messages; always drain the pipes (anvil logs every
  // request). Readiness is anvil's own "Listening on HOST:PORT" line, so that another process that
  // already holds the port cannot be mistaken for this node.
  let output = '';
  let onListening: () => void = () => undefined;
  const listening = new Promise<void>((resolve) => {
    onListening = resolve;
  });
  const listeningLine = `Listening on ${HOST}:${port}`;
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-8192);
    if (output.includes(listeningLine)) onListening();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const exited = new Promise<AnvilExit>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  const spawnFailed = new Promise<Error>((resolve) => child.once('error', resolve));

  const rpcUrl = `http://${HOST}:${port}`;
  const ready = waitForChainId(rpcUrl, chainId, listening);
  let outcome: StartOutcome;
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
      `anvil exited during start (code ${code}, signal ${signal}) on port ${port}: ${output.trim()}`,
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

  return { rpcUrl, stop };
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
        const answered = await jsonRpc<string>(rpcUrl, 'eth_chainId', [], READY_TIMEOUT_MS);
        if (Number(answered) !== chainId) {
          throw new AnvilStartError(`anvil at ${rpcUrl} answered chain id ${answered}, expected ${chainId}`, false);
        }
        return;
      } catch (err) {
        if (err instanceof AnvilStartError) throw err;
        // not listening yet
      }
      if (Date.now() > deadline)
        throw new AnvilStartError(`anvil at ${rpcUrl} not ready after ${READY_TIMEOUT_MS} ms`, false);
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
export function freePort(): Promise<number> {
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
