// The cost of one plaintext ballot in each part of the system, measured on this machine in one run, as the
// inputs of bench/scale-model.ts (docs/scaling.md).
//
//   npx tsx bench/ballot-cost.ts [--duration 20] [--connections 256] [--idle 5] [--ballots 200000]
//                                [--out bench/results/ballot-cost.json]
//
// 1. Pre-signed ballots (bench/lib/presign.ts; the same election id and count as a short bench:ingest-http
//    run, so they share its cache) and the election, in a fresh database on DATABASE_URL's server (else an
//    embedded PostgreSQL).
// 2. The verify ceiling (bench/lib/verify-ceiling.ts), with the CPU it used: the CPU one strict signature
//    check costs in this run, the unit of perBallotInVerifies (a busy shared machine inflates CPU time
//    too, every thread's alike, so costs counted in verifies drift less between runs than µs do).
// 3. The API (api/src/server.ts) as a child process, as bench/ingest-http.ts starts it, warmed up; then
//    --idle seconds with the API idle: the server's WAL and PostgreSQL CPU when this bench sends nothing
//    (other engineers' tests), the baseline subtracted from the server-wide figures below.
// 4. --duration seconds of saturation (autocannon, every request a new ballot): CPU of the API process and
//    of its main thread (/proc), of this database's PostgreSQL backends and of every postgres process; WAL
//    between two pg_current_wal_lsn() (server-wide) and, where pg_waldump can read the server's pg_wal, the
//    WAL records of this database alone (blocks of its relations and the commits of its transactions); the
//    ingest transactions from the API's /metrics (count, submissions each, ms each).
// 5. With the API stopped, one shard head alone: commitBatch (the ingest transaction) run serially on
//    fresh ballots, 10, 100 and 2,000 (the Ingestor's maxBatch) per transaction: ms each, so ballots/s one
//    head takes when nothing else waits on it; and PostgreSQL CPU per transaction, fitted as a fixed part
//    per transaction plus a part per ballot (what small batches cost).
// 6. Chain gas from bench/results/contract-gas.json: anchorWindow per window, anchorInterval per interval.
// Divides each by the ballots of its run. Writes bench/results/ballot-cost.json.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type postgres from 'postgres';
import { migrateQueueSchema } from '../jobs/src/index.js';
import { openLedgerDatabase } from '../ledger/src/db/connect.js';
import { commitBatch, createElection } from '../ledger/src/index.js';
import type { BallotToCommit } from '../ledger/src/ingest/commit.js';
import { ledgerKeyFromSeed } from '../ledger/src/ledger-key.js';
import { sha256 } from '../ledger/src/protocol/hash.js';
import { jcs } from '../ledger/src/protocol/jcs.js';
import { normalizeManifest, type Submission } from '../ledger/src/protocol/protocol.js';
import { backendMeter, cpuMeter, ownCpuSeconds, postgresCpuSeconds, processCpuSeconds } from './lib/cpu.js';
import { drive, ingestTransactionTotals, stopChild, waitForUrl } from './lib/http-load.js';
import { presign } from './lib/presign.js';
import { measureVerifyCeiling } from './lib/verify-ceiling.js';
import { type GasFile, gasOf } from './scale-model.js';
import { type BenchDatabase, createBenchDatabase } from './lib/bench-database.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    connections: { type: 'string', default: '256' },
    idle: { type: 'string', default: '5' },
    ballots: { type: 'string', default: '200000' },
    out: { type: 'string', default: fileURLToPath(new URL('./results/ballot-cost.json', import.meta.url)) },
  },
});
const DURATION = Number(values.duration);
const CONNECTIONS = Number(values.connections);
const IDLE_SECONDS = Number(values.idle);
const N = Number(values.ballots);
const WARMUP_SECONDS = 3;
// The serial head measurement: transactions of these sizes (2,000 is the Ingestor's maxBatch), this many of
// each, the first a warm-up; enough of each for ~1 s of PostgreSQL CPU, which /proc counts in 10 ms ticks.
// Its ballots are kept apart from the HTTP run's (the last ones of the pre-signed set).
const SERIAL = [
  { size: 10, runs: 300 },
  { size: 100, runs: 60 },
  { size: 2000, runs: 6 },
];
const SERIAL_BALLOTS = SERIAL.reduce((n, { size, runs }) => n + size * runs, 0);
// bench/ingest-http.ts's election id: the pre-signed ballots are cached per (election id, count).
const ELECTION = 'bench-http';
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const GAS_FILE = join(ROOT, 'bench/results/contract-gas.json');
const log = (s: string) => process.stderr.write(`${s}\n`);
const ballotsUrl = (base: string) => `${base}/api/v1/elections/${ELECTION}/ballots`;
const round = (x: number, d = 1) => Number(x.toFixed(d));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds of one thread of a process (the main thread's tid is the pid): Node's JS runs there. */
function threadCpuSeconds(pid: number, tid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, USER_HZ = 100 as in bench/lib/cpu.ts
  } catch {
    return 0;
  }
}

