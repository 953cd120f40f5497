// Runs a worker module written in TypeScript on a piscina pool: the one way this repository puts CPU work
// on worker threads (the ledger's verify pool and credential check, the verifier's audit pool).
//
// Crash policy (piscina's, checked in its source and by test/worker-pool.test.ts): a thread that dies —
// an uncaught error, or process.exit — fails the tasks it was running, and only those; piscina starts a
// replacement and the pool goes on. Errors thrown by the handler reject that task only.
// An idle pool keeps no process alive: piscina unreferences a thread while it has no task.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { workerSource } from './source.js';

/** Every thread runs boot.mjs, which imports the worker module and exports its handler. */
const BOOT = new URL('./boot.mjs', import.meta.url);

export interface WorkerPoolOptions {
  /** What a thread is called in errors: "verify worker" gives "verify worker exited with code 1". */
  name: string;
  /** The worker module, a .ts (or a compiled .js); its default export handles one task. */
  entry: URL;
  /** Threads, all started at once and kept (a dead one is replaced). Default: one per core. */
  threads?: number;
  /** Tasks handed to one thread at a time; the others wait in the pool's queue. Default 1. */
  tasksPerThread?: number;
  /** Each thread's `workerData` (structured-cloned). */
  workerData?: unknown;
  /** How a .ts entry starts: bundled by esbuild (default), or through tsx (the fallback; for its tests). */
  typescript?: 'bundle' | 'tsx';
}

export class WorkerPool<Task, Result> {
  readonly threads: number;
  private piscina: Piscina | undefined;
  private readonly ready: Promise<Piscina>;
  private closed = false;

  /** Starts the threads; they boot in the background and run() waits for them. */
  constructor(private readonly opts: WorkerPoolOptions) {
    this.threads = Math.max(1, opts.threads ?? availableParallelism());
    this.ready = workerSource(opts.entry, opts.typescript ?? 'bundle').then((source) => this.start(source));
    this.ready.catch(() => undefined); // surfaced by run()
  }

  private start(source: URL): Piscina {
    if (this.closed) throw this.closedError();
    const piscina = new Piscina({
      filename: BOOT.href,
      argv: [source.href],
      minThreads: this.threads,
      maxThreads: this.threads,
      concurrentTasksPerWorker: this.opts.tasksPerThread ?? 1,
      workerData: this.opts.workerData,
      execArgv: workerExecArgv(),
      recordTiming: false,
    });
    // Emitted for a thread that fails while running no task (it is replaced); unhandled, it would throw.
    piscina.on('error', (err: Error) => process.emitWarning(`${this.opts.name} failed outside a task: ${err.message}`));
    this.piscina = piscina;
    return piscina;
  }

  /** Run one task on a thread; `transferList` buffers are moved to it, not copied. */
  run(task: Task, transferList?: readonly ArrayBuffer[]): Promise<Result> {
    if (this.closed) return Promise.reject(this.closedError());
    const options = transferList === undefined ? {} : { transferList: transferList as ArrayBuffer[] };
    const piscina = this.piscina;
    const running = piscina !== undefined ? piscina.run(task, options) : this.ready.then((p) => p.run(task, options));
    return running.catch((err: unknown) => {
      throw this.named(err);
    }) as Promise<Result>;
  }

  /** The threads' ids, in the pool's order (for tests: a replaced thread has a new id). */
  get threadIds(): number[] {
    return this.piscina?.threads.map((t) => t.threadId) ?? [];
  }

  /** Stops every thread now: tasks running or queued fail; later run() calls are refused. */
  async close(): Promise<void> {
    this.closed = true;
    const piscina = await this.ready.catch(() => undefined);
    await piscina?.destroy();
  }

  private closedError(): Error {
    return new Error(`${this.opts.name} pool is closed`);
  }

  /** piscina's "worker exited with code: N" under the pool's name, as the hand-written pools said it. */
  private named(err: unknown): unknown {
    const exit = err instanceof Error ? /^worker exited with code: (-?\d+)$/.exec(err.message) : null;
    return exit ? new Error(`${this.opts.name} exited with code ${exit[1]}`) : err;
  }
}

/** Options passed on to the threads, and those of them that may take their value as the next argument. */
const PASSED_OPTIONS = new Set([
  '--enable-source-maps',
  '--no-warnings',
  '--no-deprecation',
  '--trace-warnings',
  '--trace-uncaught',
]);
const PASSED_WITH_VALUE = new Set(['--conditions', '-C', '--unhandled-rejections']);

/**
 * The Node options a thread starts with: of this process's, those that change how its JavaScript resolves
 * modules or reports problems. Left out: module loaders and preloads (--import tsx, under tsx or vitest:
 * registered again in every thread, it costs a large part of the thread's boot, and the thread runs plain
 * JavaScript or loads tsx itself, boot.mjs), and V8 or per-process options, which are process-wide anyway
 * and which Node refuses in a worker's execArgv (the API runs with --max-semi-space-size).
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.split('=', 1)[0]!;
    if (!PASSED_OPTIONS.has(name) && !PASSED_WITH_VALUE.has(name)) continue;
    out.push(arg);
    if (PASSED_WITH_VALUE.has(name) && name === arg && i + 1 < argv.length) out.push(argv[++i]!);
  }
  return out;
}
