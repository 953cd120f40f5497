// Durable votes per second through the HTTP API, next to the ceilings measured in the same run.
//
//   npx tsx bench/ingest-http.ts [--duration 60] [--connections 256] [--rate 1000] [--rate-duration 20]
//                                [--ceiling-duration 10] [--profile] [--out bench/results/ingest-http.json]
//
// 1. Pre-signs one ballot per voter (key generation and signing in worker threads; cached under the OS
//    temp dir, so quick re-runs start at once) and creates the election with that roll.
// 2. Measures the raw node:crypto verify rate on all cores (bench/lib/verify-ceiling.ts).
// 3. Measures the HTTP ceiling: a bare fastify POST route returning 201, child process, same autocannon settings.
// 4. Starts the API (api/src/server.ts) as a child process on 127.0.0.1 with a fresh database (DATABASE_URL
//    when set, else an embedded PostgreSQL); after a 3 s warm-up, p50/p95/p99 at a fixed 1,000 votes/s
//    for --rate-duration seconds: open-loop, one request every 1/rate s (see paced() for why not autocannon).
// 5. Drives it with autocannon for --duration seconds, every request a new ballot. "Durable" = answered
//    201, which the API only sends after COMMIT; the count is checked against the ballots table at the end.
// Writes bench/results/ingest-http.json. Every figure is measured; nothing is assumed.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir, availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { startEmbeddedPostgres } from '../ledger/src/db/embedded.js';
import { openLedgerDatabase } from '../ledger/src/db/connect.js';
import { createElection } from '../ledger/src/index.js';
import { ledgerKeyFromSeed } from '../ledger/src/ledger-key.js';
import { ballotMessage, normalizeManifest, type Submission } from '../ledger/src/protocol/protocol.js';
import { verifyStrict } from '../ledger/src/protocol/ed25519.js';
import { cpuMeter, ownCpuSeconds, postgresCpuSeconds, processCpuSeconds } from './lib/cpu.js';
import { measureVerifyCeiling } from './lib/verify-ceiling.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    connections: { type: 'string', default: '256' },
    rate: { type: 'string', default: '1000' },
    'rate-duration': { type: 'string', default: '20' },
    'ceiling-duration': { type: 'string', default: '10' },
    ballots: { type: 'string' },
    profile: { type: 'boolean', default: false },
    out: { type: 'string', default: fileURLToPath(new URL('./results/ingest-http.json', import.meta.url)) },
  },
});
const DURATION = Number(values.duration);
const CONNECTIONS = Number(values.connections);
const RATE = Number(values.rate);
const RATE_DURATION = Number(values['rate-duration']);
const CEILING_DURATION = Math.min(Number(values['ceiling-duration']), DURATION);
const WARMUP_SECONDS = 3;
// Enough fresh ballots for the main run at up to 10,000/s, the warm-up and the fixed-rate run.
const N = Number(values.ballots ?? Math.ceil((DURATION + WARMUP_SECONDS) * 10_000 + RATE * RATE_DURATION * 1.2));
const ELECTION = 'bench-http';
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const log = (s: string) => process.stderr.write(s + '\n');

// ---------------------------------------------------------------------------------------------------
// Pre-signed ballots: child processes (plain node, one per core) generate voter keys and sign one ballot each.

// Key generation avoids a Node 20 deadlock seen here: exporting a freshly generated key (KeyObject.export,
// JWK) can run a GC that destroys the key's generation job, which locks the mutex the export holds. So the
// public key is DER-encoded by the generation job itself, and generation runs in batches followed by an
// explicit GC (--expose-gc), so that no generation job is left to be collected during the signing.
const SIGNER_SOURCE = `
const { generateKeyPairSync, sign } = require('node:crypto');
const workerData = JSON.parse(process.argv[1]);
const choices = ['oui', 'non', 'blanc'];
const out = [];
for (let base = workerData.from; base < workerData.to; base += 1000) {
  const pairs = [];
  for (let i = base; i < Math.min(workerData.to, base + 1000); i++) pairs.push(generateKeyPairSync('ed25519', { publicKeyEncoding: { type: 'spki', format: 'der' } }));
  globalThis.gc();
  pairs.forEach(({ publicKey, privateKey }, k) => {
    const i = base + k;
    const credential = publicKey.subarray(12).toString('hex');
    const selections = { q1: [choices[i % 3]] };
    // JCS of the ballot: keys sorted, no whitespace (the server recomputes it and must agree).
    const jcs = '{"credential":"' + credential + '","electionId":"' + workerData.electionId + '","selections":{"q1":["' + selections.q1[0] + '"]},"version":1}';
    const signature = sign(null, Buffer.from('tallyproof:ballot:v1:' + jcs), privateKey).toString('hex');
    out.push(credential + '\\t' + JSON.stringify({ ballot: { version: 1, electionId: workerData.electionId, credential, selections }, signature }));
  });
}
process.stdout.write(out.join('\\n'));
`;

