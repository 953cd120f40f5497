// Issue #17, item 4: replication with zero loss. The ledger on a pg_auto_failover formation (a primary and
// two standbys, commits waiting for one: test/support/pg-auto-failover.ts), the real API and anchor worker
// on its multi-host URL; clients send signed ballots continuously, the primary is killed -9 (keeper and
// postmaster) mid-ingest, the clients keep sending through the promotion. Then: every acknowledged ballot
// is on the promoted node at its receipt's seq (and on the surviving standby), seq is gap-free, every
// window is anchored exactly once, and requests during the outage got 503, never 500 or a lost 201.
// The failover figures are printed (bench/failover.ts measures the same scenario and keeps them).
//
// Needs pg_autoctl (Debian's postgresql-15-auto-failover, installed by .ci/run) and REDIS_URL (a multi-host
// DATABASE_URL needs the queue on Redis); skipped without them outside CI, failed without them in CI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeAndRead,
  type FailoverRun,
  type FailoverStack,
  figures,
  outageAnswers,
  type Readback,
  runThroughFailover,
  startFailoverStack,
} from './support/failover-scenario.js';
import { pgAutoFailoverMissing } from './support/pg-auto-failover.js';
import { ConfigError, loadSharedConfig } from '../ledger/src/config.js';
import { appUrlFor, urlUser, withUser } from '../ledger/src/db/connect.js';
import { editUrl, isMultiHost, singleHostUrl, urlHosts, urlHostsText } from '../ledger/src/db/url.js';

const missing =
  pgAutoFailoverMissing() ??
  (process.env.REDIS_URL ? null : 'REDIS_URL is not set (the queue of a replicated deployment is on Redis)');
const skip = missing !== null && !process.env.CI;
if (skip) console.log(`test/failover.test.ts skipped: ${missing}`);

const VOTERS = 300;
const CLIENTS = 6;
const t0 = Date.now();
const note = (line: string) => console.log(`[failover ${((Date.now() - t0) / 1000).toFixed(1)} s] ${line}`);

