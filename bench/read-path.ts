// The read path (issue 18): receipts (proof bundles from O(log n) tile reads), tiles, results and results
// streams, each next to a bare fastify GET route measured in the same run.
//
//   npx tsx bench/read-path.ts [--ballots 1000000] [--small 10000] [--duration 10] [--connections 64]
//                              [--subscribers 10000] [--samples 100000] [--keep] [--profile]
//                              [--out bench/results/read-path.json]
//
// 1. A fresh database on DATABASE_URL's server (else an embedded PostgreSQL) with two elections, filled
//    straight into the ledger with SQL (made-up hashes and credentials, ballots shaped as signed ones so
//    the live tally can count them: nothing on the read path checks a signature): --ballots in one, --small
//    in the other. Each is sealed into one window by sealWindow, as the anchor worker does, timed (hashing,
//    the tiles' insert, the locked part).
// 2. The HTTP ceiling: a bare fastify GET route (child process) under the same autocannon load, before and
//    after the API's runs (step 3); the higher of the two is the ceiling every ratio is to.
// 3. The API (bench/lib/read-path-api.ts: buildApp as api/src/server.ts builds it, rate limits off) as a
//    child process: random receipts of the big window, then of the small one (paths from --samples ballot
//    hashes sampled from each window), the API process's CPU per proof in each (/proc), random level-0
//    tiles of the big window, and the big election's results.
// 4. A fresh API process holds --subscribers results streams (node:http, one socket each, from this
//    process); its RSS and V8 heap after a full GC before and after opening them; then ballots cast through
//    the API, one at a time: how many subscribers got each change event and when the last one did.
// Prints the figures and writes --out. Times are reported, never asserted. Drops its database unless --keep.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type ClientRequest, Agent, request as httpRequest } from 'node:http';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type postgres from 'postgres';
import { openLedgerDatabase } from '../ledger/src/db/connect.js';
import { createElection, sealWindow, validateRoll } from '../ledger/src/index.js';
import { ledgerKeyFromSeed } from '../ledger/src/ledger-key.js';
import { verifyInclusion } from '../ledger/src/protocol/merkle.js';
import { hashTilePath, treeTileIds } from '../ledger/src/protocol/tiles.js';
import { ballotFor, selectionsFor, testManifest, voters } from '../test/support/fixtures.js';
import { type BenchDatabase, createBenchDatabase } from './lib/bench-database.js';
import { backendMeter, cpuMeter, ownCpuSeconds, postgresCpuSeconds, processCpuSeconds } from './lib/cpu.js';
import { stopChild, waitForUrl } from './lib/http-load.js';
import type { ReadPathApiMemory } from './lib/read-path-api.js';

