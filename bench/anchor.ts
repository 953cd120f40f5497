// Time from receipt (receivedAt) to anchored, per ballot, with the real worker on a local anvil chain:
// ballots at a steady rate for a few windows, for windowSeconds 5 and 60; the gas of each anchorWindow;
// and how ingest fares while a 100,000-ballot window is sealed.
//   npx tsx bench/anchor.ts [--rate 20] [--windows 5:3,60:2] [--seal-ballots 100000]
// Uses DATABASE_URL when set (a fresh database is created and dropped), else an embedded PostgreSQL;
// the queue on Redis when REDIS_URL is set, else on PostgreSQL. Target: p99 <= windowSeconds + 5 s.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { Wallet } from 'ethers';
import { startEmbeddedPostgres } from '../ledger/src/db/embedded.js';
import { openLedgerDatabase } from '../ledger/src/db/connect.js';
import { migrateQueueSchema } from '../jobs/src/index.js';
import { VerifyPool } from '../ledger/src/verify-pool.js';
import { ledgerKeyFromSeed } from '../ledger/src/ledger-key.js';
import { Ingestor, createElection, sealWindow, validateRoll, type Submission } from '../ledger/src/index.js';
import { ballotFor, selectionsFor, testManifest, voters } from '../test/support/fixtures.js';
import { anvilProvider, startAnvil } from '../test/support/anvil.js';
import { deployTallyAnchor } from '../contracts/index.js';
import { startAnchorWorker, type AnchorEvent } from '../anchor-worker/src/index.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rate: { type: 'string', default: '20' },
    windows: { type: 'string', default: '5:3,60:2' },
    'seal-ballots': { type: 'string', default: '100000' },
    'seal-child': { type: 'boolean', default: false },
  },
});

// Child mode: seal one window in its own process, as the worker would, and print the timings.
if (values['seal-child']) {
  const [appUrl, electionId] = positionals as [string, string];
  const sql = postgres(appUrl, { max: 2, onnotice: () => {} });
  await sql`SELECT 1`; // connected before the clock starts
  const startedAt = Date.now();
  let timings = { hashMs: 0, lockedMs: 0 };
  const w = await sealWindow(sql, electionId, { onTimings: (t) => (timings = t) });
  process.stdout.write(JSON.stringify({ count: w?.count ?? 0, startedAt, endedAt: Date.now(), ...timings }));
  await sql.end({ timeout: 5 });
  process.exit(0);
}
const RATE = Number(values.rate);
const RUNS = values.windows.split(',').map((s) => s.split(':').map(Number) as [number, number]);
const SEAL_BALLOTS = Number(values['seal-ballots']);
const log = (s: string) => process.stderr.write(s + '\n');
const execFileP = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
const round = (x: number, d = 2) => Number(x.toFixed(d));

const tmp = mkdtempSync(join(tmpdir(), 'tallyproof-bench-anchor-'));
let stopEmbedded = async () => {};
let serverUrl = process.env.DATABASE_URL;
if (!serverUrl) {
  log('starting embedded PostgreSQL…');
  const pg = await startEmbeddedPostgres({ dir: join(tmp, 'pg') });
  serverUrl = pg.url;
  stopEmbedded = pg.stop;
}
const dbName = `tp_bench_${randomBytes(4).toString('hex')}`;
const root = postgres(serverUrl, { max: 1, onnotice: () => {} });
await root.unsafe(`CREATE DATABASE ${dbName}`);
const u = new URL(serverUrl);
u.pathname = `/${dbName}`;
const dbUrl = u.toString();
const db = await openLedgerDatabase({ url: dbUrl, dataDir: tmp, max: 6 });
await migrateQueueSchema(dbUrl);
const chain = await startAnvil();
const provider = anvilProvider(chain);
const ledgerKey = ledgerKeyFromSeed(randomBytes(32));
const pool = new VerifyPool({ threads: 1 });
const ingestor = new Ingestor({ sql: db.app, ledgerKey, verifier: pool });

const events: AnchorEvent[] = [];
let worker: Awaited<ReturnType<typeof startAnchorWorker>> | null = null;