describe.skipIf(skip)('replication: a primary killed -9 during ingest (issue #17, item 4)', () => {
  let stack: FailoverStack;
  let run: FailoverRun;
  let read: Readback;

  beforeAll(async () => {
    if (missing) throw new Error(`the failover test cannot run: ${missing}`);
    stack = await startFailoverStack({ redisUrl: process.env.REDIS_URL!, log: note });
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('keeps acknowledging ballots through the promotion; the outage is answered 503', async () => {
    run = await runThroughFailover(stack, {
      voters: VOTERS,
      clients: CLIENTS,
      redisUrl: process.env.REDIS_URL!,
      log: note,
    });
    const f = figures(run, CLIENTS);
    note(`figures: ${JSON.stringify(f)}`);

    expect(run.exits, 'the API and the worker kept running').toEqual([]);
    // The kill fell mid-ingest: ballots acknowledged on both sides of it.
    expect(f.ackedBeforeKill).toBeGreaterThan(0);
    expect(f.ackedAfterKill).toBeGreaterThan(0);
    expect(run.acks.size, 'every ballot acknowledged in the end').toBe(VOTERS);
    // Only 200, 201 and 503 were ever answered; no request went unanswered.
    const other = run.answers.filter((a) => !['200', '201', '503'].includes(a.status));
    expect(other, 'answers other than 200, 201, 503 (a 500, a 4xx, no answer)').toEqual([]);
    // While no primary took writes, the API said so: 503, which the clients retried. (Requests sent after the
    // kill: one sent before it may still be answered 201 just after it, its COMMIT having returned before.)
    const outage = outageAnswers(run);
    note(`answers during the outage: ${outage.length}`);
    expect(outage.length, 'requests sent and answered during the outage').toBeGreaterThan(0);
    expect(new Set(outage.map((a) => a.status))).toEqual(new Set(['503']));
    // Receipts name the ballot that was sent.
    for (const a of run.acks.values()) expect(a.receipt.ballotHash, `ballot ${a.index}`).toBe(run.hashes[a.index]);
  }, 300_000);

  it('has every acknowledged ballot on the promoted node at its seq, and on the standby; seq gap-free', async () => {
    expect(run?.acks.size, 'the ingest ran').toBeGreaterThan(0);
    read = await closeAndRead(stack, run);
    const n = read.ballots.length;
    expect(read.ballots.map((b) => b.seq)).toEqual(Array.from({ length: n }, (_, i) => i));
    const bySeq = new Map(read.ballots.map((b) => [b.seq, b.hash]));
    for (const a of run.acks.values()) {
      expect(bySeq.get(a.receipt.seq), `ballot ${a.index} (${a.status}) at seq ${a.receipt.seq}`).toBe(
        run.hashes[a.index],
      );
    }
    // Nothing but the acknowledged ballots, each once.
    expect(n).toBe(run.acks.size);
    expect(new Set(read.ballots.map((b) => b.hash)).size).toBe(n);
    // The second machine: the surviving standby holds every acknowledged ballot too.
    expect(read.standbyHashes, 'a surviving standby in secondary state').not.toBeNull();
    const onStandby = read.standbyHashes!;
    expect([...run.acks.values()].filter((a) => !onStandby.has(run.hashes[a.index]!)).map((a) => a.index)).toEqual([]);
  }, 180_000);

  it('anchors every window exactly once, contiguous, as many on chain as in the ledger', () => {
    expect(read, 'the ledger was read back').toBeDefined();
    let next = 0;
    for (const [i, w] of read.windows.entries()) {
      expect([w.index, w.firstSeq], `window ${i}`).toEqual([i, next]);
      expect(w.anchorTx, `window ${i} anchored`).toMatch(/^0x[0-9a-f]{64}$/);
      next += w.count;
    }
    expect(next).toBe(read.ballots.length);
    expect(read.chain.windowCount).toBe(read.windows.length);
    expect(
      read.chain.anchoredEvents.map((e) => e.windowIndex).sort((a, b) => a - b),
      'one WindowAnchored event per window',
    ).toEqual(read.windows.map((w) => w.index));
    for (const w of read.windows) {
      expect(read.chain.windows[w.index], `window ${w.index} on chain`).toEqual({
        firstSeq: w.firstSeq,
        count: w.count,
        root: `0x${w.root}`,
      });
      expect(read.chain.anchoredEvents.find((e) => e.windowIndex === w.index)?.txHash).toBe(w.anchorTx);
    }
    expect([read.chain.closed, read.chain.totalBallots]).toEqual([true, read.ballots.length]);
  });
});

// The replicated deployment's DATABASE_URL names every node (libpq's multi-host form), which WHATWG URL
// refuses: the ledger reads and edits it through ledger/src/db/url.ts. No server needed.
describe('a multi-host DATABASE_URL', () => {
  const url = 'postgres://owner:s%40cret@db-a:5432,db-b:5433,[::1]/tallyproof?target_session_attrs=read-write';

  it('is read host by host and edited with its hosts kept', () => {
    expect(isMultiHost(url)).toBe(true);
    expect(isMultiHost('postgres://u@db-a:5432/x')).toBe(false);
    expect(urlHosts(url)).toEqual([
      { host: 'db-a', port: 5432 },
      { host: 'db-b', port: 5433 },
      { host: '::1', port: 5432 },
    ]);
    expect(urlHostsText(url)).toBe('db-a:5432,db-b:5433,[::1]');
    expect(singleHostUrl(url, 1)).toBe(
      'postgres://owner:s%40cret@db-b:5433/tallyproof?target_session_attrs=read-write',
    );
    expect(urlUser(url)).toBe('owner');
    expect(withUser(url, 'tallyproof_app', 'p@ss:/')).toBe(
      'postgres://tallyproof_app:p%40ss%3A%2F@db-a:5432,db-b:5433,[::1]/tallyproof?target_session_attrs=read-write',
    );
    expect(appUrlFor(url, null)).toBe(
      'postgres://tallyproof_app@db-a:5432,db-b:5433,[::1]/tallyproof?target_session_attrs=read-write',
    );
    expect(editUrl(url, (u) => u.searchParams.delete('target_session_attrs'))).toBe(
      'postgres://owner:s%40cret@db-a:5432,db-b:5433,[::1]/tallyproof',
    );
  });

  it('is accepted as DATABASE_URL with REDIS_URL, and refused without (the PostgreSQL queue reaches one host)', () => {
    const env = { DATABASE_URL: url, REDIS_URL: 'redis://127.0.0.1:6379' };
    expect(loadSharedConfig(env).databaseUrl).toBe(url);
    expect(() => loadSharedConfig({ DATABASE_URL: url })).toThrow(ConfigError);
    expect(() => loadSharedConfig({ DATABASE_URL: url })).toThrow(/DATABASE_URL: names several hosts/);
    expect(() => loadSharedConfig({ DATABASE_URL: 'postgres://db-a:x,db-b/t', REDIS_URL: env.REDIS_URL })).toThrow(
      /DATABASE_URL: is not a URL/,
    );
  });
});