const { values } = parseArgs({
  options: {
    ballots: { type: 'string', default: '1000000' },
    small: { type: 'string', default: '10000' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    subscribers: { type: 'string', default: '10000' },
    // Ballot hashes sampled from each window for the random receipt requests.
    samples: { type: 'string', default: '100000' },
    keep: { type: 'boolean', default: false },
    // The API processes write V8 CPU profiles to bench/results/profiles (as bench:ingest-http --profile).
    profile: { type: 'boolean', default: false },
    out: { type: 'string', default: fileURLToPath(new URL('./results/read-path.json', import.meta.url)) },
  },
});
const BIG_N = Number(values.ballots);
const SMALL_N = Number(values.small);
const DURATION = Number(values.duration);
const CONNECTIONS = Number(values.connections);
const SUBSCRIBERS = Number(values.subscribers);
const SAMPLES = Number(values.samples);
for (const [name, v] of Object.entries({ BIG_N, SMALL_N, DURATION, CONNECTIONS, SUBSCRIBERS, SAMPLES }))
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
const WARMUP_SECONDS = Math.min(2, DURATION);
/** Change events fanned out to the subscribers: one ballot cast through the API each. */
const CHANGE_EVENTS = 3;
/** Streams being opened at once: the API's listen backlog (511) must not overflow into SYN retries. */
const OPEN_CONCURRENCY = 200;
/** Bounds on the stream phase's waits: a subscriber's first event, and a change event reaching everyone. */
const OPEN_TIMEOUT_MS = 30_000;
const FANOUT_TIMEOUT_MS = 60_000;
/** The budget sealing must stay in: one window per windowSeconds (60 by default). */
const SEAL_BUDGET_MS = 60_000;
const BIG = 'rp-big';
const SMALL = 'rp-small';
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const log = (s: string) => process.stderr.write(`${s}\n`);
const round = (x: number, d = 1) => Number(x.toFixed(d));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The HTTP ceiling of GETs: a bare fastify route answering every path with a small JSON body. */
const BARE_GET_SERVER = `
import Fastify from 'fastify';
const app = Fastify({ logger: false });
app.get('/*', async () => ({ ok: true }));
await app.listen({ port: 0, host: '127.0.0.1' });
console.log('bare listening on http://127.0.0.1:' + app.server.address().port);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
`;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The soft limit on open files of a process (Linux), null when unknown or unlimited. */
function openFilesLimit(pid: number | 'self' = 'self'): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------
// Setup: ballots straight into the ledger, one window each.

/**
 * n ballots straight into the ledger, in statements of 100,000: hashes and credentials made up (SHA-256 of
 * the election id and seq), each ballot's JCS shaped as a signed one (the live tally parses its selections).
 */
async function fillLedger(sql: postgres.Sql, id: string, n: number): Promise<number> {
  const t0 = performance.now();
  const chunk = 100_000;
  for (let from = 0; from < n; from += chunk) {
    const to = Math.min(n, from + chunk);
    await sql`
      INSERT INTO ballots (election_id, shard, seq, ballot_hash, credential, ballot, signature, received_at)
      SELECT ${id}, 0, i, sha256(convert_to(${id} || ':hash:' || i, 'UTF8')), c.cred,
             '{"credential":"' || encode(c.cred, 'hex') || '","electionId":"' || ${id} ||
               '","selections":{"council":[],"q1":["' || (CASE WHEN i % 3 = 0 THEN 'non' ELSE 'oui' END) ||
               '"]},"version":1}',
             decode(repeat('00', 64), 'hex'), now()
      FROM generate_series(${from}::bigint, ${to - 1}::bigint) AS i,
           LATERAL (SELECT sha256(convert_to(${id} || ':cred:' || i, 'UTF8')) AS cred) AS c`;
    if (n > chunk) log(`  ${id}: ${to.toLocaleString('en')} / ${n.toLocaleString('en')} ballots`);
  }
  await sql`UPDATE election_heads SET next_seq = ${n} WHERE election_id = ${id} AND shard = 0`;
  return (performance.now() - t0) / 1000;
}

interface SealFigures {
  ballots: number;
  hashMs: number;
  tilesMs: number;
  lockedMs: number;
  totalMs: number;
  ratioToBudget: number;
  tiles: number;
  tileBytes: number;
  root: string;
}

async function seal(db: { app: postgres.Sql; admin: postgres.Sql }, id: string): Promise<SealFigures> {
  let timings: { hashMs: number; tilesMs: number; lockedMs: number } | null = null;
  const t0 = performance.now();
  const w = await sealWindow(db.app, id, { onTimings: (t) => (timings = t) });
  const totalMs = performance.now() - t0;
  if (!w || !timings) throw new Error(`sealing ${id} sealed nothing`);
  const t = timings as { hashMs: number; tilesMs: number; lockedMs: number };
  const [tiles] = await db.admin`SELECT count(*)::int AS n, coalesce(sum(length(data)), 0)::float8 AS bytes
                                 FROM window_tiles WHERE election_id = ${id}`;
  return {
    ballots: w.count,
    hashMs: round(t.hashMs),
    tilesMs: round(t.tilesMs),
    lockedMs: round(t.lockedMs, 2),
    totalMs: round(totalMs),
    ratioToBudget: round(totalMs / SEAL_BUDGET_MS, 4),
    tiles: Number(tiles!.n),
    tileBytes: Number(tiles!.bytes),
    root: w.root,
  };
}

/** Up to `count` distinct ballot hashes of an election (all of them when it has no more), in random order. */
async function sampleHashes(sql: postgres.Sql, id: string, n: number, count: number): Promise<string[]> {
  const seqs = new Set<number>();
  if (count >= n) for (let i = 0; i < n; i++) seqs.add(i);
  else while (seqs.size < count) seqs.add(Math.floor(Math.random() * n));
  const rows = await sql`SELECT encode(ballot_hash, 'hex') AS h FROM ballots
                         WHERE election_id = ${id} AND shard = 0 AND seq = ANY(${[...seqs]}::bigint[])`;
  return rows.map((r) => r.h as string);
}

// ---------------------------------------------------------------------------------------------------
// Load: autocannon, every request a random path of a list; each response's latency kept.

interface GetRun {
  seconds: number;
  statuses: Record<number, number>;
  latenciesMs: number[];
  errors: number;
}

function driveGets(base: string, paths: readonly string[], duration: number): Promise<GetRun> {
  const statuses: Record<number, number> = {};
  const latenciesMs: number[] = [];
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const instance = autocannon(
      {
        url: base,
        method: 'GET',
        connections: CONNECTIONS,
        pipelining: 1,
        duration,
        requests: [
          {
            setupRequest: (req) => ({ ...req, path: paths[Math.floor(Math.random() * paths.length)]! }),
          },
        ],
      },
      (err, result) => {
        if (err) return reject(err);
        resolve({
          seconds: Number(process.hrtime.bigint() - t0) / 1e9,
          statuses,
          latenciesMs,
          errors: result.errors + result.timeouts,
        });
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      latenciesMs.push(responseTime);
    });
  });
}

