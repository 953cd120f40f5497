// Durable votes per second through the HTTP API, next to the ceilings measured in the same run.
//
//   npx tsx bench/ingest-http.ts [--duration 60] [--connections 256] [--rate 1000] [--rate-duration 20]
//                                [--ceiling-duration 10] [--profile] [--rate-limits] [--shards N]
//                                [--out bench/results/ingest-http.json]
//
// 1. Pre-signs one ballot per voter (key generation and signing in worker threads; cached under the OS
//    temp dir, so quick re-runs start at once) and creates the election with that roll (with --shards N,
//    its manifest has "shards": N: N heads committing side by side, docs/protocol.md section 13).
// 2. Measures the raw node:crypto verify rate on all cores (bench/lib/verify-ceiling.ts).
// 3. Measures the HTTP ceiling: a bare fastify POST route returning 201, child process, same autocannon settings.
// 4. Starts the API (api/src/server.ts) as a child process on 127.0.0.1 with a fresh database (DATABASE_URL
//    when set, else an embedded PostgreSQL); after a 3 s warm-up, p50/p95/p99 at a fixed 1,000 votes/s
//    for --rate-duration seconds: open-loop, one request every 1/rate s (see paced() for why not autocannon).
// 5. Drives it with autocannon for --duration seconds, every request a new ballot. "Durable" = answered
//    201, which the API only sends after COMMIT; the count is checked against the ballots table at the end.
// Writes bench/results/ingest-http.json. Every figure is measured; nothing is assumed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir, availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type postgres from 'postgres';
import { openLedgerDatabase } from '../ledger/src/db/connect.js';
import { migrateQueueSchema } from '../jobs/src/index.js';
import { LedgerClusters, createElectionOnClusters } from '../ledger/src/index.js';
import { ledgerKeyFromSeed } from '../ledger/src/ledger-key.js';
import { normalizeManifest } from '../ledger/src/protocol/protocol.js';
import { cpuMeter, ownCpuSeconds, postgresCpuSeconds, processCpuSeconds } from './lib/cpu.js';
import { measureVerifyCeiling } from './lib/verify-ceiling.js';
import { presign } from './lib/presign.js';
import { BARE_SERVER, drive, ingestTransactionTotals, paced, stopChild, waitForUrl } from './lib/http-load.js';
import { type BenchDatabase, createBenchDatabase } from './lib/bench-database.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    connections: { type: 'string', default: '256' },
    rate: { type: 'string', default: '1000' },
    'rate-duration': { type: 'string', default: '20' },
    'ceiling-duration': { type: 'string', default: '10' },
    ballots: { type: 'string' },
    profile: { type: 'boolean', default: false },
    // The rate limiter on (every counter kept), its ballot limit raised out of reach: what the limits cost.
    'rate-limits': { type: 'boolean', default: false },
    shards: { type: 'string' },
    // An owner URL of another PostgreSQL server (any database on it): a second cluster for the shards
    // (TALLYPROOF_SHARD_DATABASE_URLS; shard s on cluster s mod 2). The bench makes its database there.
    'shard-cluster': { type: 'string' },
    out: { type: 'string', default: fileURLToPath(new URL('./results/ingest-http.json', import.meta.url)) },
  },
});
const DURATION = Number(values.duration);
const CONNECTIONS = Number(values.connections);
const RATE = Number(values.rate);
const RATE_DURATION = Number(values['rate-duration']);
const CEILING_DURATION = Math.min(Number(values['ceiling-duration']), DURATION);
const WARMUP_SECONDS = 3;
// Absent: the manifest has no "shards" (one shard, today's bytes).
const SHARDS = values.shards === undefined ? undefined : Number(values.shards);
// Enough fresh ballots for the main run at up to 10,000/s, the warm-up and the fixed-rate run.
const N = Number(values.ballots ?? Math.ceil((DURATION + WARMUP_SECONDS) * 10_000 + RATE * RATE_DURATION * 1.2));
const ELECTION = 'bench-http';
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const log = (s: string) => process.stderr.write(s + '\n');
const ballotsUrl = (base: string) => `${base}/api/v1/elections/${ELECTION}/ballots`;

