// Runs checkLedgerBlockPacked over blocks of ledger lines, the roll's point checks and its tree head, on
// worker threads (one per core by default), or inline on the main thread with threads = 0. Callers keep
// batches in order themselves (ledger-scan.ts awaits them in submission order); the pool only spreads the work.
// Blocks go to the workers and their results come back as transferred buffers, never copied.
// The threads are a WorkerPool (worker-pool/, generic plumbing that holds no protocol code): it starts
// worker.ts from its TypeScript source, and a thread that dies fails only the blocks it was checking and
// is replaced.
import { availableParallelism } from 'node:os';
import { WorkerPool } from '../../../worker-pool/src/index.js';
import { merkleTreeHeadPacked } from '../merkle.js';
import { rollPointProblem } from '../roll.js';
import { sodiumNativePath } from '../v2/group.js';
import type { PackedRows } from './packed-rows.js';
import { checkLedgerBlockPacked, type RowContext } from './row-check.js';
import type { BatchReply, BatchRequest, CheckWorkerData } from './worker.js';

/** Roll keys per batch for the point check. */
const KEY_BATCH = 1024;
/**
 * Tasks a thread holds at once: the next block waits in the thread, not behind a round trip through the
 * main thread; more would let a block queue behind the roll's tree head.
 */
const TASKS_PER_THREAD = 2;

export function defaultThreads(): number {
  return availableParallelism();
}

export interface RowCheckPoolOptions {
  /** Tests only: a rows block equal to a worker-pool test-fault marker kills its thread mid-block. */
  testFaults?: boolean;
}

export class RowCheckPool {
  private readonly pool: WorkerPool<BatchRequest, BatchReply> | undefined;

  /** Starts `threads` workers (0: check inline). Workers boot in the background; check() waits for them. */
  constructor(
    private readonly context: RowContext,
    readonly threads: number,
    options: RowCheckPoolOptions = {},
  ) {
    if (threads === 0) return;
    const workerData: CheckWorkerData = { context, testFaults: options.testFaults === true };
    // An encrypted election's workers use libsodium, which a bundled worker cannot find by itself.
    if (context.v2 !== undefined) workerData.sodiumNative = sodiumNativePath();
    this.pool = new WorkerPool({
      name: 'check worker',
      entry: new URL('./worker.ts', import.meta.url),
      threads,
      tasksPerThread: TASKS_PER_THREAD,
      workerData,
    });
  }

  /** Check a block of whole lines (the first being line `firstLine`); results in line order. Moves the bytes. */
  async check(bytes: Uint8Array, firstLine: number): Promise<PackedRows> {
    if (this.pool === undefined) return checkLedgerBlockPacked(bytes, firstLine, this.context);
    const reply = await this.pool.run({ kind: 'rows', firstLine, bytes }, [bytes.buffer as ArrayBuffer]);
    if (reply.rows === undefined) throw new Error('check worker gave no rows');
    return reply.rows;
  }

  /** Decode each roll key as a curve point; the problems found. */
  async checkRollPoints(keys: string[]): Promise<string[]> {
    if (this.pool === undefined) return keys.map(rollPointProblem).filter((p): p is string => p !== null);
    const batches: Promise<BatchReply>[] = [];
    for (let i = 0; i < keys.length; i += KEY_BATCH) {
      batches.push(this.pool.run({ kind: 'keys', keys: keys.slice(i, i + KEY_BATCH) }));
    }
    return (await Promise.all(batches)).flatMap((reply) => reply.keyProblems ?? []);
  }

  /** RFC 6962 MTH of 32-byte leaves packed back to back, computed on a worker (the bytes are transferred). */
  async treeHead(packedLeaves: Uint8Array): Promise<Uint8Array> {
    if (this.pool === undefined) return merkleTreeHeadPacked(packedLeaves);
    const reply = await this.pool.run({ kind: 'tree-head', packedLeaves }, [packedLeaves.buffer as ArrayBuffer]);
    if (reply.treeHead === undefined) throw new Error('tree-head worker gave no root');
    return reply.treeHead;
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