interface GetFigures {
  requestsPerSecond: number;
  answered200: number;
  p50Ms: number;
  p99Ms: number;
  durationSeconds: number;
  otherStatuses: Record<string, number>;
  socketErrors: number;
}

function figures(run: GetRun): GetFigures {
  const ok = run.statuses[200] ?? 0;
  const lat = run.latenciesMs.slice().sort((a, b) => a - b);
  return {
    requestsPerSecond: Math.round(ok / run.seconds),
    answered200: ok,
    p50Ms: round(percentile(lat, 50), 2),
    p99Ms: round(percentile(lat, 99), 2),
    durationSeconds: round(run.seconds, 2),
    otherStatuses: Object.fromEntries(Object.entries(run.statuses).filter(([s]) => s !== '200')),
    socketErrors: run.errors,
  };
}

// ---------------------------------------------------------------------------------------------------
// The API child and its memory.

function startApi(env: NodeJS.ProcessEnv): { child: ChildProcess; url: Promise<string> } {
  const child = spawn(
    process.execPath,
    [
      ...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench/results/profiles')}`] : []),
      '--expose-gc',
      '--max-semi-space-size=64',
      '--import',
      'tsx',
      join(ROOT, 'bench/lib/read-path-api.ts'),
    ],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  // Its warnings and errors (pino, on stdout, LOG_LEVEL warn) shown as they come: a 5xx says why there.
  for (const stream of [child.stdout!, child.stderr!])
    createInterface({ input: stream }).on('line', (line) => {
      if (!line.includes('read-path API listening on')) log(`  [api ${child.pid}] ${line.slice(0, 2000)}`);
    });
  return { child, url: waitForUrl(child, /read-path API listening on (http:\/\/\S+)/, 'API') };
}

function apiMemory(child: ChildProcess): Promise<ReadPathApiMemory> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the API did not report its memory')), 60_000);
    const onMessage = (m: { type?: string; memory?: ReadPathApiMemory }) => {
      if (m?.type !== 'memory' || !m.memory) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(m.memory);
    };
    child.on('message', onMessage);
    child.send({ type: 'memory' });
  });
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

// ---------------------------------------------------------------------------------------------------
// Results-stream subscribers: one socket each, events parsed as they come.

interface Subscriber {
  index: number;
  req: ClientRequest;
  buffer: string;
  events: number;
  lastId: number;
}

/** What the subscribers are waiting for: the first event with an id (asOfSeq) at or above `seq`. */
interface Fanout {
  seq: number;
  deliveredAt: Float64Array;
  delivered: number;
  done: () => void;
}

class Subscribers {
  readonly agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  readonly all: Subscriber[] = [];
  failed = 0;
  failures: string[] = [];
  private fanout: Fanout | null = null;

  constructor(private readonly url: string) {}

