// Ballots/s committed through the ingest library (signatures verified in worker threads, micro-batched
// transactions), next to the raw node:crypto verify ceiling measured in the same run.
//   npx tsx bench/ingest-ledger.ts [--ballots N] [--inflight N]
// Uses DATABASE_URL when set (a fresh database is created and dropped), else an embedded PostgreSQL.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir, availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { startEmbeddedPostgres } from '../ledger/src/db/embedded.js';
import { openLedgerDatabase } from '../ledger/src/db/connect.js';
import { Ingestor, createElection } from '../ledger/src/index.js';
import { VerifyPool } from '../ledger/src/verify-pool.js';
import { ledgerKeyFromSeed } from '../ledger/src/ledger-key.js';
import { keyPairFromSeed } from '../ledger/src/protocol/ed25519.js';
import { normalizeManifest, signBallot, type Submission } from '../ledger/src/protocol/protocol.js';
import { measureVerifyCeiling } from './lib/verify-ceiling.js';
import { cpuMeter, ownCpuSeconds, postgresCpuSeconds } from './lib/cpu.js';

const { values } = parseArgs({
  options: { ballots: { type: 'string', default: '100000' }, inflight: { type: 'string', default: '8000' } },
});
const N = Number(values.ballots);
const INFLIGHT = Number(values.inflight);
const log = (s: string) => process.stderr.write(s + '\n');

const tmp = mkdtempSync(join(tmpdir(), 'tallyproof-bench-'));
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
const db = await openLedgerDatabase({ url: u.toString(), dataDir: tmp, max: 4 });

try {
  log(`pre-signing ${N} ballots…`);
  const ledgerKey = ledgerKeyFromSeed(randomBytes(32));
  const now = Date.now();
  const manifest = normalizeManifest(
    {
      version: 1,
      electionId: 'bench',
      title: 'Bench',
      opensAt: new Date(now - 60_000).toISOString(),
      closesAt: new Date(now + 86_400_000).toISOString(),
      contests: [
        {
          id: 'q1',
          title: 'Q1',
          choices: [
            { id: 'oui', label: 'Oui' },
            { id: 'non', label: 'Non' },
          ],
          minSelections: 1,
          maxSelections: 1,
        },
      ],
    },
    ledgerKey.publicKeyHex,
  );
  const subs: Submission[] = [];
  const creds: Buffer[] = [];
  for (let i = 0; i < N; i++) {
    const seed = createHash('sha256').update(`bench voter ${i}`).digest();
    const pk = keyPairFromSeed(seed).publicKey;
    creds.push(pk);
    subs.push(
      signBallot(seed, {
        version: 1,
        electionId: 'bench',
        credential: pk.toString('hex'),
        selections: { q1: [i % 2 ? 'oui' : 'non'] },
      }),
    );
  }
  creds.sort(Buffer.compare);
  await createElection(db.app, manifest, creds);
  // Submissions arrive as parsed JSON bodies, as fastify would hand them over.
  const bodies = subs.map((s) => JSON.parse(JSON.stringify(s)));

  log('measuring the raw verify ceiling (all cores, 3 s)…');
  const ceiling = await measureVerifyCeiling(3000);

  const pool = new VerifyPool({ signingSeed: ledgerKey.seed });
  let batches = 0;
  let batchBallots = 0;
  const ingestor = new Ingestor({
    sql: db.app,
    ledgerKey,
    verifier: pool,
    metrics: {
      onBatch: (n) => {
        batches++;
        batchBallots += n;
      },
    },
  });
  log(`ingesting ${N} ballots with ${INFLIGHT} in flight…`);
  const started = process.hrtime.bigint();
  const meter = cpuMeter({ node: ownCpuSeconds, postgres: postgresCpuSeconds });
  const eluBefore = performance.eventLoopUtilization();
  let next = 0;
  let accepted = 0;
  await Promise.all(
    Array.from({ length: INFLIGHT }, async () => {
      while (next < N) {
        const o = await ingestor.submit('bench', bodies[next++]);
        if (o.kind !== 'accepted') throw new Error(`unexpected outcome ${JSON.stringify(o)}`);
        accepted++;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = meter.stop();
  const mainThreadBusy = performance.eventLoopUtilization(eluBefore).utilization;
  await pool.close();
  const [{ n }] = await db.admin`SELECT count(*)::int AS n FROM ballots`;
  if (n !== N || accepted !== N) throw new Error(`committed ${n}, accepted ${accepted}, expected ${N}`);
  const rate = N / seconds;
  const result = {
    ballots: N,
    seconds: Number(seconds.toFixed(2)),
    committedPerSecond: Math.round(rate),
    verifyCeilingPerSecond: Math.round(ceiling),
    ratio: Number((rate / ceiling).toFixed(3)),
    meanBatch: Math.round(batchBallots / Math.max(1, batches)),
    // Where the two cores went: this process (main thread + verify/sign workers) and PostgreSQL, in
    // CPU seconds, and the main thread's busy share.
    cpuSeconds: { node: cpu.node!, postgres: cpu.postgres!, mainThreadBusy: Number(mainThreadBusy.toFixed(2)) },
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    database: process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded',
    node: process.version,
    at: new Date().toISOString(),
  };
  console.log(
    `ingest (library): ${result.committedPerSecond} ballots/s committed, signatures verified (${N} ballots in ${result.seconds} s, mean batch ${result.meanBatch})`,
  );
  console.log(
    `CPU: node ${result.cpuSeconds.node} s (main thread ${(mainThreadBusy * 100).toFixed(0)}% busy), PostgreSQL ${result.cpuSeconds.postgres} s, over ${result.seconds} s on ${result.cores} cores`,
  );
  console.log(
    `raw Ed25519 verify ceiling (node:crypto, ${result.cores} threads): ${result.verifyCeilingPerSecond} verifies/s`,
  );
  console.log(`ratio: ${(result.ratio * 100).toFixed(1)}% of the ceiling (target ≥ 60%)`);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/ingest-ledger.json', import.meta.url), JSON.stringify(result, null, 2) + '\n');
} finally {
  await db.close();
  await root.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await root.end();
  await stopEmbedded();
  rmSync(tmp, { recursive: true, force: true });
}