/** PostgreSQL checkpoints so far (timed + requested), to tell when one ran during a measurement. */
async function checkpoints(sql: postgres.Sql): Promise<number> {
  const [r] = await sql`SELECT checkpoints_timed + checkpoints_req AS n FROM pg_stat_bgwriter`;
  return Number(r!.n);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (x: number, d = 1) => Number(x.toFixed(d));

// ---------------------------------------------------------------------------------------------------

const tmp = mkdtempSync(join(tmpdir(), 'tallyproof-bench-http-'));
const children: ChildProcess[] = [];
let bench: BenchDatabase | null = null;
let second: BenchDatabase | null = null;
let secondDb: Awaited<ReturnType<typeof openLedgerDatabase>> | null = null;

try {
  const { credentials, bodies } = await presign(N, ELECTION);

  bench = await createBenchDatabase({ prefix: 'tp_bench_http', tmp, log });
  const dbUrl = bench.url;
  const ledgerKey = ledgerKeyFromSeed(randomBytes(32));
  const db = await openLedgerDatabase({ url: dbUrl, dataDir: tmp, max: 4 });
  await migrateQueueSchema(dbUrl); // the API's queue when REDIS_URL is unset
  // The second cluster's database has the same name, on the server --shard-cluster names.
  if (values['shard-cluster']) {
    const dir2 = join(tmp, 'cluster-1');
    mkdirSync(dir2);
    second = await createBenchDatabase({
      prefix: 'tp_bench_http',
      tmp: dir2,
      log,
      serverUrl: values['shard-cluster'],
      name: bench.name,
    });
    secondDb = await openLedgerDatabase({ url: second.url, dataDir: dir2, max: 4 });
  }
  const clusters = new LedgerClusters(db.app, secondDb ? [secondDb.app] : []);
  log(`creating the election with a roll of ${credentials.length} credentials…`);
  const now = Date.now();
  const manifest = normalizeManifest(
    {
      version: 1,
      electionId: ELECTION,
      title: 'HTTP bench',
      opensAt: new Date(now - 60_000).toISOString(),
      closesAt: new Date(now + 86_400_000).toISOString(),
      contests: [
        {
          id: 'q1',
          title: 'Q1',
          choices: [
            { id: 'oui', label: 'Oui' },
            { id: 'non', label: 'Non' },
            { id: 'blanc', label: 'Blanc' },
          ],
          minSelections: 1,
          maxSelections: 1,
        },
      ],
      ...(SHARDS === undefined ? {} : { shards: SHARDS }),
    },
    ledgerKey.publicKeyHex,
  );
  await createElectionOnClusters(clusters, manifest, credentials.slice().sort(Buffer.compare));

  log('measuring the raw verify ceiling (node:crypto, all cores, 3 s)…');
  const verifyCeiling = await measureVerifyCeiling(3000);

  log(`measuring the HTTP ceiling (bare fastify POST → 201, ${CONNECTIONS} connections, ${CEILING_DURATION} s)…`);
  const bare = spawn(process.execPath, ['--input-type=module', '-e', BARE_SERVER], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(bare);
  const bareUrl = await waitForUrl(bare, /bare listening on (http:\/\/\S+)/, 'bare fastify');
  const ceilingRun = await drive(ballotsUrl(bareUrl), bodies, 0, {
    duration: CEILING_DURATION,
    connections: CONNECTIONS,
    cycle: true,
  });
  await stopChild(bare);
  const httpCeiling = (ceilingRun.statuses[201] ?? 0) / ceilingRun.seconds;

  log('starting the API (api/src/server.ts)…');
  const profileDir = join(ROOT, 'bench/results/profiles');
  // Started as `npm run api` and the image start it (docs/operations.md, "Node.js flags").
  const api = spawn(
    process.execPath,
    [
      ...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      '--max-semi-space-size=64',
      '--import',
      'tsx',
      join(ROOT, 'api/src/server.ts'),
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: db.appUrl, // the application role, as in production
        ...(secondDb ? { TALLYPROOF_SHARD_DATABASE_URLS: secondDb.appUrl } : {}),
        TALLYPROOF_DATA_DIR: tmp,
        LEDGER_KEY_SEED: ledgerKey.seed.toString('hex'),
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        // A load test from one address: every limit off (docs/operations.md, "Rate limits and audit rows"),
        // or, with --rate-limits, on and counting with a ballot limit this one address never reaches.
        ...(values['rate-limits'] ? { BALLOT_RATE_LIMIT: '10000000' } : { RATE_LIMITS: 'off' }),
        ADMIN_TOKEN: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(api);
  const apiUrl = await waitForUrl(api, /listening on (http:\/\/\S+)/, 'API');

  log(`warm-up (${WARMUP_SECONDS} s)…`);
  let cursor = 0;
  const warm = await drive(ballotsUrl(apiUrl), bodies, cursor, { duration: WARMUP_SECONDS, connections: CONNECTIONS });
  cursor += warm.used;

  // The fixed rate first: measured right after a saturation run it would mostly measure that run's
  // aftermath in PostgreSQL (a checkpoint with full-page writes of every index page the burst touched).
  log(`fixed rate: ${RATE} votes/s for ${RATE_DURATION} s…`);
  const cp0 = await checkpoints(db.admin);
  const fixed = await paced(ballotsUrl(apiUrl), bodies, cursor, {
    rate: RATE,
    duration: RATE_DURATION,
    sockets: Math.min(CONNECTIONS, 64),
  });
  if (cursor + fixed.used > bodies.length) throw new Error('ran out of pre-signed ballots in the fixed-rate run');
  cursor += fixed.used;
  const fixedLat = fixed.latenciesMs.slice().sort((a, b) => a - b);

  log(`driving the API: ${CONNECTIONS} connections for ${DURATION} s, a new ballot per request…`);
  const cp1 = await checkpoints(db.admin);
  const batches0 = await ingestTransactionTotals(apiUrl);
  const meter = cpuMeter({
    api: () => processCpuSeconds(api.pid!),
    loadGenerator: ownCpuSeconds, // autocannon runs in this process
    postgres: postgresCpuSeconds,
  });
  const main = await drive(ballotsUrl(apiUrl), bodies, cursor, { duration: DURATION, connections: CONNECTIONS });
  const cpuSeconds = meter.stop();
  const batches1 = await ingestTransactionTotals(apiUrl);
  const batchCount = batches1.count - batches0.count;
  cursor += main.used;
  if (cursor >= bodies.length)
    throw new Error('ran out of pre-signed ballots during the main run; pass a larger --ballots');
  const cp2 = await checkpoints(db.admin);
  const accepted = main.statuses[201] ?? 0;
  const latencies = main.latenciesMs.slice().sort((a, b) => a - b);

  await stopChild(api);
  // Durable: every 201 is a row (and nothing else was stored).
  let n = 0;
  for (const d of [db, ...(secondDb ? [secondDb] : [])]) {
    const [r] = await d.admin`SELECT count(*)::int AS n FROM ballots WHERE election_id = ${ELECTION}`;
    n += r!.n as number;
  }
  const acknowledged = (warm.statuses[201] ?? 0) + accepted + (fixed.statuses[201] ?? 0);
  await db.close();
  // Every 201 is a row. A few more rows than 201s are normal: requests in flight when a run's clock ran out
  // were committed but their answers were not counted. More rows than ballots sent would be a bug.
  if (n < acknowledged || n > cursor)
    throw new Error(`the ledger holds ${n} ballots; ${acknowledged} were acknowledged with 201 and ${cursor} sent`);

  const votesPerSecond = accepted / main.seconds;
  const result = {
    votesPerSecond: Math.round(votesPerSecond),
    p50Ms: round(percentile(latencies, 50)),
    p95Ms: round(percentile(latencies, 95)),
    p99Ms: round(percentile(latencies, 99)),
    verifyCeilingPerSecond: Math.round(verifyCeiling),
    httpCeilingPerSecond: Math.round(httpCeiling),
    ratioToVerifyCeiling: round(votesPerSecond / verifyCeiling, 3),
    ratioToHttpCeiling: round(votesPerSecond / httpCeiling, 3),
    durationSeconds: round(main.seconds, 2),
    connections: CONNECTIONS,
    accepted,
    otherStatuses: Object.fromEntries(Object.entries(main.statuses).filter(([s]) => s !== '201')),
    socketErrors: main.errors,
    durableCheck: { ballotsInLedger: n, acknowledged201: acknowledged, sent: cursor },
    // Ingest transactions during the saturation run (the API's own histograms): how many submissions
    // each carried and how long each took, BEGIN to the signed receipts.
    ingestTransactions: {
      count: batchCount,
      meanSize: round((batches1.size - batches0.size) / batchCount),
      meanMs: round((1000 * (batches1.seconds - batches0.seconds)) / batchCount, 2),
      perSecond: round(batchCount / main.seconds),
    },
    shards: SHARDS ?? 1,
    clusters: secondDb ? 2 : 1,
    checkpointsDuring: { fixedRate: cp1 - cp0, main: cp2 - cp1 },
    // Where the cores went during the saturation run: the API process (main thread + verify/sign
    // workers), autocannon (this process) and PostgreSQL, in CPU seconds.
    cpuSecondsDuringMain: cpuSeconds,
    fixedRate: {
      measured:
        'before the saturation run, after a 3 s warm-up; open-loop, one request every 1/rate s, latency from its due time',
      targetPerSecond: RATE,
      achievedPerSecond: Math.round((fixed.statuses[201] ?? 0) / fixed.seconds),
      durationSeconds: round(fixed.seconds, 2),
      p50Ms: round(percentile(fixedLat, 50)),
      p95Ms: round(percentile(fixedLat, 95)),
      p99Ms: round(percentile(fixedLat, 99)),
      otherStatuses: Object.fromEntries(Object.entries(fixed.statuses).filter(([s]) => s !== '201')),
    },
    targets: { votesPerSecond: 6000, p99MsAt1000: 50 },
    setup:
      'API child process (api/src/server.ts, default settings: verify threads = cores, app pool 10), autocannon in the bench process, PostgreSQL on the same machine; all share the cores below',
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    loadAverageAtEnd: (await import('node:os')).loadavg().map((x) => round(x, 2)),
    database: process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded',
    node: process.version,
    at: new Date().toISOString(),
  };
  console.log(
    `HTTP ingest: ${result.votesPerSecond} durable votes/s for ${result.durationSeconds} s (${CONNECTIONS} connections), latency p50 ${result.p50Ms} ms, p95 ${result.p95Ms} ms, p99 ${result.p99Ms} ms`,
  );
  console.log(
    `  ceilings in this run: raw verify ${result.verifyCeilingPerSecond}/s (${result.cores} cores) → ${(result.ratioToVerifyCeiling * 100).toFixed(1)}%; bare fastify 201 ${result.httpCeilingPerSecond}/s → ${(result.ratioToHttpCeiling * 100).toFixed(1)}%`,
  );
  console.log(
    `  CPU during that run: API ${cpuSeconds.api} s, autocannon ${cpuSeconds.loadGenerator} s, PostgreSQL ${cpuSeconds.postgres} s of ${round(main.seconds * result.cores)} core-seconds`,
  );
  console.log(
    `  ingest transactions (${result.shards} shard(s)): ${batchCount} (${result.ingestTransactions.perSecond}/s), mean ${result.ingestTransactions.meanSize} submissions, ${result.ingestTransactions.meanMs} ms each`,
  );
  console.log(
    `  at a fixed ${RATE} votes/s: achieved ${result.fixedRate.achievedPerSecond}/s, p50 ${result.fixedRate.p50Ms} ms, p95 ${result.fixedRate.p95Ms} ms, p99 ${result.fixedRate.p99Ms} ms`,
  );
  console.log(
    `  durable check: ${n} ballots in the ledger ≥ ${acknowledged} acknowledged with 201 (${cursor} sent); targets: ≥ 6000 votes/s, p99 ≤ 50 ms at 1000/s`,
  );
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(values.out!, JSON.stringify(result, null, 2) + '\n');
} finally {
  for (const c of children) await stopChild(c).catch(() => {});
  await secondDb?.close().catch(() => {});
  await second?.close();
  await bench?.close();
  rmSync(tmp, { recursive: true, force: true });
}