async function walLsn(sql: postgres.Sql): Promise<string> {
  const [r] = await sql`SELECT pg_current_wal_lsn()::text AS lsn`;
  return r!.lsn as string;
}

async function walBytesBetween(sql: postgres.Sql, from: string, to: string): Promise<number> {
  const [r] = await sql`SELECT pg_wal_lsn_diff(${to}::pg_lsn, ${from}::pg_lsn)::float8 AS n`;
  return Number(r!.n);
}

/** PostgreSQL checkpoints so far: one during the run writes full-page images of every page touched after it. */
async function checkpoints(sql: postgres.Sql): Promise<number> {
  const [r] = await sql`SELECT checkpoints_timed + checkpoints_req AS n FROM pg_stat_bgwriter`;
  return Number(r!.n);
}

/** pg_waldump of the server's major version: on PATH, else where Debian's packages put it. */
async function findWaldump(sql: postgres.Sql): Promise<string | null> {
  const [r] = await sql`SELECT current_setting('server_version_num')::int / 10000 AS major`;
  for (const candidate of ['pg_waldump', `/usr/lib/postgresql/${r!.major}/bin/pg_waldump`]) {
    if (spawnSync(candidate, ['--version']).status === 0) return candidate;
  }
  return null;
}

interface WalOfDatabase {
  bytes: number;
  records: number;
  fullPageImageBytes: number;
  byResourceManager: Record<string, number>;
}

/**
 * The WAL one database wrote between two LSNs, from pg_waldump's record list: records with a block of one
 * of its relations (rel <tablespace>/<database oid>/<relation>), and the records (commits) of transactions
 * that wrote such blocks. Each record's total length rounded up to 8 bytes (MAXALIGN), as it lies in the
 * WAL; page headers (24 bytes per 8 kB page) are left out. Null when pg_wal cannot be read from here.
 */
