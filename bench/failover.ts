// Failover figures (issue #17, item 4): the scenario of test/failover.test.ts, timed. A pg_auto_failover
// formation on 127.0.0.1 (a monitor, a primary and two standbys, commits waiting for one standby), the API
// and the anchor worker on its multi-host URL, clients sending signed ballots; the primary is killed -9
// mid-ingest and the clients go on through the promotion. Prints and keeps, per run: ballots acknowledged
// before and after the kill, kill → the new primary writable and → promoted (synchronous again), the
// ingest gap (last 201 before the kill → first 201 after), the answers during the outage, and the
// zero-loss checks (acknowledged ballots missing on the promoted node or the standby, seq gaps, windows
// not anchored exactly once).
//
//   REDIS_URL=redis://127.0.0.1:6379 npx tsx bench/failover.ts [--runs 3] [--voters 300] [--clients 6]
//                                                              [--out bench/results/failover.json]
//
// Needs pg_autoctl (Debian's postgresql-15-auto-failover) and Redis. The monitor's timeouts are the test
// harness's (test/support/pg-auto-failover.ts: unhealthy after 3 s, demote timeout 4 s), not
// pg_auto_failover's defaults (20 s and 30 s), which make a failover take ~40 s more.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  closeAndRead,
  type FailoverRun,
  figures,
  type Readback,
  runThroughFailover,
  startFailoverStack,
} from '../test/support/failover-scenario.js';
import { pgAutoFailoverMissing } from '../test/support/pg-auto-failover.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    voters: { type: 'string', default: '300' },
    clients: { type: 'string', default: '6' },
    out: { type: 'string', default: fileURLToPath(new URL('./results/failover.json', import.meta.url)) },
  },
});
const RUNS = Number(values.runs);
const VOTERS = Number(values.voters);
const CLIENTS = Number(values.clients);
const log = (s: string) => process.stderr.write(`${s}\n`);

const missing = pgAutoFailoverMissing() ?? (process.env.REDIS_URL ? null : 'set REDIS_URL (the queue is on Redis)');
if (missing) {
  log(`bench/failover: ${missing}`);
  process.exit(2);
}
const redisUrl = process.env.REDIS_URL!;

/** Zero loss, counted: every figure here is 0 (or true) when nothing acknowledged was lost. */
function zeroLoss(run: FailoverRun, read: Readback) {
  const bySeq = new Map(read.ballots.map((b) => [b.seq, b.hash]));
  const acks = [...run.acks.values()];
  let next = 0;
  let windowsContiguous = true;
  for (const [i, w] of read.windows.entries()) {
    if (w.index !== i || w.firstSeq !== next || !w.anchorTx) windowsContiguous = false;
    next += w.count;
  }
  const events = read.chain.anchoredEvents.map((e) => e.windowIndex).sort((a, b) => a - b);
  return {
    acknowledgedMissingOnPromoted: acks.filter((a) => bySeq.get(a.receipt.seq) !== run.hashes[a.index]).length,
    acknowledgedMissingOnStandby: read.standbyHashes
      ? acks.filter((a) => !read.standbyHashes!.has(run.hashes[a.index]!)).length
      : null,
    ledgerBallots: read.ballots.length,
    seqGapFree: read.ballots.every((b, i) => b.seq === i),
    windows: read.windows.length,
    windowsContiguousAndAnchored: windowsContiguous && next === read.ballots.length,
    chainWindowCount: read.chain.windowCount,
    anchoredExactlyOnce: JSON.stringify(events) === JSON.stringify(read.windows.map((w) => w.index)),
  };
}

const runs: (ReturnType<typeof figures> & { zeroLoss: ReturnType<typeof zeroLoss> })[] = [];
for (let r = 0; r < RUNS; r++) {
  log(`== run ${r + 1} of ${RUNS}`);
  const stack = await startFailoverStack({ redisUrl, log });
  try {
    const run = await runThroughFailover(stack, { voters: VOTERS, clients: CLIENTS, redisUrl, log });
    const read = await closeAndRead(stack, run);
    const result = { ...figures(run, CLIENTS), zeroLoss: zeroLoss(run, read) };
    log(JSON.stringify(result, null, 2));
    runs.push(result);
  } finally {
    await stack.stop();
  }
}

const spread = (pick: (x: (typeof runs)[number]) => number) => {
  const xs = runs.map(pick).sort((a, b) => a - b);
  return { min: xs[0], median: xs[Math.floor(xs.length / 2)], max: xs[xs.length - 1] };
};
const result = {
  date: new Date().toISOString(),
  machine: { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown' },
  setup:
    'pg_auto_failover 2.0 (Debian postgresql-15-auto-failover), PostgreSQL 15, all on 127.0.0.1: a monitor, a ' +
    'primary and two standbys, number_sync_standbys 1 (synchronous_standby_names ANY 1), trust auth; monitor ' +
    'health checks every 1 s, node unhealthy after 3 s, primary demote timeout 4 s, keepers network partition ' +
    `timeout 2 s. The API (DATABASE_POOL_SIZE 4) and the anchor worker as processes, queue on Redis. ${VOTERS} ` +
    `ballots from ${CLIENTS} clients (50 ms between a client's ballots; a 503 retried after min(Retry-After, ` +
    '200 ms)); kill -9 of the primary (keeper and postmaster) after a third is acknowledged.',
  definitions: {
    killToWritableMs: 'kill → the monitor records the promoted standby as wait_primary (writable, not synchronous)',
    killToPromotionMs: 'kill → the monitor records it as primary (synchronous replication on again)',
    asynchronousWindowMs: 'wait_primary → primary; the API writes to no primary without synchronous replication',
    ingestGapMs: 'last 201 before the kill → first 201 after it, as the clients saw them',
    firstAckAfterKillVsPromotionMs:
      'first 201 after the kill minus when the monitor recorded the new primary (negative: the keeper had turned synchronous replication on and the API written before the keeper reported it)',
  },
  summary: {
    killToWritableMs: spread((x) => x.killToWritableMs),
    killToPromotionMs: spread((x) => x.killToPromotionMs),
    ingestGapMs: spread((x) => x.ingestGapMs),
  },
  runs,
};
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
log(`wrote ${values.out}`);
process.exit(0);
