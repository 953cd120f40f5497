// WorkerPool: TypeScript worker modules started from a bundle, through tsx, or compiled; results moved
// back; and the crash policy: a thread that dies fails only its own tasks and is replaced.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerPool } from '../src/index.js';
import { outcome, testFaultMarker, type TestFault } from '../src/test-faults.js';
import type { EchoTask } from './fixtures/echo.worker.js';

const ECHO = new URL('./fixtures/echo.worker.ts', import.meta.url);
const pools: WorkerPool<EchoTask, unknown>[] = [];
afterAll(() => Promise.all(pools.map((p) => p.close())));

interface EchoPoolOptions {
  threads?: number;
  testFaults?: boolean;
  typescript?: 'bundle' | 'tsx';
}

function echoPool(opts: EchoPoolOptions = {}): WorkerPool<EchoTask, unknown> {
  const pool = new WorkerPool<EchoTask, unknown>({
    name: 'echo worker',
    entry: ECHO,
    threads: opts.threads ?? 2,
    typescript: opts.typescript,
    workerData: { greeting: 'hello', testFaults: opts.testFaults === true },
  });
  pools.push(pool);
  return pool;
}

describe('WorkerPool', () => {
  it('runs a TypeScript worker module (bundled) with its workerData, and moves result buffers back', async () => {
    const pool = echoPool({ threads: 1 });
    const who = (await pool.run({ op: 'whoami' })) as { threadId: number; workerData: unknown };
    expect(who.workerData).toEqual({ greeting: 'hello', testFaults: false });
    expect(pool.threadIds).toEqual([who.threadId]);
    const bytes = Uint8Array.from([1, 2, 3]);
    const sent = bytes.buffer;
    expect(await pool.run({ op: 'bytes', bytes }, [sent])).toEqual(Uint8Array.from([3, 2, 1]));
    expect(sent.byteLength).toBe(0); // the task's buffer was moved to the thread
    expect(await pool.run({ op: 'last-detached' })).toBe(true); // and the result's buffer back
  });

  it('loads the same module through tsx (the fallback without esbuild), and a compiled .js as it is', async () => {
    const viaTsx = echoPool({ typescript: 'tsx', threads: 1 });
    expect(await viaTsx.run({ op: 'whoami' })).toMatchObject({ workerData: { greeting: 'hello' } });
    const compiled = new WorkerPool<string, unknown>({
      name: 'compiled worker',
      entry: new URL('./fixtures/compiled.worker.ts', import.meta.url), // no such .ts: compiled.worker.js
      threads: 1,
    });
    try {
      expect(await compiled.run('task')).toEqual({ compiled: true, task: 'task' });
    } finally {
      await compiled.close();
    }
  });

  it('rejects a task whose handler throws, and only that task; the thread stays', async () => {
    const pool = echoPool({ threads: 1 });
    await pool.run({ op: 'whoami' });
    const before = pool.threadIds;
    expect(before).toHaveLength(1);
    const refused = outcome(pool.run({ op: 'refuse' }));
    const fine = outcome(pool.run({ op: 'whoami' }));
    expect(await refused).toEqual({ error: 'the handler refused this task' });
    expect(await fine).toMatchObject({ value: { workerData: { greeting: 'hello' } } });
    expect(pool.threadIds).toEqual(before);
  });

  for (const [fault, error] of [
    ['exit', 'echo worker exited with code 70'],
    ['throw', 'test fault: an uncaught error in the worker'],
  ] as [TestFault, string][]) {
    it(`a thread that dies mid-task (${fault}) fails its own task only, and is replaced`, async () => {
      const pool = echoPool({ testFaults: true });
      await Promise.all([pool.run({ op: 'whoami' }), pool.run({ op: 'whoami' })]);
      const before = pool.threadIds;
      expect(before).toHaveLength(2);
      // Both threads idle: the least-busy balancer puts these two tasks on different threads.
      const crashed = outcome(pool.run({ op: 'bytes', bytes: testFaultMarker(fault) }));
      const concurrent = outcome(pool.run({ op: 'spin', ms: 50 }));
      expect(await crashed).toEqual({ error });
      expect(await concurrent).toEqual({ value: expect.any(Number) });
      // The pool goes on, on two threads: the survivor and a replacement.
      const after = await Promise.all(Array.from({ length: 8 }, () => pool.run({ op: 'spin', ms: 5 })));
      expect(after).toHaveLength(8);
      const now = pool.threadIds;
      expect(now).toHaveLength(2);
      expect(now.filter((id) => before.includes(id))).toHaveLength(1);
    });
  }

  it('fails every task with the error of a worker module that cannot load, and never hangs', async () => {
    const entry = new URL('./fixtures/broken.worker.ts', import.meta.url);
    const pool = new WorkerPool<null, unknown>({ name: 'broken worker', entry, threads: 2 });
    try {
      const outcomes = await Promise.all(Array.from({ length: 6 }, () => outcome(pool.run(null))));
      expect(outcomes).toEqual(Array(6).fill({ error: 'this worker module cannot load' }));
    } finally {
      await pool.close();
    }
  });

  it('close() fails the tasks running and queued, and refuses new ones', async () => {
    const pool = new WorkerPool<EchoTask, unknown>({ name: 'closing worker', entry: ECHO, threads: 1 });
    await pool.run({ op: 'whoami' });
    const running = outcome(pool.run({ op: 'spin', ms: 2_000 }));
    const queued = outcome(pool.run({ op: 'whoami' }));
    await new Promise((r) => setTimeout(r, 50));
    await pool.close();
    expect(await running).toEqual({ error: expect.any(String) });
    expect(await queued).toEqual({ error: expect.any(String) });
    expect(await outcome(pool.run({ op: 'whoami' }))).toEqual({ error: 'closing worker pool is closed' });
  });

  it('an idle pool never keeps its process alive; threads start under the flags the API runs with', async () => {
    const script = fileURLToPath(new URL('./fixtures/idle.ts', import.meta.url));
    // V8 and per-process options are refused in a worker's execArgv: the pool must leave them out.
    const flags = ['--max-semi-space-size=64', '--enable-source-maps', '--conditions', 'node', '--import', 'tsx'];
    const { stdout } = await promisify(execFile)(process.execPath, [...flags, script], { timeout: 30_000 });
    expect(stdout).toMatch(/^ran on thread \d+\n$/);
  });
});
