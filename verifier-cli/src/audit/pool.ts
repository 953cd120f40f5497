// Runs checkLedgerBlock over blocks of ledger lines, the roll's point checks and its tree head, on worker
// threads (one per core by default), or inline on the main thread with threads = 0. Callers keep batches in order
// themselves (audit.ts awaits them in submission order); the pool only spreads the work.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { merkleTreeHead, unpackLeaves } from '../merkle.js';
import { rollPointProblem } from '../roll.js';
import { checkLedgerBlock, type RowContext, type RowResult } from './row-check.js';
import type { BatchReply, BatchRequest } from './worker.js';

const WORKER_TS = new URL('./worker.ts', import.meta.url);
const WORKER_JS = new URL('./worker.js', import.meta.url);
const WORKER_BOOT = new URL('./worker-boot.mjs', import.meta.url);
/** Roll keys per batch for the point check. */
const KEY_BATCH = 1024;

/**
 * How to start a worker. Compiled (worker.js next to this file): directly. From TypeScript sources:
 * worker.ts and its imports bundled by esbuild (the compiler tsx itself uses) into one ES module in
 * the temp directory, named by its content hash — a worker thread then boots in about the time plain
 * JavaScript takes, where a TypeScript loader per thread costs seconds on a busy machine. Without
 * esbuild: worker-boot.mjs, which loads worker.ts through tsx.
 */
let workerSource: Promise<URL> | undefined;
function resolveWorkerSource(): Promise<URL> {
  workerSource ??= (async () => {
    if (existsSync(fileURLToPath(WORKER_JS)) && !existsSync(fileURLToPath(WORKER_TS))) return WORKER_JS;
    try {
      const { build } = await import('esbuild');
      const out = await build({
        entryPoints: [fileURLToPath(WORKER_TS)],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        write: false,
        logLevel: 'silent',
        // CommonJS dependencies (merkletreejs) require() node built-ins.
        banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
      });
      const code = out.outputFiles[0]!.contents;
      const dir = join(tmpdir(), 'tallyproof-verify');
      const file = join(dir, `worker-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
      if (!existsSync(file)) {
        await mkdir(dir, { recursive: true });
        const partial = `${file}.${process.pid}.tmp`;
        await writeFile(partial, code);
        await rename(partial, file);
      }
      return pathToFileURL(file);
    } catch {
      return WORKER_BOOT;
    }
  })();
  return workerSource;
}

export function defaultThreads(): number {
  return availableParallelism();
}

interface Slot {
  worker: Worker;
  /** Work queued on this worker, in blocks of rows (a tree head counts as the blocks it costs). */
  load: number;
}

interface Waiter {
  resolve: (reply: BatchReply) => void;
  reject: (err: Error) => void;
  slot: Slot;
  weight: number;
}

export class RowCheckPool {
  private readonly slots: Slot[] = [];
  private readonly waiters = new Map<number, Waiter>();
  private readonly ready: Promise<void>;
  private nextBatch = 0;
  private failure: Error | undefined;
  private closing = false;

  /** Starts `threads` workers (0: check inline). Workers boot in the background; check() waits for them. */
  constructor(private readonly context: RowContext, readonly threads: number) {
    this.ready = threads === 0 ? Promise.resolve() : resolveWorkerSource().then((source) => this.start(source));
    this.ready.catch(() => undefined); // surfaced by check()
  }

  private async start(source: URL): Promise<void> {
    const boots: Promise<void>[] = [];
    for (let i = 0; i < this.threads && !this.closing; i++) {
      const worker = new Worker(source, { workerData: { entry: WORKER_TS.href, context: this.context } });
      const slot: Slot = { worker, load: 0 };
      this.slots.push(slot);
      boots.push(
        new Promise<void>((resolve, reject) => {
          worker.on('message', (reply: BatchReply) => {
            if (reply.batch === -1) return resolve();
            const waiter = this.waiters.get(reply.batch);
            this.waiters.delete(reply.batch);
            if (waiter === undefined) return;
            waiter.slot.load -= waiter.weight;
            if (reply.error === undefined) waiter.resolve(reply);
            else waiter.reject(new Error(`check worker failed: ${reply.error}`));
          });
          worker.on('error', (err) => {
            this.fail(err);
            reject(err);
          });
          worker.on('exit', (code) => {
            const err = new Error(`check worker exited with code ${code}`);
            if (!this.closing && code !== 0) this.fail(err);
            reject(err); // no effect once ready
          });
        }),
      );
    }
    await Promise.all(boots);
  }

  /** Check a block of whole lines (the first being line `firstLine`); results in line order. The bytes are transferred. */
  async check(bytes: Uint8Array, firstLine: number): Promise<RowResult[]> {
    if (this.threads === 0) return checkLedgerBlock(bytes, firstLine, this.context);
    return (await this.send({ kind: 'rows', batch: 0, firstLine, bytes }, [bytes.buffer as ArrayBuffer])).rows ?? [];
  }

  /** Decode each roll key as a curve point; the problems found. */
  async checkRollPoints(keys: string[]): Promise<string[]> {
    if (this.threads === 0) return keys.map(rollPointProblem).filter((p): p is string => p !== null);
    const batches: Promise<BatchReply>[] = [];
    for (let i = 0; i < keys.length; i += KEY_BATCH) batches.push(this.send({ kind: 'keys', batch: 0, keys: keys.slice(i, i + KEY_BATCH) }));
    return (await Promise.all(batches)).flatMap((reply) => reply.keyProblems ?? []);
  }

  /**
   * RFC 6962 MTH of 32-byte leaves packed back to back, computed on a worker (the bytes are
   * transferred). It weighs on that worker's load as the blocks of rows it costs (hashing a leaf takes
   * about 1/25 of checking a row), so rows go to the other workers meanwhile.
   */
  async treeHead(packedLeaves: Uint8Array): Promise<Uint8Array> {
    if (this.threads === 0) return merkleTreeHead(unpackLeaves(packedLeaves));
    const weight = Math.ceil(packedLeaves.byteLength / 32 / 16_384);
    const reply = await this.send({ kind: 'tree-head', batch: 0, packedLeaves }, [packedLeaves.buffer as ArrayBuffer], weight);
    if (reply.treeHead === undefined) throw new Error('tree-head worker gave no root');
    return reply.treeHead;
  }

  private async send(req: BatchRequest, transfer: ArrayBuffer[] = [], weight = 1): Promise<BatchReply> {
    await this.ready;
    if (this.failure !== undefined) throw this.failure;
    const slot = this.slots.reduce((a, b) => (b.load < a.load ? b : a));
    const batch = this.nextBatch++;
    slot.load += weight;
    return new Promise<BatchReply>((resolve, reject) => {
      this.waiters.set(batch, { resolve, reject, slot, weight });
      slot.worker.postMessage({ ...req, batch }, transfer);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.ready.catch(() => undefined);
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.waiters.values()) waiter.reject(err);
    this.waiters.clear();
  }
}
