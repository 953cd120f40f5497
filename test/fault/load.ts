// The clients of the whole-system fault test: a bounded, paced load of pre-signed ballots against the
// API processes, round-robin, each ballot retried until acknowledged (or the deadline) on a network
// error, a timeout or a 5xx, with backoff, alternating between the APIs. Every answer and every error
// is counted, per phase of the fault schedule and per API.
import type { Receipt, Submission } from '../../ledger/src/protocol/protocol.js';
import { sleep } from './processes.js';

export interface LoadOptions {
  /** Base URLs of the API processes (fixed ports: a restarted process comes back on the same one). */
  apis: string[];
  electionId: string;
  /** One pre-signed submission per voter, sent in this order. */
  submissions: Submission[];
  /** Their ballot hashes (hex), to check each receipt against. */
  ballotHashes: string[];
  /** Ballots started per second. */
  ratePerSecond: number;
  /** Ballots in progress at most (sending, waiting for an answer or backing off). */
  maxInFlight: number;
  /** Wall-clock end (ms since epoch): nothing is sent after it; a ballot not acknowledged by then is given up. */
  deadline: number;
  /**
   * The last `reserve` ballots go out at `trickleRatePerSecond` until `released()` says so (the fault
   * schedule is over), so that the load keeps running through every fault however long they take.
   */
  reserve: number;
  trickleRatePerSecond: number;
  released: () => boolean;
  /** Per HTTP request. */
  requestTimeoutMs?: number;
  /** Longest wait between two attempts of one ballot (also caps a 503's Retry-After). */
  maxBackoffMs?: number;
}

export interface Acknowledged {
  index: number;
  status: 200 | 201;
  receipt: Receipt;
  /** Attempts made, this one included. */
  attempts: number;
  api: string;
}

export interface UnexpectedAnswer {
  index: number;
  api: string;
  status: number;
  body: string;
  phase: string;
}

export class LoadStats {
  /** What the clients saw, per phase the request was sent in: "201", "503", "error:ECONNREFUSED", "error:timeout", … → count. */
  readonly byPhase = new Map<string, Map<string, number>>();
  /** The same per API base URL. */
  readonly byApi = new Map<string, Map<string, number>>();
  readonly acknowledged = new Map<number, Acknowledged>();
  /** Answers other than 200/201/503: 4xx (not retried) and other 5xx (retried). */
  readonly unexpected: UnexpectedAnswer[] = [];
  /** Receipts whose ballotHash or election differ from the ballot sent. */
  readonly wrongReceipts: { index: number; receipt: unknown }[] = [];
  /** Requests that got no answer in time: which ballot, where, sent in which phase, how long after the start. */
  readonly timeouts: { index: number; api: string; phase: string; sentAtMs: number }[] = [];
  /** Ballots given up at the deadline. */
  readonly givenUp: number[] = [];
  requests = 0;
  retries = 0;
  started = 0;
  phase = 'steady';
  private readonly inFlightTo = new Map<string, number>();

  /** One answer or error of a request sent to `api` during `phase`. */
  count(api: string, key: string, phase: string): void {
    this.requests++;
    for (const [map, k] of [
      [this.byPhase, phase],
      [this.byApi, api],
    ] as const) {
      let m = map.get(k);
      if (!m) {
        m = new Map();
        map.set(k, m);
      }
      m.set(key, (m.get(key) ?? 0) + 1);
    }
  }

  /** Every status code seen, over all phases. */
  statuses(): Map<string, number> {
    const all = new Map<string, number>();
    for (const m of this.byPhase.values()) for (const [k, n] of m) all.set(k, (all.get(k) ?? 0) + n);
    return all;
  }

  inFlight(api?: string): number {
    if (api !== undefined) return this.inFlightTo.get(api) ?? 0;
    let n = 0;
    for (const v of this.inFlightTo.values()) n += v;
    return n;
  }

  enter(api: string): void {
    this.inFlightTo.set(api, (this.inFlightTo.get(api) ?? 0) + 1);
  }

