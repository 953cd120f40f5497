// A pool of worker threads verifying Ed25519 signatures with node:crypto (~14k/s per core here, versus
// ~1k/s for pure-JS noble) and signing receipts with the ledger key, so the main thread only parses,
// hashes and talks to the database. Requests are coalesced into batches to keep postMessage cheap.
// The threads are a WorkerPool (worker-pool/): a thread that dies fails its own batches, an outage for
// those callers (503 upstream), never a verdict, and is replaced.
import { availableParallelism } from 'node:os';
import { WorkerPool } from '../../worker-pool/src/index.js';
import { ed25519ProblemOf, type Ed25519Problem } from './protocol/ed25519.js';
import type { VerifyTask } from './workers/verify.worker.js';

/**
 * Verify batches in flight per thread. More would queue inside the threads, and receipt signing would
 * wait behind thousands of verifies.
 */
const BATCHES_PER_THREAD = 2;

interface Pending {
  key: Uint8Array;
  sig: Uint8Array;
  message: Uint8Array;
  resolve: (problem: Ed25519Problem | null) => void;
  reject: (err: Error) => void;
}

export interface VerifyPoolOptions {
  /** Worker threads; default: one per core. */
  threads?: number;
  /** Largest batch handed to one worker at once. */
  maxBatch?: number;
  /** The ledger key's 32-byte seed, when the pool also signs receipts. */
  signingSeed?: Uint8Array;
  /** Tests only: a message equal to a worker-pool test-fault marker kills its thread mid-batch. */
  testFaults?: boolean;
}

export class VerifyPool {
  readonly threads: number;
  readonly canSign: boolean;
  private readonly pool: WorkerPool<VerifyTask, Uint8Array>;
  private readonly maxBatch: number;
  private readonly queue: Pending[] = [];
  /** Verify batches handed to the pool and not yet answered. */
  private inFlight = 0;
  private scheduled = false;
  private closed = false;

  constructor(opts: VerifyPoolOptions = {}) {
    this.threads = Math.max(1, opts.threads ?? availableParallelism());
    this.canSign = opts.signingSeed !== undefined;
    this.maxBatch = opts.maxBatch ?? 256;
    this.pool = new WorkerPool({
      name: 'verify worker',
      entry: new URL('./workers/verify.worker.ts', import.meta.url),
      threads: this.threads,
      tasksPerThread: BATCHES_PER_THREAD,
      workerData: {
        signingSeed: opts.signingSeed ? Uint8Array.from(opts.signingSeed) : null,
        testFaults: opts.testFaults === true,
      },
    });
  }

  /** Sign messages with the ledger key (Ed25519), spread over the workers. Needs `signingSeed`. */
  async sign(messages: readonly Uint8Array[]): Promise<Buffer[]> {
    if (!this.canSign) throw new Error('this pool has no signing key');
    if (messages.length === 0) return [];
    const per = Math.ceil(messages.length / this.threads);
    const parts: Promise<Uint8Array>[] = [];
    for (let start = 0; start < messages.length; start += per) {
      const chunk = messages.slice(start, start + per);
      let size = 0;
      for (const m of chunk) size += 4 + m.length;
      const buf = new Uint8Array(size);
      const view = new DataView(buf.buffer);
      let off = 0;
      for (const m of chunk) {
        view.setUint32(off, m.length, true);
        buf.set(m, off + 4);
        off += 4 + m.length;
      }
      parts.push(this.pool.run({ op: 'sign', count: chunk.length, buffer: buf.buffer }, [buf.buffer]));
    }
    const all = Buffer.concat(await Promise.all(parts));
    return messages.map((_, i) => all.subarray(64 * i, 64 * i + 64));
  }

  /** Resolve to null when the signature is valid under strict RFC 8032 rules, else the reason. */
  verify(key: Uint8Array, sig: Uint8Array, message: Uint8Array): Promise<Ed25519Problem | null> {
    if (this.closed) return Promise.reject(new Error('verify pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ key, sig, message, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.dispatch());
      }
    });
  }

  /** Hand queued requests to the pool as batches, at most BATCHES_PER_THREAD per thread at a time. */
  private dispatch(): void {
    this.scheduled = false;
    while (this.queue.length > 0 && this.inFlight < this.threads * BATCHES_PER_THREAD) {
      const share = Math.max(1, Math.min(this.maxBatch, Math.ceil(this.queue.length / this.threads)));
      const items = this.queue.splice(0, share);
      let size = 0;
      for (const it of items) size += 100 + it.message.length;
      const buf = new Uint8Array(size);
      const view = new DataView(buf.buffer);
      let off = 0;
      for (const it of items) {
        view.setUint32(off, it.message.length, true);
        buf.set(it.key, off + 4);
        buf.set(it.sig, off + 36);
        buf.set(it.message, off + 100);
        off += 100 + it.message.length;
      }
      this.inFlight++;
      this.pool.run({ op: 'verify', count: items.length, buffer: buf.buffer }, [buf.buffer]).then(
        (codes) => {
          this.inFlight--;
          for (let i = 0; i < items.length; i++) items[i]!.resolve(ed25519ProblemOf(codes[i]!));
          if (this.queue.length > 0) this.dispatch();
        },
        (err: Error) => {
          // A dead thread is an outage for its batch (503 upstream), never a verdict on the signatures.
          this.inFlight--;
          for (const it of items) it.reject(err);
          if (this.queue.length > 0) this.dispatch();
        },
      );
    }
  }

  /** Stop the threads: batches in flight and requests still queued fail. */
  async close(): Promise<void> {
    this.closed = true;
    const closed = new Error('verify pool is closed');
    for (const it of this.queue.splice(0)) it.reject(closed);
    await this.pool.close();
  }
}
