// Prometheus metrics, one registry per app (tests build several apps in one process). Ingest outcomes
// and batches come from the Ingestor's hooks; window, anchoring and lag figures are read from the ledger
// database at scrape time, so every API replica reports the same ledger-wide values.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Sql } from 'postgres';
import type { IngestMetrics, IngestOutcome } from '../../../ledger/src/index.js';
import type { ErrorCode } from '../errors.js';
import { withTimeout } from '../dependencies.js';
import { anchoringProgress } from '../../../ledger/src/index.js';

export class ApiMetrics {
  readonly registry = new Registry();
  readonly received: Counter;
  readonly accepted: Counter;
  readonly resubmitted: Counter;
  readonly duplicate: Counter;
  readonly rejected: Counter<'reason'>;
  readonly batchSize: Histogram;
  readonly batchSeconds: Histogram;
  readonly ballotSeconds: Histogram<'outcome'>;
  readonly rateLimited: Counter<'limit'>;

  constructor(opts: { sql: Sql; poolSize: number; queueDepth: () => number; defaultMetrics?: boolean }) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.received = new Counter({
      name: 'tallyproof_ballots_received_total',
      help: 'Ballot submissions received (every POST to a ballots route)',
      registers,
    });
    this.accepted = new Counter({
      name: 'tallyproof_ballots_accepted_total',
      help: 'Ballots committed to the ledger (201)',
      registers,
    });
    this.resubmitted = new Counter({
      name: 'tallyproof_ballots_resubmitted_total',
      help: 'Byte-identical resubmissions answered with the original receipt (200)',
      registers,
    });
    this.duplicate = new Counter({
      name: 'tallyproof_ballots_duplicate_total',
      help: 'Other ballots of a credential that already voted (409)',
      registers,
    });
    this.rejected = new Counter({
      name: 'tallyproof_ballots_rejected_total',
      help: 'Refused submissions by reason (error code), duplicates excluded',
      labelNames: ['reason'],
      registers,
    });
    this.rateLimited = new Counter({
      name: 'tallyproof_rate_limited_total',
      help: 'Requests answered 429 rate-limited, by limit (ballots, refused-ballots, reads, exports, other)',
      labelNames: ['limit'],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'tallyproof_ingest_batch_size',
      help: 'Submissions per ingest transaction',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000],
      registers,
    });
    this.batchSeconds = new Histogram({
      name: 'tallyproof_ingest_batch_seconds',
      help: 'Ingest transaction latency, BEGIN to COMMIT',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.ballotSeconds = new Histogram({
      name: 'tallyproof_ballot_request_seconds',
      help: 'Ballot request latency, body parsed to reply',
      labelNames: ['outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });

    const sql = opts.sql;
    new Gauge({
      name: 'tallyproof_ingest_queue_depth',
      help: 'Submissions waiting for an ingest transaction in this process',
      registers,
      collect() {
        this.set(opts.queueDepth());
      },
    });
    new Gauge({
      name: 'tallyproof_db_pool_size',
      help: "Connections in this process's application pool (maximum)",
      registers,
      collect() {
        this.set(opts.poolSize);
      },
    });
    // Ledger-wide figures, one query per scrape (text()); a database outage keeps the last values and sets db_up to 0.
    const dbUp = new Gauge({
      name: 'tallyproof_db_up',
      help: '1 when the ledger database answered the last scrape',
      registers,
    });
    const sealed = new Gauge({ name: 'tallyproof_windows_sealed', help: 'Windows sealed (all elections)', registers });
    const anchored = new Gauge({
      name: 'tallyproof_windows_anchored',
      help: 'Windows anchored on chain (all elections)',
      registers,
    });
    const pending = new Gauge({
      name: 'tallyproof_windows_pending',
      help: 'Sealed windows not yet anchored',
      registers,
    });
    const lag = new Gauge({
      name: 'tallyproof_anchor_lag_seconds',
      help: 'Age of the oldest ballot not yet in an anchored window (0 when all are anchored)',
      registers,
    });
    const unanchored = new Gauge({
      name: 'tallyproof_ballots_unanchored',
      help: 'Ballots committed but not yet in an anchored window',
      registers,
    });
    this.scrapeLedger = async () => {
      try {
        const p = await withTimeout(anchoringProgress(sql), 2000, () => {
          throw new Error('ledger figures timed out');
        });
        dbUp.set(1);
        sealed.set(p.sealedWindows);
        anchored.set(p.anchoredWindows);
        pending.set(p.sealedWindows - p.anchoredWindows);
        lag.set(p.lagSeconds);
        unanchored.set(p.unanchoredBallots);
      } catch {
        dbUp.set(0);
      }
    };
  }

  private readonly scrapeLedger: () => Promise<void>;

  /** Hooks for the Ingestor's `metrics` option. */
  ingestHooks(): IngestMetrics {
    return {
      onBatch: (size, seconds) => {
        this.batchSize.observe(size);
        this.batchSeconds.observe(seconds);
      },
      onOutcome: (kind: IngestOutcome['kind'], code?: ErrorCode) => {
        if (kind === 'accepted') this.accepted.inc();
        else if (kind === 'resubmitted') this.resubmitted.inc();
        else if (kind === 'duplicate') this.duplicate.inc();
        else this.rejected.inc({ reason: code ?? 'internal' });
      },
    };
  }

  /** The exposition text; ledger-wide gauges are read from the database first (one query). */
  async text(): Promise<string> {
    await this.scrapeLedger();
    return this.registry.metrics();
  }
}
