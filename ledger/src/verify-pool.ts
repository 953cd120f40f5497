// A pool of worker threads verifying Ed25519 signatures with node:crypto (~14k/s per core here, versus
// ~1k/s for pure-JS noble) and signing receipts with the ledger key, so the main thread only parses,
// hashes and talks to the database. Requests are coalesced into batches per worker to keep postMessage cheap.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';

const REASONS = ['ok', 'key-length', 'key-non-canonical', 'key-small-order', 'key-not-on-curve', 'signature-length', 'r-non-canonical', 'r-small-order', 's-non-canonical', 'signature-invalid'];

interface Pending { key: Uint8Array; sig: Uint8Array; message: Uint8Array; resolve: (problem: string | null) => void; reject: (err: Error) => void }

export interface VerifyPoolOptions {
  /** Worker threads; default: one per core. */
  threads?: number;
  /** Largest batch handed to one worker at once. */
  maxBatch?: number;
  /** The ledger key's 32-byte seed, when the pool also signs receipts. */
  signingSeed?: Uint8Array;
}

export class VerifyPool {
  private readonly workers: { worker: Worker; busy: number }[] = [];
  private readonly signingSeed: Uint8Array | null;
  private readonly queue: Pending[] = [];
  private readonly inflight = new Map<number, { items: Pending[]; slot: { busy: number } } | { sign: (sigs: Uint8Array) => void; fail: (e: Error) => void; slot: { busy: number } }>();
  private nextId = 1;
  private scheduled = false;
  private closed = false;
  private readonly maxBatch: number;

  constructor(opts: VerifyPoolOptions = {}) {
    const n = opts.threads ?? availableParallelism();
    this.canSign = opts.signingSeed !== undefined;
    this.maxBatch = opts.maxBatch ?? 256;
    this.signingSeed = opts.signingSeed ? Uint8Array.from(opts.signingSeed) : null;
    for (let i = 0; i < n; i++) {
      const slot = { worker: null as unknown as Worker, busy: 0 };
      this.startWorker(slot);
      this.workers.push(slot);
    }
  }

  /**
   * A worker that dies (an uncaught error, or exiting) fails what it was given — an outage for those
   * callers (503 upstream), never a verdict — and is replaced, so nothing waits on a dead thread.
   */
  private startWorker(slot: { worker: Worker; busy: number }): void {
    const worker = new Worker(new URL('./verify-worker.js', import.meta.url), { workerData: { signingSeed: this.signingSeed } });
    slot.worker = worker;
    worker.on('message', (m: { id: number; result: Uint8Array }) => this.onResult(m));
    worker.on('error', (err) => this.failSlot(slot, err));
    worker.on('exit', (code) => {
      if (this.closed || slot.worker !== worker) return;
      this.failSlot(slot, new Error(`verify worker exited with code ${code}`));
      slot.busy = 0;
      this.startWorker(slot);
      if (this.queue.length > 0) this.dispatch();
    });
    worker.unref();
  }

  get threads(): number {
    return this.workers.length;
  }

  readonly canSign: boolean = false;

  /** Sign messages with the ledger key (Ed25519), spread over the workers. Needs `signingSeed`. */
  async sign(messages: readonly Uint8Array[]): Promise<Buffer[]> {
    if (!this.canSign) throw new Error('this pool has no signing key');
    if (messages.length === 0) return [];
    const per = Math.ceil(messages.length / this.workers.length);
    const parts = await Promise.all(this.workers.map((slot, w) => {
      const chunk = messages.slice(w * per, (w + 1) * per);
      if (chunk.length === 0) return Promise.resolve(Buffer.alloc(0));
      let size = 0;
      for (const m of chunk) size += 4 + m.length;
      const buf = Buffer.allocUnsafe(size);
      let off = 0;
      for (const m of chunk) {
        buf.writeUInt32LE(m.length, off);
        buf.set(m, off + 4);
        off += 4 + m.length;
      }
      return new Promise<Buffer>((resolve, reject) => {
        const id = this.nextId++;
        this.inflight.set(id, { sign: (sigs) => resolve(Buffer.from(sigs.buffer, sigs.byteOffset, sigs.byteLength)), fail: reject, slot });
        const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
        slot.worker.postMessage({ op: 'sign', id, count: chunk.length, buffer: ab }, [ab]);
      });
    }));
    const all = Buffer.concat(parts);
    return messages.map((_, i) => all.subarray(64 * i, 64 * i + 64));
  }

  /** Resolve to null when the signature is valid under strict RFC 8032 rules, else the reason. */
  verify(key: Uint8Array, sig: Uint8Array, message: Uint8Array): Promise<string | null> {
    if (this.closed) return Promise.reject(new Error('verify pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ key, sig, message, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.dispatch());
      }
    });
  }

  /**
   * Hand queued requests to workers, at most two batches per worker at a time: a deep backlog inside a
   * worker's message queue would make receipt signing (posted directly) wait behind thousands of verifies.
   */
  private dispatch(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const slot = this.workers.reduce((a, b) => (b.busy < a.busy ? b : a));
      if (slot.busy >= 2) return;
      const share = Math.max(1, Math.min(this.maxBatch, Math.ceil(this.queue.length / this.workers.length)));
      const items = this.queue.splice(0, share);
      let size = 0;
      for (const it of items) size += 100 + it.message.length;
      const buf = Buffer.allocUnsafe(size);
      let off = 0;
      for (const it of items) {
        buf.writeUInt32LE(it.message.length, off);
        buf.set(it.key, off + 4);
        buf.set(it.sig, off + 36);
        buf.set(it.message, off + 100);
        off += 100 + it.message.length;
      }
      const id = this.nextId++;
      slot.busy++;
      this.inflight.set(id, { items, slot });
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      slot.worker.postMessage({ id, count: items.length, buffer: ab }, [ab]);
    }
  }

  private onResult(m: { id: number; result: Uint8Array }): void {
    const entry = this.inflight.get(m.id);
    if (!entry) return;
    this.inflight.delete(m.id);
    if (!('sign' in entry)) entry.slot.busy--;
    if ('sign' in entry) entry.sign(m.result);
    else entry.items.forEach((it, i) => it.resolve(m.result[i] === 0 ? null : REASONS[m.result[i]!] ?? 'signature-invalid'));
    if (this.queue.length > 0) this.dispatch();
  }

  /** A crashed worker is an outage (503 upstream), never a verdict on the signature. */
  private failSlot(slot: { busy: number }, err: Error): void {
    for (const [id, entry] of this.inflight) {
      if (entry.slot !== slot) continue;
      this.inflight.delete(id);
      if ('fail' in entry) entry.fail(err);
      else entry.items.forEach((it) => it.reject(err));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