async function walOfDatabase(
  waldump: string,
  walDir: string,
  databaseOid: number,
  from: string,
  to: string,
): Promise<WalOfDatabase | null> {
  const child = spawn(waldump, ['-p', walDir, '-s', from, '-e', to], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const record = /^rmgr: (\S+)\s+len \(rec\/tot\):\s*(\d+)\/\s*(\d+), tx:\s*(\d+),/;
  const ofDatabase = new RegExp(` rel \\d+/${databaseOid}/\\d+`);
  const transactions = new Set<string>();
  const out: WalOfDatabase = { bytes: 0, records: 0, fullPageImageBytes: 0, byResourceManager: {} };
  for await (const line of createInterface({ input: child.stdout! })) {
    const m = record.exec(line);
    if (!m) continue;
    const [, rmgr, rec, tot, tx] = m as unknown as [string, string, string, string, string];
    if (ofDatabase.test(line)) {
      if (tx !== '0') transactions.add(tx);
    } else if (tx === '0' || !transactions.has(tx)) continue;
    const bytes = Math.ceil(Number(tot) / 8) * 8;
    out.bytes += bytes;
    out.records++;
    out.byResourceManager[rmgr] = (out.byResourceManager[rmgr] ?? 0) + bytes;
    if (line.includes(' FPW')) out.fullPageImageBytes += Number(tot) - Number(rec);
  }
  const code = await new Promise<number | null>((r) =>
    child.exitCode !== null ? r(child.exitCode) : child.once('close', r),
  );
  if (code !== 0) {
    log(`  pg_waldump exited with ${code}: ${stderr.trim().split('\n').slice(-2).join(' / ')}`);
    return null;
  }
  return out;
}

/**
 * y = fixed + perItem × x by least squares on relative errors (weights 1/y²): the sizes span 10 to 2,000,
 * and plain least squares would let the largest decide the fixed part alone.
 */
function lineFit(points: [number, number][]): { fixed: number; perItem: number } {
  let [sw, swx, swy, swxx, swxy] = [0, 0, 0, 0, 0];
  for (const [x, y] of points) {
    const w = 1 / (y * y);
    sw += w;
    swx += w * x;
    swy += w * y;
    swxx += w * x * x;
    swxy += w * x * y;
  }
  const perItem = (sw * swxy - swx * swy) / (sw * swxx - swx * swx);
  return { fixed: (swy - perItem * swx) / sw, perItem };
}

/** A pre-signed body as the ingest transaction takes it once every lock-free check passed (batcher.ts). */
function toCommit(body: Buffer, closesAtMs: number): BallotToCommit {
  const { ballot, signature } = JSON.parse(body.toString()) as Submission;
  const ballotJcs = jcs(ballot);
  return {
    electionId: ballot.electionId,
    closesAtMs,
    credHex: ballot.credential,
    hashHex: sha256(`{"ballot":${ballotJcs},"signature":"${signature}"}`).toString('hex'),
    ballotJcs,
    sigHex: signature,
    client: null,
  };
}

// ---------------------------------------------------------------------------------------------------

const tmp = mkdtempSync(join(tmpdir(), 'tallyproof-bench-cost-'));
const children: ChildProcess[] = [];
let bench: BenchDatabase | null = null;

try {
  const gas = JSON.parse(readFileSync(GAS_FILE, 'utf8')) as GasFile;
  const { credentials, bodies } = await presign(N, ELECTION);
  const httpBodies = bodies.slice(0, bodies.length - SERIAL_BALLOTS);
  const serialBodies = bodies.slice(bodies.length - SERIAL_BALLOTS);

  bench = await createBenchDatabase({ prefix: 'tp_bench_cost', tmp, log });
  const { root, name: dbName, url: dbUrl } = bench;
  const ledgerKey = ledgerKeyFromSeed(randomBytes(32));
  const db = await openLedgerDatabase({ url: dbUrl, dataDir: tmp, max: 4 });
  await migrateQueueSchema(dbUrl); // the API's queue when REDIS_URL is unset
  const [{ oid: databaseOid }] =
    (await root`SELECT oid::int AS oid FROM pg_database WHERE datname = ${dbName}`) as unknown as [{ oid: number }];
  const [{ dir: dataDir }] = (await root`SELECT current_setting('data_directory') AS dir`) as unknown as [
    { dir: string },
  ];
  const walDir = join(dataDir, 'pg_wal');
  const waldump = existsSync(walDir) ? await findWaldump(root) : null;

  log(`creating the election with a roll of ${credentials.length} credentials…`);
  const now = Date.now();
  const manifest = normalizeManifest(
    {
      version: 1,
      electionId: ELECTION,
      title: 'Ballot cost bench',
      opensAt: new Date(now - 60_000).toISOString(),
      closesAt: new Date(now + 86_400_000).toISOString(),
      contests: [
        {
          id: 'q1',
          title: 'Q1',
          choices: ['oui', 'non', 'blanc'].map((id) => ({ id, label: id })),
          minSelections: 1,
          maxSelections: 1,
        },
      ],
    },
    ledgerKey.publicKeyHex,
  );
  await createElection(db.app, manifest, credentials.slice().sort(Buffer.compare));

  log('measuring the raw verify ceiling (node:crypto, all cores, 3 s), and the CPU it takes…');
  const ceilingCpu0 = ownCpuSeconds();
  const ceilingT0 = performance.now();
  const verifyCeiling = await measureVerifyCeiling(3000);
  const ceilingSeconds = (performance.now() - ceilingT0) / 1000;
  const verifyCpuPerBallot = (ownCpuSeconds() - ceilingCpu0) / (verifyCeiling * ceilingSeconds);

  log('starting the API (api/src/server.ts)…');
  // As bench/ingest-http.ts starts it (and `npm run api`): the application role, every rate limit off.
  const api = spawn(
    process.execPath,
    ['--max-semi-space-size=64', '--import', 'tsx', join(ROOT, 'api/src/server.ts')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: db.appUrl,
        TALLYPROOF_DATA_DIR: tmp,
        LEDGER_KEY_SEED: ledgerKey.seed.toString('hex'),
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        RATE_LIMITS: 'off',
        ADMIN_TOKEN: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(api);
  const apiUrl = await waitForUrl(api, /listening on (http:\/\/\S+)/, 'API');

  log(`warm-up (${WARMUP_SECONDS} s)…`);
  let cursor = 0;
  const warm = await drive(ballotsUrl(apiUrl), httpBodies, cursor, {
    duration: WARMUP_SECONDS,
    connections: CONNECTIONS,
  });
  cursor += warm.used;

  log(`idle baseline (${IDLE_SECONDS} s, nothing sent): the server's WAL and PostgreSQL CPU from other clients…`);
  const idleLsn0 = await walLsn(root);
  const idleMeter = cpuMeter({ postgres: postgresCpuSeconds });
  const idleT0 = performance.now();
  await sleep(IDLE_SECONDS * 1000);
  const idleSeconds = (performance.now() - idleT0) / 1000;
  const idleCpu = idleMeter.stop();
  const idleWalBytes = await walBytesBetween(root, idleLsn0, await walLsn(root));

  log(`saturation: ${CONNECTIONS} connections for ${DURATION} s, a new ballot per request…`);
  const cp0 = await checkpoints(root);
  const tx0 = await ingestTransactionTotals(apiUrl);
  const backends = await backendMeter(root, dbName);
  // pg_waldump reads the WAL files after the run: a temporary replication slot keeps a checkpoint from
  // recycling them meanwhile (dropped once read, and with this session in any case).
  if (waldump) await root`SELECT pg_create_physical_replication_slot(${dbName}, true, true)`;
  const lsn0 = await walLsn(root);
  const meter = cpuMeter({
    api: () => processCpuSeconds(api.pid!),
    apiMainThread: () => threadCpuSeconds(api.pid!, api.pid!),
    loadGenerator: ownCpuSeconds, // autocannon runs in this process
    postgresAll: postgresCpuSeconds,
  });
  const main = await drive(ballotsUrl(apiUrl), httpBodies, cursor, { duration: DURATION, connections: CONNECTIONS });
  const cpu = meter.stop();
  const lsn1 = await walLsn(root);
  const ourBackends = await backends.stop();
  const tx1 = await ingestTransactionTotals(apiUrl);
  const cp1 = await checkpoints(root);
  cursor += main.used;
  if (cursor >= httpBodies.length)
    log('  ran out of pre-signed ballots (pass a larger --ballots); figures are of the run so far');
  const accepted = main.statuses[201] ?? 0;
  await stopChild(api);

  const serverWalBytes = await walBytesBetween(root, lsn0, lsn1);
  let walOfOurs: WalOfDatabase | null = null;
  if (waldump) {
    log(`reading this database's WAL records with ${waldump}…`);
    // pg_waldump reads what is on disk: wait until the WAL up to lsn1 has been flushed.
    for (let i = 0; i < 100; i++) {
      const [r] = await root`SELECT pg_wal_lsn_diff(pg_current_wal_flush_lsn(), ${lsn1}::pg_lsn) >= 0 AS done`;
      if (r!.done) break;
      await sleep(50);
    }
    walOfOurs = await walOfDatabase(waldump, walDir, databaseOid, lsn0, lsn1);
    await root`SELECT pg_drop_replication_slot(${dbName})`;
  }

  log(
    `one shard head alone: ingest transactions of ${SERIAL.map((x) => x.size).join(', ')} ballots, one after another…`,
  );
  const closesAtMs = Date.parse(manifest.closesAt);
  let next = 0;
  const serial = [];
  for (const { size, runs } of SERIAL) {
    const ms: number[] = [];
    let pg: Awaited<ReturnType<typeof backendMeter>> | null = null;
    for (let run = 0; run < runs; run++) {
      const batch = serialBodies.slice(next, next + size).map((b) => toCommit(b, closesAtMs));
      next += size;
      const t0 = performance.now();
      const decision = await commitBatch(db.app, batch, [], Date.now());
      if (run > 0) ms.push(performance.now() - t0);
      else pg = await backendMeter(root, dbName); // the first of each size warms up
      if (decision.inserts.length !== size)
        throw new Error(`serial run: ${decision.inserts.length} of ${size} accepted`);
    }
    const pgSeconds = (await pg!.stop()).seconds;
    const meanMs = ms.reduce((a, b) => a + b, 0) / ms.length;
    serial.push({
      ballotsPerTransaction: size,
      transactions: ms.length,
      meanMs: round(meanMs, 3),
      ballotsPerSecond: Math.round((size * 1000) / meanMs),
      postgresCpuMicrosPerTransaction: round((pgSeconds / ms.length) * 1e6, 0),
    });
  }
  const timeFit = lineFit(serial.map((x) => [x.ballotsPerTransaction, x.meanMs]));
  const pgFit = lineFit(serial.map((x) => [x.ballotsPerTransaction, x.postgresCpuMicrosPerTransaction]));

  // Durable: every 201 is a row, and no row was not sent.
  const [{ n }] =
    (await db.admin`SELECT count(*)::int AS n FROM ballots WHERE election_id = ${ELECTION}`) as unknown as [
      { n: number },
    ];
  await db.close();
  const acknowledged = (warm.statuses[201] ?? 0) + accepted;
  if (n < acknowledged + SERIAL_BALLOTS || n > cursor + SERIAL_BALLOTS)
    throw new Error(
      `the ledger holds ${n} ballots; ${acknowledged} + ${SERIAL_BALLOTS} acknowledged, ${cursor} + ${SERIAL_BALLOTS} sent`,
    );

  const votesPerSecond = accepted / main.seconds;
  const perBallotMicros = (seconds: number) => round((seconds / accepted) * 1e6, 1);
  const txCount = tx1.count - tx0.count;
  const postgresAllLessIdle = cpu.postgresAll! - (idleCpu.postgres! / idleSeconds) * main.seconds;
  const serverWalLessIdle = serverWalBytes - (idleWalBytes / idleSeconds) * main.seconds;
  const anchorWindowGas = gasOf(gas, 'anchorWindow');
  const anchorIntervalGas = gasOf(gas, 'anchorInterval');
  const mainThreadMicros = perBallotMicros(cpu.apiMainThread!);
  const result = {
    bench: 'ballot-cost',
    votesPerSecond: Math.round(votesPerSecond),
    verifyCeilingPerSecond: Math.round(verifyCeiling),
    ratioToVerifyCeiling: round(votesPerSecond / verifyCeiling, 3),
    durationSeconds: round(main.seconds, 2),
    connections: CONNECTIONS,
    accepted,
    otherStatuses: Object.fromEntries(Object.entries(main.statuses).filter(([s]) => s !== '201')),
    // CPU per ballot committed in the saturation run (µs of one core), and its sources.
    perBallot: {
      apiCpuMicros: perBallotMicros(cpu.api!),
      // The API's main thread (parsing, JCS, hashing, batching, the driver): one process takes at most
      // 1/this ballots per second, however many cores its verify threads have.
      apiMainThreadCpuMicros: mainThreadMicros,
      // One strict Ed25519 verify, from the ceiling's own CPU: every accepted ballot costs one.
      verifyCpuMicros: round(verifyCpuPerBallot * 1e6, 1),
      verifyShareOfApi: round((verifyCpuPerBallot * 1e6) / perBallotMicros(cpu.api!), 3),
      postgresCpuMicros: perBallotMicros(ourBackends.seconds),
      postgresCpuMicrosAllProcessesLessIdle: perBallotMicros(postgresAllLessIdle),
      // The model's WAL input: this database's records when pg_waldump could read them, else the server's
      // WAL less the idle baseline.
      walBytes: round((walOfOurs?.bytes ?? serverWalLessIdle) / accepted, 0),
      walBytesSource: walOfOurs ? 'pg_waldump, this database only' : 'server-wide less the idle baseline',
      loadGeneratorCpuMicros: perBallotMicros(cpu.loadGenerator!),
    },
    // The same costs in verifies (one verify's CPU measured in this run = 1): contention on a shared machine
    // inflates every CPU figure of a run alike (the verify loop's too), so these travel between runs and
    // machines better than the µs do.
    perBallotInVerifies: {
      api: round(cpu.api! / accepted / verifyCpuPerBallot, 2),
      apiMainThread: round(cpu.apiMainThread! / accepted / verifyCpuPerBallot, 2),
      postgres: round(ourBackends.seconds / accepted / verifyCpuPerBallot, 2),
    },
    cpuSeconds: { ...cpu, postgresOurBackends: ourBackends.seconds },
    postgresBackends: ourBackends,
    wal: {
      serverWideBytes: serverWalBytes,
      idleBaseline: { seconds: round(idleSeconds, 2), bytes: idleWalBytes, postgresCpuSeconds: idleCpu.postgres },
      serverWideLessIdleBytesPerBallot: round(serverWalLessIdle / accepted, 0),
      ofThisDatabase: walOfOurs && {
        ...walOfOurs,
        bytesPerBallot: round(walOfOurs.bytes / accepted, 0),
        fullPageImageBytesPerBallot: round(walOfOurs.fullPageImageBytes / accepted, 0),
      },
      checkpointsDuring: cp1 - cp0,
      from: lsn0,
      to: lsn1,
    },
    // The ingest transactions of the saturation run (the API's histograms: BEGIN to the signed receipts).
    ingestTransactions: {
      count: txCount,
      perSecond: round(txCount / main.seconds),
      meanSize: round((tx1.size - tx0.size) / txCount),
      meanMs: round((1000 * (tx1.seconds - tx0.seconds)) / txCount, 2),
    },
    // One head with nothing else waiting on it (API stopped): commitBatch serially, the first of each size
    // left out. The ballots/s one shard takes at most on this PostgreSQL, without a synchronous standby.
    serialHead: serial,
    // The same, as a line through the three sizes: ms = fixed + perBallot × ballots, and PostgreSQL CPU (µs)
    // per transaction = fixed + perBallot × ballots. The fixed parts are what a small batch pays per ballot.
    serialHeadFit: {
      transactionMs: { fixed: round(timeFit.fixed, 3), perBallot: round(timeFit.perItem, 4) },
      postgresCpuMicros: { perTransaction: round(pgFit.fixed, 0), perBallot: round(pgFit.perItem, 1) },
    },
    chainGas: {
      source: 'bench/results/contract-gas.json',
      anchorWindowPerWindow: anchorWindowGas,
      anchorIntervalPerInterval: anchorIntervalGas,
      // One election of one shard at this run's rate with the default window (60 s): one window a minute.
      perBallotAtThisRateWindow60s: round(anchorWindowGas / (votesPerSecond * 60), 3),
    },
    setup:
      "API child process (api/src/server.ts, default settings), autocannon in the bench process, PostgreSQL on the same machine; all share the cores below, and so do other engineers' tests (a shared machine)",
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    loadAverageAtEnd: loadavg().map((x) => round(x, 2)),
    database: process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded',
    node: process.version,
    at: new Date().toISOString(),
  };
  const p = result.perBallot;
  console.log(
    `ballot cost: ${result.votesPerSecond} votes/s for ${result.durationSeconds} s (${(result.ratioToVerifyCeiling * 100).toFixed(1)}% of the ${result.verifyCeilingPerSecond}/s verify ceiling of this run)`,
  );
  console.log(
    `  API ${p.apiCpuMicros} µs/ballot (main thread ${p.apiMainThreadCpuMicros} µs), of which verify ${p.verifyCpuMicros} µs (${(p.verifyShareOfApi * 100).toFixed(1)}%)`,
  );
  console.log(
    `  PostgreSQL ${p.postgresCpuMicros} µs/ballot (this database's backends; all postgres processes less idle: ${p.postgresCpuMicrosAllProcessesLessIdle} µs)`,
  );
  console.log(
    `  WAL ${p.walBytes} bytes/ballot (${p.walBytesSource}; server-wide less idle: ${result.wal.serverWideLessIdleBytesPerBallot}; checkpoints during: ${result.wal.checkpointsDuring})`,
  );
  console.log(
    `  ingest transactions: ${txCount} (${result.ingestTransactions.perSecond}/s), mean ${result.ingestTransactions.meanSize} ballots, ${result.ingestTransactions.meanMs} ms each`,
  );
  for (const s of serial)
    console.log(
      `  one head alone: ${s.ballotsPerTransaction} ballots per transaction, ${s.meanMs} ms → ${s.ballotsPerSecond} ballots/s; PostgreSQL ${s.postgresCpuMicrosPerTransaction} µs per transaction`,
    );
  console.log(
    `  fit: a transaction takes ${result.serialHeadFit.transactionMs.fixed} ms + ${result.serialHeadFit.transactionMs.perBallot} ms per ballot; PostgreSQL CPU ${result.serialHeadFit.postgresCpuMicros.perTransaction} µs + ${result.serialHeadFit.postgresCpuMicros.perBallot} µs per ballot`,
  );
  console.log(
    `  chain: anchorWindow ${anchorWindowGas} gas per window, anchorInterval ${anchorIntervalGas} per interval (${result.chainGas.perBallotAtThisRateWindow60s} gas/ballot at this rate, 60 s windows)`,
  );
  console.log(
    `  in verifies of this run: API ${result.perBallotInVerifies.api}, main thread ${result.perBallotInVerifies.apiMainThread}, PostgreSQL ${result.perBallotInVerifies.postgres}`,
  );
  console.log(
    `  autocannon ${p.loadGeneratorCpuMicros} µs/ballot; ${result.cores} cores, shared with other engineers' tests`,
  );
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(values.out!, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  for (const c of children) await stopChild(c).catch(() => {});
  if (bench) {
    const { root, name } = bench;
    await root`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ${name}`.catch(
      () => {},
    );
    await bench.close();
  }
  rmSync(tmp, { recursive: true, force: true });
}