  leave(api: string): void {
    this.inFlightTo.set(api, (this.inFlightTo.get(api) ?? 1) - 1);
  }

  summary(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [phase, m] of this.byPhase) out[phase] = Object.fromEntries([...m].sort());
    return out;
  }
}

/** The name of a fetch failure: the socket error code of its cause, or "timeout". */
export function errorKey(err: unknown): string {
  const e = err as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timeout';
  return e?.cause?.code ?? e?.code ?? e?.cause?.name ?? e?.name ?? 'unknown';
}

export interface Load {
  stats: LoadStats;
  /** Ballots started so far. */
  sent(): number;
  /** Resolves once every ballot is acknowledged, refused for good or given up. */
  done: Promise<LoadStats>;
}

export function startLoad(opts: LoadOptions): Load {
  const stats = new LoadStats();
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const maxBackoffMs = opts.maxBackoffMs ?? 2_000;
  const path = `/api/v1/elections/${opts.electionId}/ballots`;
  const bodies = opts.submissions.map((s) => JSON.stringify(s)); // every attempt of a ballot: the same bytes
  let active = 0;
  let sent = 0;
  let wake: (() => void) | null = null;

  const one = async (i: number): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      if (Date.now() > opts.deadline) {
        stats.givenUp.push(i);
        return;
      }
      if (attempt > 0) stats.retries++;
      const api = opts.apis[(i + attempt) % opts.apis.length]!;
      let wait = Math.min(maxBackoffMs, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);
      stats.enter(api);
      const phase = stats.phase;
      const sentAt = Date.now();
      try {
        const res = await fetch(api + path, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: bodies[i],
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await res.text();
        stats.count(api, String(res.status), phase);
        if (res.status === 200 || res.status === 201) {
          const receipt = (JSON.parse(text) as { receipt: Receipt }).receipt;
          if (receipt?.ballotHash !== opts.ballotHashes[i] || receipt.electionId !== opts.electionId)
            stats.wrongReceipts.push({ index: i, receipt });
          stats.acknowledged.set(i, { index: i, status: res.status, receipt, attempts: attempt + 1, api });
          return;
        }
        if (res.status !== 503)
          stats.unexpected.push({ index: i, api, status: res.status, body: text.slice(0, 500), phase });
        if (res.status < 500) return; // refused for good: retrying the same bytes changes nothing
        const retryAfter = Number(res.headers.get('retry-after'));
        if (res.status === 503 && retryAfter > 0) wait = Math.min(maxBackoffMs, retryAfter * 1000);
      } catch (err) {
        const key = errorKey(err);
        stats.count(api, `error:${key}`, phase);
        if (key === 'timeout') stats.timeouts.push({ index: i, api, phase, sentAtMs: sentAt - stats.started });
      } finally {
        stats.leave(api);
      }
      await sleep(wait);
    }
  };

  const done = (async () => {
    stats.started = Date.now();
    const tasks: Promise<void>[] = [];
    let nextAt = Date.now();
    const n = opts.submissions.length;
    while (sent < n && Date.now() <= opts.deadline) {
      const trickle = n - sent <= opts.reserve && !opts.released();
      const interval = 1000 / (trickle ? opts.trickleRatePerSecond : opts.ratePerSecond);
      const now = Date.now();
      if (now < nextAt) {
        await sleep(Math.min(nextAt - now, 100)); // short naps: the gate may open meanwhile
        continue;
      }
      while (active >= opts.maxInFlight) await new Promise<void>((r) => (wake = r));
      const i = sent++;
      active++;
      tasks.push(
        one(i).finally(() => {
          active--;
          const w = wake;
          wake = null;
          w?.();
        }),
      );
      nextAt = Math.max(nextAt + interval, Date.now());
    }
    for (let i = sent; i < n; i++) stats.givenUp.push(i);
    await Promise.all(tasks);
    return stats;
  })();

  return { stats, sent: () => sent, done };
}