  /** Opens one stream; resolves at its first event (the current results), or false on failure or timeout. */
  private openOne(index: number): Promise<boolean> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (ok: boolean, why?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!ok) {
          this.failed++;
          if (why && this.failures.length < 5) this.failures.push(why);
          req.destroy();
        }
        resolve(ok);
      };
      const timer = setTimeout(() => settle(false, 'no first event in time'), OPEN_TIMEOUT_MS);
      const req = httpRequest(this.url, { agent: this.agent, headers: { accept: 'text/event-stream' } }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return settle(false, `status ${res.statusCode}`);
        }
        const sub: Subscriber = { index, req, buffer: '', events: 0, lastId: -2 };
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          sub.buffer += chunk;
          for (let end = sub.buffer.indexOf('\n\n'); end >= 0; end = sub.buffer.indexOf('\n\n')) {
            const event = sub.buffer.slice(0, end);
            sub.buffer = sub.buffer.slice(end + 2);
            if (!event.startsWith('event: results')) continue; // a heartbeat comment
            sub.events++;
            sub.lastId = Number(/\nid: (-?\d+)/.exec(event)?.[1] ?? Number.NaN);
            if (sub.events === 1) {
              this.all.push(sub);
              settle(true);
            }
            this.onEvent(sub);
          }
        });
        res.on('error', () => {});
      });
      req.on('error', (err) => settle(false, err.message));
      req.end();
    });
  }

  /** Opens n streams, OPEN_CONCURRENCY at a time. */
  async open(n: number): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(OPEN_CONCURRENCY, n) }, async () => {
        while (next < n) await this.openOne(next++);
      }),
    );
  }

  private onEvent(sub: Subscriber): void {
    const f = this.fanout;
    if (!f || !(sub.lastId >= f.seq) || f.deliveredAt[sub.index]! > 0) return;
    f.deliveredAt[sub.index] = performance.now();
    if (++f.delivered === this.all.length) f.done();
  }

  /** Arms the wait for an event with id >= seq on every open stream; resolves when all got it or at the timeout. */
  expect(seq: number): { all: Promise<void>; result: () => Fanout } {
    let done = () => {};
    const all = new Promise<void>((r) => {
      done = r;
    });
    const f: Fanout = { seq, deliveredAt: new Float64Array(SUBSCRIBERS), delivered: 0, done };
    this.fanout = f;
    const timer = setTimeout(done, FANOUT_TIMEOUT_MS);
    return {
      all: all.then(() => clearTimeout(timer)),
      result: () => f,
    };
  }

  close(): void {
    for (const s of this.all) s.req.destroy();
    this.agent.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------

const tmp = mkdtempSync(join(tmpdir(), 'tallyproof-bench-read-'));
const children: ChildProcess[] = [];
let bench: BenchDatabase | null = null;
let db: Awaited<ReturnType<typeof openLedgerDatabase>> | null = null;
let subscribers: Subscribers | null = null;

try {
  const limit = openFilesLimit();
  // Each subscriber is a socket in this process and one in the API process, which inherits this limit.
  if (limit !== null && limit < SUBSCRIBERS + 512)
    throw new Error(
      `ulimit -n is ${limit}: ${SUBSCRIBERS} subscribers need at least ${SUBSCRIBERS + 512} open files in this ` +
        `process and in the API's; raise it (ulimit -n ${SUBSCRIBERS + 1024}) or pass a smaller --subscribers`,
    );

  bench = await createBenchDatabase({ prefix: 'tp_bench_read', tmp, log });
  const dbName = bench.name;
  db = await openLedgerDatabase({ url: bench.url, dataDir: tmp, max: 4 });
  const ledgerDb = db;
  const ledgerKey = ledgerKeyFromSeed(randomBytes(32));

  // Live voters on both rolls: the ballots cast through the API in the stream phase.
  const live = voters(CHANGE_EVENTS, `read-path-live-${randomBytes(4).toString('hex')}-`);
  const roll = await validateRoll(live.map((v) => v.credential));
  for (const id of [BIG, SMALL]) await createElection(db.app, testManifest(id, ledgerKey.publicKeyHex), roll);

  log(`filling the ledger straight with SQL: ${BIG_N.toLocaleString('en')} ballots in ${BIG}…`);
  const insertBigSeconds = await fillLedger(db.admin, BIG, BIG_N);
  log(`  ${insertBigSeconds.toFixed(1)} s; ${SMALL_N.toLocaleString('en')} ballots in ${SMALL}…`);
  const insertSmallSeconds = await fillLedger(db.admin, SMALL, SMALL_N);

  log(`sealing the ${BIG_N.toLocaleString('en')}-ballot window (sealWindow: hash, tiles, locked commit)…`);
  const sealBig = await seal(db, BIG);
  log(`  ${sealBig.totalMs} ms (hash ${sealBig.hashMs}, tiles ${sealBig.tilesMs}, locked ${sealBig.lockedMs})`);
  const sealSmall = await seal(db, SMALL);
  log(`sealed the ${SMALL_N.toLocaleString('en')}-ballot window in ${sealSmall.totalMs} ms`);
  // Statistics as autovacuum leaves them a minute after such inserts; not for window_tiles, whose reads use
  // the whole primary key whatever its statistics (a new window's tiles are read before any ANALYZE).
  await db.admin`ANALYZE ballots, windows, election_heads`;
  // The read path after the polls close: every window anchored (no chain here: the anchor columns are
  // filled as the worker fills them once the transaction is mined), so receipts answer `anchored`.
  await db.admin`UPDATE windows SET anchor_tx = ${`0x${'ab'.repeat(32)}`}, anchor_block = 1, anchored_at = now()
                 WHERE election_id IN (${BIG}, ${SMALL})`;

  log(`sampling ${Math.min(SAMPLES, BIG_N)} + ${Math.min(SAMPLES, SMALL_N)} ballot hashes…`);
  const receiptPaths = (hashes: string[]) => hashes.map((h) => `/api/v1/receipts/${h}`);
  const bigHashes = await sampleHashes(db.admin, BIG, BIG_N, SAMPLES);
  const smallHashes = await sampleHashes(db.admin, SMALL, SMALL_N, SAMPLES);
  const bigReceipts = receiptPaths(bigHashes);
  const smallReceipts = receiptPaths(smallHashes);
  const level0 = treeTileIds(BIG_N).filter((t) => t.level === 0);
  const tilePaths = level0.map((t) => `/api/v1/elections/${BIG}/windows/0/${hashTilePath(t)}`);
  const resultsPath = `/api/v1/elections/${BIG}/results`;

  /** The bare route under the same load (the receipts' paths), warmed up as the API is. */
  const measureBare = async (when: string) => {
    log(`HTTP ceiling, ${when}: bare fastify GET, ${CONNECTIONS} connections, ${DURATION} s…`);
    // Node's flags as the API's, so that the two differ by their routes only.
    const bare = spawn(process.execPath, ['--max-semi-space-size=64', '--input-type=module', '-e', BARE_GET_SERVER], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(bare);
    const bareUrl = await waitForUrl(bare, /bare listening on (http:\/\/\S+)/, 'bare fastify');
    await driveGets(bareUrl, bigReceipts, WARMUP_SECONDS);
    const meter = cpuMeter({ server: () => processCpuSeconds(bare.pid!) });
    const run = figures(await driveGets(bareUrl, bigReceipts, DURATION));
    const cpu = meter.stop();
    await stopChild(bare);
    return { ...run, serverCpuMicrosPerRequest: round((cpu.server! / run.answered200) * 1e6, 1) };
  };
  const bareBefore = await measureBare('before the API runs');

  const apiEnv = {
    ...process.env,
    DATABASE_URL: db.appUrl, // the application role, as in production
    LEDGER_KEY_SEED: ledgerKey.seed.toString('hex'),
    READ_PATH_STREAMS: String(Math.max(20_000, 2 * SUBSCRIBERS)),
    LOG_LEVEL: 'warn',
  };
  log('starting the API (bench/lib/read-path-api.ts: buildApp, rate limits off)…');
  const api1 = startApi(apiEnv);
  children.push(api1.child);
  const apiUrl = await api1.url;
  const apiPid = api1.child.pid!;

  // What is measured is right: a bundle whose path proves the ballot in its window, a tile of 32-byte hashes.
  for (const [id, hash, n] of [
    [BIG, bigHashes[0]!, BIG_N],
    [SMALL, smallHashes[0]!, SMALL_N],
  ] as const) {
    const b = await getJson<{
      status: string;
      window: { count: number; root: string };
      inclusion: { leafIndex: number; auditPath: string[] };
    }>(`${apiUrl}/api/v1/receipts/${hash}`);
    const proves = verifyInclusion(
      Buffer.from(hash, 'hex'),
      b.inclusion.leafIndex,
      b.window.count,
      b.inclusion.auditPath.map((h) => Buffer.from(h, 'hex')),
      Buffer.from(b.window.root, 'hex'),
    );
    if (b.status !== 'anchored' || b.window.count !== n || !proves)
      throw new Error(`${id}: the proof bundle of ${hash} does not prove it in a window of ${n}: ${JSON.stringify(b)}`);
  }
  const tileRes = await fetch(`${apiUrl}${tilePaths[0]}`);
  const tileBytes = (await tileRes.arrayBuffer()).byteLength;
  if (tileRes.status !== 200 || tileBytes !== level0[0]!.width * 32)
    throw new Error(`${tilePaths[0]}: ${tileRes.status}, ${tileBytes} bytes`);

  log(`warm-up (${WARMUP_SECONDS} s of each window's receipts)…`);
  await driveGets(apiUrl, bigReceipts, WARMUP_SECONDS);
  await driveGets(apiUrl, smallReceipts, WARMUP_SECONDS);

  /** One autocannon run on the API, with the CPU of the API process, autocannon and PostgreSQL during it. */
  const measure = async (what: string, paths: readonly string[]) => {
    log(`${what}: ${CONNECTIONS} connections, ${DURATION} s…`);
    const loadAverageAtStart = round(loadavg()[0]!, 2);
    const backends = await backendMeter(ledgerDb.admin, dbName);
    const meter = cpuMeter({
      api: () => processCpuSeconds(apiPid),
      loadGenerator: ownCpuSeconds, // autocannon runs in this process
      postgresAll: postgresCpuSeconds, // every postgres process on the machine, other users' too
    });
    const run = figures(await driveGets(apiUrl, paths, DURATION));
    const cpu = meter.stop();
    const ours = await backends.stop();
    const perRequest = (s: number) => round((s / run.answered200) * 1e6, 1);
    return {
      ...run,
      apiCpuMicrosPerRequest: perRequest(cpu.api!),
      // This database's backends (the API's pool): PostgreSQL's part of the server's work.
      postgresCpuMicrosPerRequest: perRequest(ours.seconds),
      serverCpuMicrosPerRequest: perRequest(cpu.api! + ours.seconds),
      cpuSeconds: { ...cpu, postgresThisDatabase: ours.seconds },
      postgresBackends: ours,
      loadAverageAtStart,
    };
  };
  const receiptsBigRun = await measure(
    `random receipts of the ${BIG_N.toLocaleString('en')}-ballot window`,
    bigReceipts,
  );
  const receiptsSmallRun = await measure(
    `random receipts of the ${SMALL_N.toLocaleString('en')}-ballot window`,
    smallReceipts,
  );
  const tilesRun = await measure(`random level-0 tiles of the ${BIG_N.toLocaleString('en')}-ballot window`, tilePaths);

  log(`results of ${BIG}: the first request counts its ${BIG_N.toLocaleString('en')} ballots…`);
  const r0 = performance.now();
  const first = await getJson<{ totalBallots: number }>(`${apiUrl}${resultsPath}`);
  const firstResultsMs = performance.now() - r0;
  if (first.totalBallots !== BIG_N) throw new Error(`results of ${BIG}: ${first.totalBallots} ballots, not ${BIG_N}`);
  const resultsRun = await measure(`results of ${BIG}`, [resultsPath]);
  await stopChild(api1.child);

  // The ceiling again after the API's runs: the machine is shared and its speed drifts, so the higher of
  // the two is the ceiling (the ratios err low rather than high).
  const bareAfter = await measureBare('after the API runs');
  const ceiling = Math.max(bareBefore.requestsPerSecond, bareAfter.requestsPerSecond);
  // The bare route's server CPU per request (the lower of its two runs) over the route's (API + this
  // database's PostgreSQL): the ratio the cores alone would allow, steadier than rates on a shared machine.
  const bareCpu = Math.min(bareBefore.serverCpuMicrosPerRequest, bareAfter.serverCpuMicrosPerRequest);
  const withRatio = <T extends { requestsPerSecond: number; serverCpuMicrosPerRequest: number }>(r: T) => ({
    ratioToBare: round(r.requestsPerSecond / ceiling, 3),
    ratioToBareByCpu: round(bareCpu / r.serverCpuMicrosPerRequest, 3),
    ...r,
  });
  const receiptsBig = withRatio(receiptsBigRun);
  const receiptsSmall = withRatio(receiptsSmallRun);
  const tiles = withRatio(tilesRun);
  const results = withRatio(resultsRun);

  // ---- results streams: a fresh API process, so its memory is the streams' and little else ----
  log(`results streams: a fresh API process, ${SUBSCRIBERS.toLocaleString('en')} subscribers of ${SMALL}…`);
  const api2 = startApi(apiEnv);
  children.push(api2.child);
  const api2Url = await api2.url;
  const streamUrl = `${api2Url}/api/v1/elections/${SMALL}/results/stream`;
  const apiOpenFiles = openFilesLimit(api2.child.pid!);
  // Warm: the tally loaded and one stream opened and closed, so the baseline holds the code and the state
  // every stream shares.
  await getJson(`${api2Url}/api/v1/elections/${SMALL}/results`);
  const warm = new Subscribers(streamUrl);
  await warm.open(1);
  warm.close();
  const baselineDeadline = Date.now() + 10_000;
  let before = await apiMemory(api2.child);
  while (before.streams > 0 && Date.now() < baselineDeadline) {
    await sleep(50);
    before = await apiMemory(api2.child);
  }

  subscribers = new Subscribers(streamUrl);
  const o0 = performance.now();
  await subscribers.open(SUBSCRIBERS);
  const openSeconds = (performance.now() - o0) / 1000;
  const opened = subscribers.all.length;
  const failedToOpen = subscribers.failed;
  if (opened === 0) throw new Error(`no results stream opened: ${subscribers.failures.join('; ')}`);
  log(
    `  ${opened} open in ${openSeconds.toFixed(1)} s${failedToOpen ? `, ${failedToOpen} failed (${subscribers.failures.join('; ')})` : ''}`,
  );
  const after = await apiMemory(api2.child);

  const events = [];
  for (let e = 0; e < CHANGE_EVENTS; e++) {
    const seq = SMALL_N + e; // nothing else writes to this election: the next ballot takes the next seq
    const wait = subscribers.expect(seq);
    const meter = cpuMeter({ api: () => processCpuSeconds(api2.child.pid!) });
    const t0 = performance.now();
    const res = await fetch(`${api2Url}/api/v1/elections/${SMALL}/ballots`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ballotFor(live[e]!, SMALL, selectionsFor(e))),
    });
    const acked = performance.now();
    const body = (await res.json()) as { receipt?: { seq: number } };
    if (res.status !== 201 || body.receipt?.seq !== seq)
      throw new Error(`casting ballot ${e}: ${res.status} ${JSON.stringify(body)} (expected seq ${seq})`);
    await wait.all;
    const cpu = meter.stop();
    const f = wait.result();
    const times = Array.from(f.deliveredAt.subarray(0, opened))
      .filter((t) => t > 0)
      .sort((a, b) => a - b);
    const last = times[times.length - 1] ?? Number.NaN;
    events.push({
      seq,
      delivered: f.delivered,
      of: opened,
      msToLast: round(last - t0),
      msToLastAfter201: round(last - acked),
      msToFirst: round((times[0] ?? Number.NaN) - t0),
      p50Ms: round(percentile(times, 50) - t0),
      apiCpuSeconds: cpu.api,
    });
    log(
      `  change event ${e + 1}: ${f.delivered}/${opened} subscribers, the last ${round(last - t0)} ms after the POST`,
    );
  }
  const afterEvents = await apiMemory(api2.child);
  subscribers.close();
  subscribers = null;
  await stopChild(api2.child);

  const perSubscriber = (k: 'rss' | 'heapUsed' | 'external') => Math.round((after[k] - before[k]) / opened);
  const mb = (b: number) => round(b / 2 ** 20, 1);
  const receiptCpuRatio = receiptsBig.apiCpuMicrosPerRequest / receiptsSmall.apiCpuMicrosPerRequest;
  const receiptServerCpuRatio = receiptsBig.serverCpuMicrosPerRequest / receiptsSmall.serverCpuMicrosPerRequest;
  const result = {
    bench: 'read-path',
    windows: { big: BIG_N, small: SMALL_N },
    // Sealing the windows as the anchor worker does (sealWindow), nothing else running: hashing (no lock),
    // the tiles' insert (in the transaction, before the head lock), the locked part up to COMMIT.
    seal: { budgetMs: SEAL_BUDGET_MS, big: sealBig, small: sealSmall },
    // Every ratioToBare is to requestsPerSecond here: the higher of the bare route's two runs.
    ceiling: {
      route: 'bare fastify GET (child process), the same paths, connections and duration',
      requestsPerSecond: ceiling,
      serverCpuMicrosPerRequest: bareCpu,
      before: bareBefore,
      after: bareAfter,
    },
    receipts: {
      big: receiptsBig,
      small: receiptsSmall,
      samples: { big: bigHashes.length, small: smallHashes.length },
      // The API process's CPU per proof bundle, big window over small: what O(log n) tile reads cost.
      cpuPerProofRatioBigToSmall: round(receiptCpuRatio, 3),
      // The same with this database's PostgreSQL backends added (the ballot and tile reads).
      serverCpuPerProofRatioBigToSmall: round(receiptServerCpuRatio, 3),
    },
    tiles: { level0Tiles: level0.length, ...tiles },
    results: { firstRequestMs: round(firstResultsMs), ...results },
    streams: {
      subscribers: SUBSCRIBERS,
      opened,
      failedToOpen,
      openSeconds: round(openSeconds, 2),
      heldByApi: after.streams,
      // Memory of the API process after a full GC (--expose-gc), before and after opening the streams.
      memoryBefore: before,
      memoryAfter: after,
      memoryAfterEvents: afterEvents,
      perSubscriberBytes: {
        rss: perSubscriber('rss'),
        heapUsed: perSubscriber('heapUsed'),
        external: perSubscriber('external'),
      },
      events,
      openFilesLimit: { bench: limit, api: apiOpenFiles },
    },
    targets: {
      receiptsRatioToBare: 0.5,
      cpuPerProofRatioBigToSmall: 2,
      resultsRatioToBare: 0.8,
      sealMs: SEAL_BUDGET_MS,
      subscribers: 10_000,
    },
    setup: {
      connections: CONNECTIONS,
      durationSeconds: DURATION,
      warmupSeconds: WARMUP_SECONDS,
      insertSeconds: { big: round(insertBigSeconds, 1), small: round(insertSmallSeconds, 1) },
      note: "API child process (buildApp as api/src/server.ts builds it, rate limits off, default pool and threads), autocannon in the bench process, PostgreSQL on the same machine; all share the cores below, and so do other engineers' tests",
    },
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    loadAverageAtEnd: loadavg().map((x) => round(x, 2)),
    database: process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded',
    node: process.version,
    at: new Date().toISOString(),
  };

  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  console.log(
    `read path, this run's ceiling: bare fastify GET ${ceiling} req/s (${bareBefore.requestsPerSecond} before the API's runs, p99 ${bareBefore.p99Ms} ms; ${bareAfter.requestsPerSecond} after, p99 ${bareAfter.p99Ms} ms; server CPU ${bareCpu} µs/request), ${CONNECTIONS} connections, ${DURATION} s runs`,
  );
  console.log(
    `  seal ${BIG_N.toLocaleString('en')} ballots: ${sealBig.totalMs} ms (hash ${sealBig.hashMs}, tiles insert ${sealBig.tilesMs} for ${sealBig.tiles} tiles, locked ${sealBig.lockedMs}) — ${pct(sealBig.ratioToBudget)} of the ${SEAL_BUDGET_MS / 1000} s budget`,
  );
  console.log(
    `  seal ${SMALL_N.toLocaleString('en')} ballots: ${sealSmall.totalMs} ms (hash ${sealSmall.hashMs}, tiles insert ${sealSmall.tilesMs}, locked ${sealSmall.lockedMs})`,
  );
  for (const [name, r] of [
    [`${BIG_N.toLocaleString('en')}-ballot window`, receiptsBig],
    [`${SMALL_N.toLocaleString('en')}-ballot window`, receiptsSmall],
  ] as const)
    console.log(
      `  receipts, ${name}: ${r.requestsPerSecond}/s (${pct(r.ratioToBare)} of bare; by CPU ${pct(r.ratioToBareByCpu)}), p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms; API CPU ${r.apiCpuMicrosPerRequest} µs/proof, PostgreSQL ${r.postgresCpuMicrosPerRequest} µs/proof (this database's backends; load average ${r.loadAverageAtStart} at the start)`,
    );
  console.log(
    `  → receipts ${pct(receiptsBig.ratioToBare)} of bare (target ≥ 50%: ${met(receiptsBig.ratioToBare >= 0.5)}); API CPU per proof ${round(receiptCpuRatio, 2)}× the small window's (target ≤ 2×: ${met(receiptCpuRatio <= 2)}), API + PostgreSQL ${round(receiptServerCpuRatio, 2)}×`,
  );
  console.log(
    `  tiles (random level-0 of ${level0.length}): ${tiles.requestsPerSecond}/s (${pct(tiles.ratioToBare)} of bare; by CPU ${pct(tiles.ratioToBareByCpu)}), p99 ${tiles.p99Ms} ms, API CPU ${tiles.apiCpuMicrosPerRequest} µs/tile, PostgreSQL ${tiles.postgresCpuMicrosPerRequest} µs/tile`,
  );
  console.log(
    `  results: ${results.requestsPerSecond}/s (${pct(results.ratioToBare)} of bare, by CPU ${pct(results.ratioToBareByCpu)}; target ≥ 80%: ${met(results.ratioToBare >= 0.8)}), p99 ${results.p99Ms} ms, API CPU ${results.apiCpuMicrosPerRequest} µs/request; first request (counting ${BIG_N.toLocaleString('en')} ballots) ${round(firstResultsMs)} ms`,
  );
  console.log(
    `  streams: ${opened}/${SUBSCRIBERS} subscribers held by one API process (opened in ${round(openSeconds, 1)} s); RSS ${mb(before.rss)} → ${mb(after.rss)} MB, heap ${mb(before.heapUsed)} → ${mb(after.heapUsed)} MB: ${result.streams.perSubscriberBytes.rss} B RSS and ${result.streams.perSubscriberBytes.heapUsed} B heap per subscriber`,
  );
  for (const e of events)
    console.log(
      `  change event (seq ${e.seq}): ${e.delivered}/${e.of} subscribers got it, the last ${e.msToLast} ms after the POST (${e.msToLastAfter201} ms after its 201), median ${e.p50Ms} ms`,
    );
  mkdirSync(dirname(values.out!), { recursive: true });
  writeFileSync(values.out!, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  subscribers?.close();
  for (const c of children) await stopChild(c).catch(() => {});
  await db?.close().catch(() => {});
  await bench?.close({ keep: values.keep });
  if (values.keep && !process.env.DATABASE_URL) log(`kept the embedded server's data in ${join(tmp, 'pg')} (--keep)`);
  else rmSync(tmp, { recursive: true, force: true });
}