async function presign(n: number): Promise<{ credentials: Buffer[]; bodies: Buffer[] }> {
  const cache = join(tmpdir(), `tallyproof-bench-http-v1-${ELECTION}-${n}.tsv`);
  let text: string;
  if (existsSync(cache)) {
    log(`using ${n} pre-signed ballots from ${cache}`);
    text = readFileSync(cache, 'utf8');
  } else {
    const threads = availableParallelism();
    log(`pre-signing ${n} ballots in ${threads} processes (cached for later runs)…`);
    const t0 = Date.now();
    const per = Math.ceil(n / threads);
    const parts = await Promise.all(Array.from({ length: threads }, (_, w) => new Promise<string>((resolve, reject) => {
      const spec = JSON.stringify({ from: w * per, to: Math.min(n, (w + 1) * per), electionId: ELECTION });
      const child = spawn(process.execPath, ['--expose-gc', '-e', SIGNER_SOURCE, spec], { stdio: ['ignore', 'pipe', 'inherit'] });
      const chunks: Buffer[] = [];
      child.stdout!.on('data', (d: Buffer) => chunks.push(d));
      child.once('error', reject);
      // 'close', not 'exit': all of the child's stdout has been read by then.
      child.once('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`signer exited with ${code}`))));
    })));
    text = parts.filter((p) => p.length > 0).join('\n');
    writeFileSync(cache, text);
    log(`  ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const credentials: Buffer[] = [];
  const bodies: Buffer[] = [];
  for (const line of text.split('\n')) {
    const tab = line.indexOf('\t');
    credentials.push(Buffer.from(line.slice(0, tab), 'hex'));
    bodies.push(Buffer.from(line.slice(tab + 1)));
  }
  // Spot-check against the protocol code: the server must accept these.
  for (const i of [0, bodies.length - 1]) {
    const sub = JSON.parse(bodies[i]!.toString()) as Submission;
    if (!verifyStrict(credentials[i]!, ballotMessage(sub.ballot), Buffer.from(sub.signature, 'hex'))) throw new Error('pre-signed ballot does not verify');
  }
  return { credentials, bodies };
}

// ---------------------------------------------------------------------------------------------------
// Child processes.

function waitForUrl(child: ChildProcess, pattern: RegExp, what: string): Promise<string> {
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${out}`)), 120_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}:\n${out}`)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

const BARE_SERVER = `
import Fastify from 'fastify';
const app = Fastify({ logger: false });
app.post('/api/v1/elections/:electionId/ballots', async (req, reply) => reply.code(201).send({ ok: true }));
await app.listen({ port: 0, host: '127.0.0.1' });
console.log('bare listening on http://127.0.0.1:' + app.server.address().port);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
`;

// ---------------------------------------------------------------------------------------------------
// autocannon with a new body per request; latencies of every response recorded for exact percentiles.

interface LoadResult {
  seconds: number;
  statuses: Record<number, number>;
  latenciesMs: number[];
  used: number;
  errors: number;
}

function drive(url: string, bodies: Buffer[], start: number, opts: { duration: number; connections: number; cycle?: boolean }): Promise<LoadResult> {
  let next = start;
  const statuses: Record<number, number> = {};
  const latenciesMs: number[] = [];
  let instance: autocannon.Instance | null = null;
  let exhausted = false;
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    instance = autocannon({
      url: `${url}/api/v1/elections/${ELECTION}/ballots`,
      method: 'POST',
      connections: opts.connections,
      pipelining: 1,
      duration: opts.duration,
      headers: { 'content-type': 'application/json' },
      requests: [{
        setupRequest: (req) => {
          if (next >= bodies.length) {
            if (!opts.cycle && !exhausted) {
              // Out of fresh ballots: stop the run (the few requests still sent are resubmissions, 200).
              exhausted = true;
              setImmediate(() => instance?.stop());
            }
            next = start;
          }
          return { ...req, body: bodies[next++]! } as typeof req;
        },
      }],
    }, (err, result) => {
      if (err) return reject(err);
      resolve({ seconds: Number(process.hrtime.bigint() - t0) / 1e9, statuses, latenciesMs, used: exhausted ? bodies.length - start : next - start, errors: result.errors + result.timeouts });
    }) as unknown as autocannon.Instance;
    instance!.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      latenciesMs.push(responseTime);
    });
  });
}

/**
 * A fixed arrival rate, open-loop: request i is due at t0 + i/rate and is sent then whether or not earlier
 * ones were answered; its latency runs from that due time to the end of the response, so time spent
 * waiting for a free socket counts (no coordinated omission). autocannon's overallRate is not used here:
 * it gives each connection a budget per second that the connection spends at once, so "1,000/s" arrives
 * as one burst of 1,000 at the top of every second.
 */
function paced(url: string, bodies: Buffer[], start: number, opts: { rate: number; duration: number; sockets: number }): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.sockets });
  const target = new URL(`${url}/api/v1/elections/${ELECTION}/ballots`);
  const total = Math.round(opts.rate * opts.duration);
  const statuses: Record<number, number> = {};
  const latenciesMs: number[] = [];
  let sent = 0;
  let settled = 0;
  let errors = 0;
  return new Promise((resolve) => {
    const t0 = performance.now();
    const settle = () => {
      if (++settled < total) return;
      agent.destroy();
      resolve({ seconds: (performance.now() - t0) / 1000, statuses, latenciesMs, used: sent, errors });
    };
    const send = (due: number) => {
      const body = bodies[start + sent++]!;
      const req = httpRequest(target, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
        res.resume();
        res.once('end', () => {
          statuses[res.statusCode!] = (statuses[res.statusCode!] ?? 0) + 1;
          latenciesMs.push(performance.now() - due);
          settle();
        });
      });
      req.once('error', () => {
        errors++;
        settle();
      });
      req.end(body);
    };
    const timer = setInterval(() => {
      const now = performance.now();
      while (sent < total && t0 + (sent * 1000) / opts.rate <= now) send(t0 + (sent * 1000) / opts.rate);
      if (sent >= total) clearInterval(timer);
    }, 1);
  });
}

/** PostgreSQL checkpoints so far (timed + requested), to tell when one ran during a measurement. */
async function checkpoints(sql: postgres.Sql): Promise<number> {
  const [r] = await sql`SELECT checkpoints_timed + checkpoints_req AS n FROM pg_stat_bgwriter`;
  return Number(r!.n);
}

/** The ingest transactions' count, total size and total seconds so far, from the API's /metrics. */
async function batchStats(apiUrl: string): Promise<{ count: number; size: number; seconds: number }> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { count: read('tallyproof_ingest_batch_size_count'), size: read('tallyproof_ingest_batch_size_sum'), seconds: read('tallyproof_ingest_batch_seconds_sum') };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (x: number, d = 1) => Number(x.toFixed(d));

// ---------------------------------------------------------------------------------------------------

const tmp = mkdtempSync(join(tmpdir(), 'tallyproof-bench-http-'));
let stopEmbedded = async () => {};
let serverUrl = process.env.DATABASE_URL;
const children: ChildProcess[] = [];
const dbName = `tp_bench_http_${randomBytes(4).toString('hex')}`;
let root: postgres.Sql | null = null;

try {
  const { credentials, bodies } = await presign(N);

  if (!serverUrl) {
    log('starting embedded PostgreSQL…');
    const pg = await startEmbeddedPostgres({ dir: join(tmp, 'pg') });
    serverUrl = pg.url;
    stopEmbedded = pg.stop;
  }
  root = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await root.unsafe(`CREATE DATABASE ${dbName}`);
  const u = new URL(serverUrl);
  u.pathname = `/${dbName}`;
  const dbUrl = u.toString();
  const ledgerKey = ledgerKeyFromSeed(randomBytes(32));
  const db = await openLedgerDatabase({ url: dbUrl, dataDir: tmp, max: 4 });
  log(`creating the election with a roll of ${credentials.length} credentials…`);
  const now = Date.now();
  const manifest = normalizeManifest({
    version: 1, electionId: ELECTION, title: 'HTTP bench', opensAt: new Date(now - 60_000).toISOString(), closesAt: new Date(now + 86_400_000).toISOString(),
    contests: [{ id: 'q1', title: 'Q1', choices: [{ id: 'oui', label: 'Oui' }, { id: 'non', label: 'Non' }, { id: 'blanc', label: 'Blanc' }], minSelections: 1, maxSelections: 1 }],
  }, ledgerKey.publicKeyHex);
  await createElection(db.app, manifest, credentials.slice().sort(Buffer.compare));

  log('measuring the raw verify ceiling (node:crypto, all cores, 3 s)…');
  const verifyCeiling = await measureVerifyCeiling(3000);

  log(`measuring the HTTP ceiling (bare fastify POST → 201, ${CONNECTIONS} connections, ${CEILING_DURATION} s)…`);
  const bare = spawn(process.execPath, ['--input-type=module', '-e', BARE_SERVER], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(bare);
  const bareUrl = await waitForUrl(bare, /bare listening on (http:\/\/\S+)/, 'bare fastify');
  const ceilingRun = await drive(bareUrl, bodies, 0, { duration: CEILING_DURATION, connections: CONNECTIONS, cycle: true });
  await stopChild(bare);
  const httpCeiling = (ceilingRun.statuses[201] ?? 0) / ceilingRun.seconds;

  log('starting the API (api/src/server.ts)…');
  const profileDir = join(ROOT, 'bench/results/profiles');
  // Started as `npm run api` and the image start it (docs/operations.md, "Node.js flags").
  const api = spawn(process.execPath, [...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), '--max-semi-space-size=64', '--import', 'tsx', join(ROOT, 'api/src/server.ts')], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: dbUrl, TALLYPROOF_DATA_DIR: tmp, LEDGER_KEY_SEED: ledgerKey.seed.toString('hex'), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ADMIN_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(api);
  const apiUrl = await waitForUrl(api, /listening on (http:\/\/\S+)/, 'API');

  log(`warm-up (${WARMUP_SECONDS} s)…`);
  let cursor = 0;
  const warm = await drive(apiUrl, bodies, cursor, { duration: WARMUP_SECONDS, connections: CONNECTIONS });
  cursor += warm.used;

  // The fixed rate first: measured right after a saturation run it would mostly measure that run's
  // aftermath in PostgreSQL (a checkpoint with full-page writes of every index page the burst touched).
  log(`fixed rate: ${RATE} votes/s for ${RATE_DURATION} s…`);
  const cp0 = await checkpoints(db.admin);
  const fixed = await paced(apiUrl, bodies, cursor, { rate: RATE, duration: RATE_DURATION, sockets: Math.min(CONNECTIONS, 64) });
  if (cursor + fixed.used > bodies.length) throw new Error('ran out of pre-signed ballots in the fixed-rate run');
  cursor += fixed.used;
  const fixedLat = fixed.latenciesMs.slice().sort((a, b) => a - b);

  log(`driving the API: ${CONNECTIONS} connections for ${DURATION} s, a new ballot per request…`);
  const cp1 = await checkpoints(db.admin);
  const batches0 = await batchStats(apiUrl);
  const meter = cpuMeter({
    api: () => processCpuSeconds(api.pid!),
    loadGenerator: ownCpuSeconds, // autocannon runs in this process
    postgres: postgresCpuSeconds,
  });
  const main = await drive(apiUrl, bodies, cursor, { duration: DURATION, connections: CONNECTIONS });
  const cpuSeconds = meter.stop();
  const batches1 = await batchStats(apiUrl);
  const batchCount = batches1.count - batches0.count;
  cursor += main.used;
  if (cursor >= bodies.length) throw new Error('ran out of pre-signed ballots during the main run; pass a larger --ballots');
  const cp2 = await checkpoints(db.admin);
  const accepted = main.statuses[201] ?? 0;
  const latencies = main.latenciesMs.slice().sort((a, b) => a - b);

  await stopChild(api);
  // Durable: every 201 is a row (and nothing else was stored).
  const [{ n }] = await db.admin`SELECT count(*)::int AS n FROM ballots WHERE election_id = ${ELECTION}` as unknown as [{ n: number }];
  const acknowledged = (warm.statuses[201] ?? 0) + accepted + (fixed.statuses[201] ?? 0);
  await db.close();
  // Every 201 is a row. A few more rows than 201s are normal: requests in flight when a run's clock ran out
  // were committed but their answers were not counted. More rows than ballots sent would be a bug.
  if (n < acknowledged || n > cursor) throw new Error(`the ledger holds ${n} ballots; ${acknowledged} were acknowledged with 201 and ${cursor} sent`);

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
    ingestTransactions: { count: batchCount, meanSize: round((batches1.size - batches0.size) / batchCount), meanMs: round((1000 * (batches1.seconds - batches0.seconds)) / batchCount, 2) },
    checkpointsDuring: { fixedRate: cp1 - cp0, main: cp2 - cp1 },
    // Where the cores went during the saturation run: the API process (main thread + verify/sign
    // workers), autocannon (this process) and PostgreSQL, in CPU seconds.
    cpuSecondsDuringMain: cpuSeconds,
    fixedRate: {
      measured: 'before the saturation run, after a 3 s warm-up; open-loop, one request every 1/rate s, latency from its due time',
      targetPerSecond: RATE,
      achievedPerSecond: Math.round((fixed.statuses[201] ?? 0) / fixed.seconds),
      durationSeconds: round(fixed.seconds, 2),
      p50Ms: round(percentile(fixedLat, 50)),
      p95Ms: round(percentile(fixedLat, 95)),
      p99Ms: round(percentile(fixedLat, 99)),
      otherStatuses: Object.fromEntries(Object.entries(fixed.statuses).filter(([s]) => s !== '201')),
    },
    targets: { votesPerSecond: 6000, p99MsAt1000: 50 },
    setup: 'API child process (api/src/server.ts, default settings: verify threads = cores, app pool 10), autocannon in the bench process, PostgreSQL on the same machine; all share the cores below',
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    loadAverageAtEnd: (await import('node:os')).loadavg().map((x) => round(x, 2)),
    database: process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded',
    node: process.version,
    at: new Date().toISOString(),
  };
  console.log(`HTTP ingest: ${result.votesPerSecond} durable votes/s for ${result.durationSeconds} s (${CONNECTIONS} connections), latency p50 ${result.p50Ms} ms, p95 ${result.p95Ms} ms, p99 ${result.p99Ms} ms`);
  console.log(`  ceilings in this run: raw verify ${result.verifyCeilingPerSecond}/s (${result.cores} cores) → ${(result.ratioToVerifyCeiling * 100).toFixed(1)}%; bare fastify 201 ${result.httpCeilingPerSecond}/s → ${(result.ratioToHttpCeiling * 100).toFixed(1)}%`);
  console.log(`  CPU during that run: API ${cpuSeconds.api} s, autocannon ${cpuSeconds.loadGenerator} s, PostgreSQL ${cpuSeconds.postgres} s of ${round(main.seconds * result.cores)} core-seconds`);
  console.log(`  ingest transactions: ${batchCount}, mean ${result.ingestTransactions.meanSize} submissions, ${result.ingestTransactions.meanMs} ms each`);
  console.log(`  at a fixed ${RATE} votes/s: achieved ${result.fixedRate.achievedPerSecond}/s, p50 ${result.fixedRate.p50Ms} ms, p95 ${result.fixedRate.p95Ms} ms, p99 ${result.fixedRate.p99Ms} ms`);
  console.log(`  durable check: ${n} ballots in the ledger ≥ ${acknowledged} acknowledged with 201 (${cursor} sent); targets: ≥ 6000 votes/s, p99 ≤ 50 ms at 1000/s`);
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(values.out!, JSON.stringify(result, null, 2) + '\n');
} finally {
  for (const c of children) await stopChild(c).catch(() => {});
  if (root) {
    await root.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
    await root.end();
  }
  await stopEmbedded();
  rmSync(tmp, { recursive: true, force: true });
}
