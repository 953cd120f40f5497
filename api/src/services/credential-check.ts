// Roll validation off the main thread: each key is checked the way protocol.ts `credentialProblem` does
// (canonical, not small order, on the curve), in a pool of worker threads created on first use. A
// 10-million-key roll costs ~110 µs × 10M of CPU (see docs/operations.md, "Loading a large roll"), so
// the event loop must stay free for ballots meanwhile.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';

const PROBLEMS = ['ok', 'key-length', 'key-non-canonical', 'key-small-order', 'key-not-on-curve'];

export class CredentialCheckPool {
  private workers: Worker[] | null = null;
  private readonly pending = new Map<number, { resolve: (r: Uint8Array) => void; reject: (e: Error) => void }>();
  /** Jobs in flight per worker: a busy worker keeps the process alive, an idle one does not. */
  private readonly busy = new Map<Worker, number>();
  private nextId = 1;
  private next = 0;
  private closed = false;

  constructor(private readonly threads = availableParallelism()) {}

  private start(): Worker[] {
    if (this.workers) return this.workers;
    this.workers = Array.from({ length: Math.max(1, this.threads) }, () => {
      const w = new Worker(new URL('../workers/credential-worker.js', import.meta.url));
      w.on('message', (m: { id: number; result: Uint8Array }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        this.release(w);
        p?.resolve(m.result);
      });
      // A crashed worker is an outage, never a verdict on the keys.
      w.on('error', (err) => {
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        this.busy.clear();
      });
      w.unref();
      return w;
    });
    return this.workers;
  }

  private release(w: Worker): void {
    const n = (this.busy.get(w) ?? 1) - 1;
    this.busy.set(w, n);
    if (n === 0) w.unref();
  }

  private run(worker: Worker, keys: Buffer): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      this.busy.set(worker, (this.busy.get(worker) ?? 0) + 1);
      worker.ref();
      const ab = keys.buffer.slice(keys.byteOffset, keys.byteOffset + keys.byteLength) as ArrayBuffer;
      worker.postMessage({ id, buffer: ab }, [ab]);
    });
  }

  /**
   * Check raw 32-byte keys. Resolves to null when all are acceptable, else the first bad key's index
   * and the reason (`key-non-canonical`, `key-small-order`, `key-not-on-curve`).
   */
  async check(keys: readonly Buffer[]): Promise<{ index: number; problem: string } | null> {
    if (this.closed) throw new Error('credential check pool is closed');
    if (keys.length === 0) return null;
    const workers = this.start();
    const per = Math.ceil(keys.length / workers.length);
    const parts: Promise<Uint8Array>[] = [];
    for (let start = 0; start < keys.length; start += per) {
      const slice = keys.slice(start, start + per);
      const buf = Buffer.allocUnsafe(32 * slice.length);
      slice.forEach((k, i) => k.copy(buf, 32 * i));
      parts.push(this.run(workers[this.next++ % workers.length]!, buf));
    }
    const results = await Promise.all(parts);
    let offset = 0;
    for (const r of results) {
      for (let i = 0; i < r.length; i++) if (r[i] !== 0) return { index: offset + i, problem: PROBLEMS[r[i]!] ?? 'key-not-on-curve' };
      offset += r.length;
    }
    return null;
  }

  async close(): Promise<void> {
    this.closed = true;
    const ws = this.workers ?? [];
    this.workers = null;
    await Promise.all(ws.map((w) => w.terminate()));
  }
}
