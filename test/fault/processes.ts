// Child processes of the whole-system fault test: each one in its own process group (detached), so a
// kill reaches everything it started; output kept (the tail) for failure messages; exits observed, so
// the test can tell a kill it made from a crash it did not expect.
import { spawn, type ChildProcess } from 'node:child_process';

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Service {
  readonly name: string;
  readonly pid: number;
  /** Resolves when the process exits, however. */
  readonly exited: Promise<ServiceExit>;
  /** The last 64 KiB of stdout and stderr. */
  output(): string;
  running(): boolean;
  /** SIGKILL to the whole process group (`kill -9 -PGID`); resolves on exit. */
  kill9(): Promise<ServiceExit>;
  /** `signal` to the process group, SIGKILL after `graceMs`; resolves on exit. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<ServiceExit>;
}

/** Every service still running; killed (SIGKILL, by process group) if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Resolves the start once the output matches; default: as soon as the process is spawned. */
  ready?: RegExp;
  readyTimeoutMs?: number;
  cwd?: string;
}

/** Spawns a service in its own process group; with `ready`, resolves once its output matches. */
export async function startService(opts: SpawnOptions): Promise<Service & { readyMatch: RegExpExecArray | null }> {
  const child = spawn(opts.command, opts.args, {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  live.add(child);
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString('utf8')).slice(-65_536);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<ServiceExit>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  let readyMatch: RegExpExecArray | null = null;
  if (opts.ready) {
    const pattern = opts.ready;
    const timeoutMs = opts.readyTimeoutMs ?? 90_000;
    readyMatch = await new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        killGroup(child, 'SIGKILL');
        reject(new Error(`${opts.name}: not ready within ${timeoutMs} ms; output:\n${out.slice(-4000)}`));
      }, timeoutMs);
      const check = () => {
        const m = pattern.exec(out);
        if (m) {
          cleanup();
          resolve(m);
        }
      };
      const cleanup = () => {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        child.stderr!.off('data', check);
      };
      child.stdout!.on('data', check);
      child.stderr!.on('data', check);
      void exited.then(({ code, signal }) => {
        cleanup();
        reject(
          new Error(
            `${opts.name}: exited (code ${code}, signal ${signal}) before it was ready; output:\n${out.slice(-4000)}`,
          ),
        );
      });
      void spawnError.then((err) => {
        cleanup();
        reject(new Error(`${opts.name}: cannot spawn ${opts.command}: ${err.message}`));
      });
    });
  }

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<ServiceExit> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    killGroup(child, signal);
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    name: opts.name,
    pid: child.pid!,
    exited,
    readyMatch,
    output: () => out,
    running: () => child.exitCode === null && child.signalCode === null,
    kill9: () => stop('SIGKILL', 0),
    stop,
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns something truthy; throws after `timeoutMs` with the last error. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 30_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
      );
    await sleep(everyMs);
  }
}