try {
  const [owner, anchorer] = chain.accounts.slice(0, 2).map((a) => new Wallet(a.privateKey, provider)) as [
    Wallet,
    Wallet,
  ];
  const deployment = await deployTallyAnchor(owner, { anchorers: [anchorer.address] });
  worker = await startAnchorWorker({
    databaseUrl: db.appUrl,
    redisUrl: process.env.REDIS_URL || null,
    queuePrefix: `tp-bench-${randomBytes(4).toString('hex')}`,
    chainRpcUrl: chain.rpcUrl,
    chainPrivateKey: chain.accounts[1]!.privateKey,
    contractAddress: deployment.address,
    log: (msg, fields) => {
      if ((fields as { level?: string } | undefined)?.level === 'error') log(`worker: ${msg}`);
    },
    onEvent: (e) => events.push(e),
  });

  const runs = [];
  for (const [windowSeconds, windows] of RUNS) {
    const id = `bench-w${windowSeconds}`;
    const seconds = windowSeconds * windows;
    const n = Math.ceil(RATE * seconds);
    log(`windowSeconds ${windowSeconds}: ${n} ballots at ${RATE}/s for ${seconds} s…`);
    const vs = voters(n, `${id}-`);
    const roll = await validateRoll(vs.map((v) => v.credential));
    await createElection(db.app, testManifest(id, ledgerKey.publicKeyHex, { windowSeconds }), roll);
    await worker.requests.requestRegistration(id);
    const bodies: Submission[] = vs.map((v, i) => JSON.parse(JSON.stringify(ballotFor(v, id, selectionsFor(i)))));
    // Steady arrivals: ballot i is submitted at start + i / RATE, whatever the previous ones are doing.
    const start = performance.now();
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const due = start + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      pending.push(
        ingestor.submit(id, bodies[i]).then((o) => {
          if (o.kind !== 'accepted') throw new Error(`ballot ${i}: ${JSON.stringify(o)}`);
        }),
      );
    }
    await Promise.all(pending);
    log(`  all ${n} committed; waiting for the last window to be anchored…`);
    for (;;) {
      const [r] =
        await db.app`SELECT h.next_seq, h.sealed_through, (SELECT count(*) FROM windows w WHERE w.election_id = ${id} AND w.anchor_tx IS NULL)::int AS pending
                               FROM election_heads h WHERE election_id = ${id}`;
      if (Number(r!.sealed_through) === n && r!.pending === 0) break;
      await sleep(200);
    }
    // anchored_at is written right after the confirmed receipt is seen: an upper bound of the anchoring time.
    const rows = await db.app`
      SELECT extract(epoch FROM w.anchored_at - b.received_at)::float8 AS s
      FROM ballots b JOIN windows w ON w.election_id = b.election_id AND b.seq >= w.first_seq AND b.seq < w.first_seq + w.count
      WHERE b.election_id = ${id} ORDER BY 1`;
    const latencies = rows.map((r) => Number(r.s));
    const gas = events
      .filter(
        (e): e is Extract<AnchorEvent, { type: 'anchored' }> =>
          e.type === 'anchored' && e.electionId === id && e.gasUsed !== undefined,
      )
      .map((e) => e.gasUsed!);
    const [{ count: windowCount }] = await db.app`SELECT count(*)::int AS count FROM windows WHERE election_id = ${id}`;
    const run = {
      windowSeconds,
      ballots: n,
      ratePerSecond: RATE,
      windows: windowCount as number,
      receiptToAnchoredSeconds: {
        p50: round(quantile(latencies, 0.5)),
        p99: round(quantile(latencies, 0.99)),
        max: round(latencies[latencies.length - 1]!),
      },
      targetP99Seconds: windowSeconds + 5,
      gasPerWindow: {
        min: Math.min(...gas),
        mean: Math.round(gas.reduce((a, b) => a + b, 0) / gas.length),
        max: Math.max(...gas),
      },
    };
    console.log(
      `windowSeconds ${windowSeconds}: receipt → anchored p50 ${run.receiptToAnchoredSeconds.p50} s, p99 ${run.receiptToAnchoredSeconds.p99} s, max ${run.receiptToAnchoredSeconds.max} s ` +
        `(target p99 ≤ ${run.targetP99Seconds} s; ${n} ballots, ${run.windows} windows); gas per anchorWindow ${run.gasPerWindow.min}–${run.gasPerWindow.max} (mean ${run.gasPerWindow.mean})`,
    );
    runs.push(run);
  }
  await worker.stop();
  worker = null;

  // Sealing a big window (in its own process, as the worker does) while ingest commits ballots here.
  log(`seal: ${SEAL_BALLOTS} ballots in one window, with ingest running…`);
  const sealId = 'bench-seal';
  const live = voters(6000, 'bench-seal-live-');
  const liveRoll = await validateRoll(live.map((v) => v.credential));
  await createElection(db.app, testManifest(sealId, ledgerKey.publicKeyHex), liveRoll);
  await db.admin`
    INSERT INTO ballots (election_id, seq, ballot_hash, credential, ballot, signature, received_at)
    SELECT ${sealId}, i, sha256(convert_to('bench-seal:hash:' || i, 'UTF8')), sha256(convert_to('bench-seal:cred:' || i, 'UTF8')), '{}', decode(repeat('00', 64), 'hex'), now()
    FROM generate_series(0, ${SEAL_BALLOTS - 1}::int) AS i`;
  await db.admin`UPDATE election_heads SET next_seq = ${SEAL_BALLOTS} WHERE election_id = ${sealId}`;
  const liveBodies = live.map(
    (v, i) => JSON.parse(JSON.stringify(ballotFor(v, sealId, selectionsFor(i)))) as Submission,
  );
  let next = 0;
  const commits: { at: number; latency: number }[] = [];
  let ingesting = true;
  const ingest = Promise.all(
    Array.from({ length: 16 }, async () => {
      while (ingesting && next < liveBodies.length) {
        const t = performance.now();
        const o = await ingestor.submit(sealId, liveBodies[next++]!);
        if (o.kind !== 'accepted') throw new Error(JSON.stringify(o));
        commits.push({ at: Date.now(), latency: performance.now() - t });
      }
    }),
  );
  await sleep(1500);
  const spawnAt = Date.now();
  const { stdout } = await execFileP(process.execPath, [
    '--import',
    'tsx',
    fileURLToPath(import.meta.url),
    '--seal-child',
    db.appUrl,
    sealId,
  ]);
  const sealed = JSON.parse(stdout) as {
    count: number;
    startedAt: number;
    endedAt: number;
    hashMs: number;
    lockedMs: number;
  };
  const [sealStart, sealEnd] = [sealed.startedAt, sealed.endedAt];
  await sleep(500);
  ingesting = false;
  await ingest;
  const rate = (from: number, to: number) =>
    commits.filter((c) => c.at >= from && c.at < to).length / ((to - from) / 1000);
  const during = commits.filter((c) => c.at >= sealStart && c.at < sealEnd);
  const seal = {
    windowBallots: sealed.count,
    sealSeconds: round((sealEnd - sealStart) / 1000, 3),
    hashSeconds: round(sealed.hashMs / 1000, 3),
    headLockedMs: round(sealed.lockedMs, 1),
    ingestPerSecondBefore: Math.round(rate(spawnAt - 1200, spawnAt)),
    ingestPerSecondDuring: Math.round(rate(sealStart, sealEnd)),
    ingestMaxLatencyDuringMs: Math.round(Math.max(0, ...during.map((c) => c.latency))),
  };
  console.log(
    `seal of ${seal.windowBallots} ballots: ${seal.sealSeconds} s (hashing ${seal.hashSeconds} s without a lock, head row locked ${seal.headLockedMs} ms); ingest ${seal.ingestPerSecondBefore} ballots/s before, ${seal.ingestPerSecondDuring} ballots/s during (max latency ${seal.ingestMaxLatencyDuringMs} ms)`,
  );

  const result = {
    runs,
    seal,
    setup: {
      chain: 'anvil (automine), 1 confirmation',
      queue: process.env.REDIS_URL ? 'Redis' : 'PostgreSQL (BullMQ backend)',
      database: process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded',
      latency: 'windows.anchored_at (recorded after the confirmed receipt) minus ballots.received_at',
      seal: 'sealWindow in its own process (as the worker runs), next to a 16-way concurrent ingest in the bench process',
      cores: availableParallelism(),
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
    },
    at: new Date().toISOString(),
  };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/anchor.json', import.meta.url), JSON.stringify(result, null, 2) + '\n');
} finally {
  await worker?.stop();
  await pool.close();
  provider.destroy();
  await chain.stop();
  await db.close();
  await root.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await root.end();
  await stopEmbedded();
  rmSync(tmp, { recursive: true, force: true });
}
