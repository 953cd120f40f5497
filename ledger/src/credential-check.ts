// Roll validation off the main thread: each key is checked as protocol.ts `credentialProblem` does
// (canonical, not of small order, on the curve) on a pool of worker threads started on first use. A
// 10-million-key roll costs ~110 µs × 10M of CPU (docs/operations.md, "Loading a large roll"), so the event
// loop must stay free for ballots meanwhile. The threads are a WorkerPool (worker-pool/): a thread that dies
// fails the checks it was running, an outage for those callers, never a verdict on the keys, and is
// replaced; an idle pool keeps no process alive.
import { availableParallelism } from 'node:os';
import { WorkerPool } from '../../worker-pool/src/index.js';
import type { CredentialChecker } from './elections/roll.js';
import { ed25519ProblemOf } from './protocol/ed25519.js';

export interface CredentialCheckOptions {
  /** Tests only: a key equal to a worker-pool test-fault marker kills its thread mid-check. */
  testFaults?: boolean;
}

export class CredentialCheckPool implements CredentialChecker {
  private pool: WorkerPool<ArrayBuffer, Uint8Array> | null = null;
  private closed = false;

  constructor(
    private readonly threads = availableParallelism(),
    private readonly options: CredentialCheckOptions = {},
  ) {}

  private start(): WorkerPool<ArrayBuffer, Uint8Array> {
    this.pool ??= new WorkerPool({
      name: 'credential check worker',
      entry: new URL('./workers/credential.worker.ts', import.meta.url),
      threads: Math.max(1, this.threads),
      workerData: { testFaults: this.options.testFaults === true },
    });
    return this.pool;
  }

  /**
   * Check raw 32-byte keys. Resolves to null when all are acceptable, else the first bad key's index
   * and the reason (`key-non-canonical`, `key-small-order`, `key-not-on-curve`).
   */
  async check(keys: readonly Buffer[]): Promise<{ index: number; problem: string } | null> {
    if (this.closed) throw new Error('credential check pool is closed');
    if (keys.length === 0) return null;
    const pool = this.start();
    const per = Math.ceil(keys.length / pool.threads);
    const parts: Promise<Uint8Array>[] = [];
    for (let start = 0; start < keys.length; start += per) {
      const slice = keys.slice(start, start + per);
      const buf = new Uint8Array(32 * slice.length);
      for (let i = 0; i < slice.length; i++) buf.set(slice[i]!, 32 * i);
      parts.push(pool.run(buf.buffer, [buf.buffer]));
    }
    const results = await Promise.all(parts);
    let offset = 0;
    for (const r of results) {
      const bad = r.findIndex((code) => code !== 0);
      if (bad !== -1) return { index: offset + bad, problem: ed25519ProblemOf(r[bad]!)! };
      offset += r.length;
    }
    return null;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pool?.close();
  }
}
