// Prometheus metrics of the worker process, served on METRICS_PORT by main.ts (deploy/prometheus scrapes
// it as job "worker"; its `up` is the TallyproofWorkerDown alert). Ledger-wide window and lag figures are
// also exported by every API replica; these are the worker's own view: what it did, and what it sees.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { AnchorEvent } from './anchorer.js';

export interface WorkerStatusSource {
  status(): Promise<{ chain: 'up' | 'down'; queue: 'up' | 'down'; anchorLagSeconds: number; pendingWindows: number }>;
}

export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly sealed: Counter;
  private readonly anchored: Counter<'how'>;
  private readonly gas: Counter;
  private readonly halted = new Set<string>();
  private source: WorkerStatusSource | null = null;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.sealed = new Counter({
      name: 'tallyproof_worker_windows_sealed_total',
      help: 'Windows sealed by this worker process',
      registers,
    });
    this.anchored = new Counter({
      name: 'tallyproof_worker_windows_anchored_total',
      help: 'Windows recorded as anchored by this process: how="sent", or "recovered" from the chain after a crash',
      labelNames: ['how'],
      registers,
    });
    this.gas = new Counter({
      name: 'tallyproof_worker_anchor_gas_total',
      help: 'Gas used by the anchorWindow transactions this process sent',
      registers,
    });
    const halted = this.halted;
    new Gauge({
      name: 'tallyproof_worker_halted_elections',
      help: 'Elections halted on a ledger/chain divergence (see the worker log)',
      registers,
      collect() {
        this.set(halted.size);
      },
    });
    const chainUp = new Gauge({
      name: 'tallyproof_worker_chain_up',
      help: '1 when the chain node answered the last scrape',
      registers,
    });
    const queueUp = new Gauge({
      name: 'tallyproof_worker_queue_up',
      help: '1 when the queue backend answered the last scrape',
      registers,
    });
    const dbUp = new Gauge({
      name: 'tallyproof_worker_db_up',
      help: '1 when the ledger database answered the last scrape',
      registers,
    });
    const pending = new Gauge({
      name: 'tallyproof_worker_pending_windows',
      help: 'Windows sealed but not yet anchored',
      registers,
    });
    const lag = new Gauge({
      name: 'tallyproof_worker_anchor_lag_seconds',
      help: 'Age of the oldest ballot not yet in an anchored window',
      registers,
    });
    this.scrape = async () => {
      if (!this.source) return;
      try {
        const s = await this.source.status();
        chainUp.set(s.chain === 'up' ? 1 : 0);
        queueUp.set(s.queue === 'up' ? 1 : 0);
        pending.set(s.pendingWindows);
        lag.set(s.anchorLagSeconds);
        dbUp.set(1);
      } catch {
        dbUp.set(0);
      }
    };
  }

  private readonly scrape: () => Promise<void>;

  /** Pass as startAnchorWorker's onEvent. */
  readonly onEvent = (e: AnchorEvent): void => {
    if (e.type === 'sealed') this.sealed.inc();
    else if (e.type === 'anchored') {
      this.anchored.inc({ how: e.recovered ? 'recovered' : 'sent' });
      if (e.gasUsed !== undefined) this.gas.inc(e.gasUsed);
    } else if (e.type === 'halted') this.halted.add(e.electionId);
  };

  async text(): Promise<string> {
    await this.scrape();
    return this.registry.metrics();
  }

  /** Serve GET /metrics on host:port, with gauges read from `source` at each scrape. */
  serve(source: WorkerStatusSource, port: number, host: string): Promise<Server> {
    this.source = source;
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.text().then(
        (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(err.message),
      );
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve(server));
    });
  }
}
