// A pool of worker threads checking the proofs of encrypted ballots (docs/protocol.md 12.4), so that the
// ~3 ms of libsodium work per ballot of 3 choices (~10 ms for 10) never runs on the main thread. Separate
// from the VerifyPool: a receipt signed there must not wait behind a thread busy with proofs for tens of
// milliseconds. Its threads start at the first encrypted ballot; an API with plaintext elections only
// never starts them. Like the VerifyPool, a thread that dies fails its own batches (an outage, 503
// upstream, never a verdict) and is replaced.
import { availableParallelism } from 'node:os';
import { WorkerPool } from '../../worker-pool/src/index.js';
import type { BallotProblem, EncryptedElectionContext } from './protocol/v2/ballot.js';
import type { ProofTask } from './workers/proof.worker.js';

/** Batches in flight per thread: one running, one ready, so a thread never waits for the main thread. */
const BATCHES_PER_THREAD = 2;

interface Pending {
  context: EncryptedElectionContext;
  ballotJcs: string;
  resolve: (problem: BallotProblem | null) => void;
  reject: (err: Error) => void;
}

export interface ProofPoolOptions {
  /** Worker threads; default: one per core. */
  threads?: number;
  /**
   * Largest batch handed to one thread. Small: a batch of 3-choice ballots costs ~3 ms a ballot, and the
   * callers of a batch are answered together when it ends; postMessage costs tens of µs, nothing beside.
   */
  maxBatch?: number;
  /** Tests only: a ballot text equal to a worker-pool test-fault marker kills its thread mid-batch. */
  testFaults?: boolean;
}

export class ProofPool {
  readonly threads: number;
  private pool: WorkerPool<ProofTask, (BallotProblem | null)[]> | null = null;
  private readonly maxBatch: number;
  private readonly testFaults: boolean;
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private inFlightBallots = 0;
  private scheduled = false;
  private closed = false;
  private closing: Promise<void> | null = null;

  constructor(opts: ProofPoolOptions = {}) {
    this.threads = Math.max(1, opts.threads ?? availableParallelism());
    this.maxBatch = opts.maxBatch ?? 8;
    this.testFaults = opts.testFaults === true;
  }

  /** Ballots waiting for a thread or being checked: what the ingest's overload limit reads. */
  get pending(): number {
    return this.queue.length + this.inFlightBallots;
  }

  /** Whether the threads were started (by a first ballot). */
  get started(): boolean {
    return this.pool !== null;
  }

  /**
   * The validity rule without the signature for one ballot (its JCS text, shape already checked): null
   * when valid, else where and why it is not. Rejects only on an outage (a thread died, the pool closed).
   */
  check(context: EncryptedElectionContext, ballotJcs: string): Promise<BallotProblem | null> {
    if (this.closed) return Promise.reject(new Error('proof pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ context, ballotJcs, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.dispatch());
      }
    });
  }

  private workers(): WorkerPool<ProofTask, (BallotProblem | null)[]> {
    this.pool ??= new WorkerPool({
      name: 'proof worker',
      entry: new URL('./workers/proof.worker.ts', import.meta.url),
      threads: this.threads,
      tasksPerThread: BATCHES_PER_THREAD,
      workerData: { testFaults: this.testFaults },
    });
    return this.pool;
  }

  /** Hand queued ballots to the threads, a batch of one election's ballots at a time. */
  private dispatch(): void {
    this.scheduled = false;
    if (this.closed) return;
    while (this.queue.length > 0 && this.inFlight < this.threads * BATCHES_PER_THREAD) {
      const share = Math.max(1, Math.min(this.maxBatch, Math.ceil(this.queue.length / this.threads)));
      // The head's election, and the ballots of the same election right behind it.
      const context = this.queue[0]!.context;
      let n = 1;
      while (n < share && n < this.queue.length && sameElection(this.queue[n]!.context, context)) n++;
      const items = this.queue.splice(0, n);
      this.inFlight++;
      this.inFlightBallots += items.length;
      const settle = () => {
        this.inFlight--;
        this.inFlightBallots -= items.length;
        if (this.queue.length > 0) this.dispatch();
      };
      this.workers()
        .run({ context, ballots: items.map((it) => it.ballotJcs) })
        .then(
          (verdicts) => {
            settle();
            if (verdicts.length !== items.length) {
              // Never read a missing verdict as "valid".
              const err = new Error(`proof worker answered ${verdicts.length} verdicts for ${items.length} ballots`);
              for (const it of items) it.reject(err);
              return;
            }
            for (let i = 0; i < items.length; i++) items[i]!.resolve(verdicts[i]!);
          },
          (err: Error) => {
            // A dead thread is an outage for its batch (503 upstream), never a verdict on the proofs.
            settle();
            for (const it of items) it.reject(err);
          },
        );
    }
  }

  /** Stop the threads: batches in flight and ballots still queued fail. Closing again waits for the first. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    const closed = new Error('proof pool is closed');
    for (const it of this.queue.splice(0)) it.reject(closed);
    this.closing = this.pool ? this.pool.close() : Promise.resolve();
    return this.closing;
  }
}

const sameElection = (a: EncryptedElectionContext, b: EncryptedElectionContext) =>
  a === b || (a.manifestHash === b.manifestHash && a.publicKey === b.publicKey);
