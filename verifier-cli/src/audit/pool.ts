// Runs checkLedgerBlockPacked over blocks of ledger lines, the roll's point checks and its tree head, on
// worker threads (one per core by default), or inline on the main thread with threads = 0. Callers keep
// batches in order themselves (audit.ts awaits them in submission order); the pool only spreads the work.
// Blocks go to the workers and their results come back as transferred buffers, never copied.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { merkleTreeHeadPacked } from '../merkle.js';
import { rollPointProblem } from '../roll.js';
import { checkLedgerBlockPacked, type PackedRows, type RowContext } from './row-check.js';
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
 *
 * The bundle is reused without running esbuild while its inputs keep their sizes and mtimes (an index
 * file next to it lists them, with the bundle's SHA-256, checked before use).
 */
let workerSource: Promise<URL> | undefined;
function resolveWorkerSource(): Promise<URL> {
  workerSource ??= (async () => {
    if (existsSync(fileURLToPath(WORKER_JS)) && !existsSync(fileURLToPath(WORKER_TS))) return WORKER_JS;
    const dir = join(tmpdir(), 'tallyproof-verify');
    const indexFile = join(dir, `index-${sha256Hex(WORKER_TS.href).slice(0, 16)}.json`);
    const cached = await cachedBundle(indexFile);
    if (cached !== undefined) return cached;
    try {
      const { build } = await import('esbuild');
      const workingDir = fileURLToPath(new URL('.', WORKER_TS));
      const out = await build({
        entryPoints: [fileURLToPath(WORKER_TS)],
        absWorkingDir: workingDir,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        write: false,
        metafile: true,
        logLevel: 'silent',
        // For CommonJS dependencies that require() node built-ins.
        banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
      });
      const code = out.outputFiles[0]!.contents;
      const digest = sha256Hex(code);
      const file = join(dir, `worker-${digest.slice(0, 16)}.mjs`);
      await mkdir(dir, { recursive: true });
      if (!existsSync(file)) await writeAtomically(file, code);
      try {
        const inputs: Record<string, [number, number]> = {};
        for (const input of Object.keys(out.metafile.inputs)) {
          const path = resolve(workingDir, input);
          const st = await stat(path);
          inputs[path] = [st.size, st.mtimeMs];
        }
        await writeAtomically(indexFile, JSON.stringify({ bundle: file, sha256: digest, inputs } satisfies BundleIndex));
      } catch {
        // no index: esbuild runs again next time
      }
      return pathToFileURL(file);
    } catch {
      return WORKER_BOOT;
    }
  })();
  return workerSource;
}

interface BundleIndex {
  bundle: string;
  sha256: string;
  /** Each input file of the bundle: [size, mtimeMs] when it was built. */
  inputs: Record<string, [number, number]>;
}

/** The bundle an index file names, if every input is unchanged and the bundle's hash still matches. */
async function cachedBundle(indexFile: string): Promise<URL | undefined> {
  try {
    const index = JSON.parse(await readFile(indexFile, 'utf8')) as BundleIndex;
    const inputs = Object.entries(index.inputs);
    if (inputs.length === 0) return undefined;
    const unchanged = await Promise.all(
      inputs.map(async ([path, [size, mtimeMs]]) => {
        const st = await stat(path);
        return st.size === size && st.mtimeMs === mtimeMs;
      }),
    );
    if (!unchanged.every(Boolean)) return undefined;
    if (sha256Hex(await readFile(index.bundle)) !== index.sha256) return undefined;
    return pathToFileURL(index.bundle);
  } catch {
    return undefined;
  }
}

async function writeAtomically(file: string, data: string | Uint8Array): Promise<void> {
  const partial = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(partial, data);
  await rename(partial, file);
}

function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The Node options a worker starts with: this process's, without module loaders and preloads (--import,
 * --require, --loader: tsx's, under tsx or vitest). The worker's code is plain JavaScript (or loads tsx
 * itself, worker-boot.mjs), and a loader registered again in every thread costs it a large part of its boot.
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (/^(?:--import|--require|-r|--loader|--experimental-loader)$/.test(arg)) {
      i++; // and its value
      continue;
    }
    if (/^(?:--import|--require|--loader|--experimental-loader)=/.test(arg)) continue;
    out.push(arg);
  }
  return out;
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
      const worker = new Worker(source, { workerData: { entry: WORKER_TS.href, context: this.context }, execArgv: workerExecArgv() });
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
  async check(bytes: Uint8Array, firstLine: number): Promise<PackedRows> {
    if (this.threads === 0) return checkLedgerBlockPacked(bytes, firstLine, this.context);
    const reply = await this.send({ kind: 'rows', batch: 0, firstLine, bytes }, [bytes.buffer as ArrayBuffer]);
    if (reply.rows === undefined) throw new Error('check worker gave no rows');
    return reply.rows;
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
    if (this.threads === 0) return merkleTreeHeadPacked(packedLeaves);
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
