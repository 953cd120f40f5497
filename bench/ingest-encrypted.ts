// Encrypted ballots per second verified and committed over HTTP (docs/protocol.md 12.4: signature and every
// proof checked before the 201), for one contest of 3 choices and one of 10, beside the plaintext figure
// and the ceilings measured in the same run; and the two halves of the alternative design (proofs checked
// by a validation stage after the 201) measured apart: the proof checks alone on the ingest's proof pool,
// and the ingest with the proofs skipped.
//
//   npx tsx bench/ingest-encrypted.ts [--quick] [--duration 30] [--connections 256]
//                                     [--encrypted-connections 64] [--warmup 3] [--ceiling-duration 5]
//                                     [--ballots3 N] [--ballots10 N] [--out bench/results/ingest-encrypted.json]
//
// 1. Elections in a fresh database (DATABASE_URL's server, else an embedded PostgreSQL): plaintext (version
//    1, one contest of 3 choices, as bench/ingest-http.ts), encrypted with one contest of 3 choices, with
//    one of 10, and a second 3-choice one for the run without proof checks. Their key ceremonies are run
//    with the core's functions from fixed randomness and posted to the board (postTrusteeMessage).
// 2. Ballots generated before any timing: plaintext ones pre-signed (bench/lib/presign.ts), encrypted ones
//    encrypted, proved and signed with encryptBallot in worker threads (bench/lib/encrypted-ballots.ts);
//    all cached under the OS temp dir (the times and keys are fixed, so the same ballots serve every run).
// 3. Ceilings: the raw Ed25519 verify rate on all cores (bench/lib/verify-ceiling.ts), and the proof checks
//    alone: the ProofPool the API uses, one thread per core, kept full for --ceiling-duration seconds, with
//    the CPU seconds it spends per ballot; and what one group operation costs (libsodium through the core's
//    group.ts), times the operations a ballot's check needs: the share of a check that is group arithmetic.
// 4. The API (api/src/server.ts, a child process, rate limits off) driven by autocannon, every request a
//    new ballot: plaintext (--connections, as bench/ingest-http.ts), then 3 choices, then 10
//    (--encrypted-connections: enough to keep the proof threads busy; more only queue for seconds), each
//    after a warm-up and a drain (a resubmission, answered once everything sent before it is), for
//    --duration seconds; CPU of the API, PostgreSQL and autocannon during each run. "What limits it": the
//    proof checks' share of the cores, from the ballots committed and the CPU per check measured in step 3.
// 5. bench/lib/skip-proofs-api.ts (the same app, its proof checks answering "valid" unread: a bench-only
//    process, no production mode) driven the same way with 3-choice ballots, over --connections.
// Every 201 is checked against the ballots table. Writes bench/results/ingest-encrypted.json.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { migrateQueueSchema } from '../jobs/src/index.js';
import { openLedgerDatabase } from '../ledger/src/db/connect.js';
import { createElection, postTrusteeMessage } from '../ledger/src/index.js';
import { ledgerKeyFromSeed } from '../ledger/src/ledger-key.js';
import { ProofPool } from '../ledger/src/proof-pool.js';
import { jcs } from '../ledger/src/protocol/jcs.js';
import { normalizeManifest, type Manifest } from '../ledger/src/protocol/protocol.js';
import type { EncryptedElectionContext, EncryptedSubmission } from '../ledger/src/protocol/v2/ballot.js';
import { elementFromHex, hashToScalar, mul, mulBase } from '../ledger/src/protocol/v2/group.js';
import { cpuMeter, ownCpuSeconds, postgresCpuSeconds, processCpuSeconds } from './lib/cpu.js';
import {
  type BenchBallots,
  benchCeremony,
  benchContest,
  encryptedBallots,
  encryptedBenchManifest,
  resignedBallots,
} from './lib/encrypted-ballots.js';
import { drive, stopChild, waitForUrl } from './lib/http-load.js';
import { presign } from './lib/presign.js';
import { measureVerifyCeiling } from './lib/verify-ceiling.js';
import { type BenchDatabase, createBenchDatabase } from './lib/bench-database.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    connections: { type: 'string', default: '256' },
    'encrypted-connections': { type: 'string', default: '64' },
    warmup: { type: 'string' },
    'ceiling-duration': { type: 'string' },
    ballots3: { type: 'string' },
    ballots10: { type: 'string' },
    out: { type: 'string', default: fileURLToPath(new URL('./results/ingest-encrypted.json', import.meta.url)) },
  },
});
const QUICK = values.quick === true;
const DURATION = Number(values.duration ?? (QUICK ? 5 : 30));
const WARMUP = Number(values.warmup ?? (QUICK ? 1 : 3));
const CEILING_SECONDS = Number(values['ceiling-duration'] ?? (QUICK ? 2 : 5));
const CONNECTIONS = Number(values.connections);
const ENC_CONNECTIONS = Number(values['encrypted-connections']);
const CORES = availableParallelism();
// Enough fresh ballots for every run at rates well above those expected on 2 cores (a run that runs out
// stops early and says so; its rate stays a rate).
const N_PLAIN = Math.ceil((DURATION + WARMUP) * 10_000);
const N3 = Number(values.ballots3 ?? Math.ceil((DURATION + WARMUP) * 1500));
const N10 = Number(values.ballots10 ?? Math.ceil((DURATION + WARMUP) * 500));
const N_SKIP = Math.ceil((DURATION + WARMUP) * 10_000);
const TARGET_3 = 1000;

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const log = (s: string) => process.stderr.write(s + '\n');
const round = (x: number, d = 1) => Number(x.toFixed(d));
const ballotsUrl = (base: string, electionId: string) => `${base}/api/v1/elections/${electionId}/ballots`;
const PLAIN = 'bench-plain';
const ENC3 = 'bench-enc-3';
const ENC10 = 'bench-enc-10';
const SKIP3 = 'bench-enc-3-skip';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The proof checks alone: the ingest's ProofPool on every core, kept full for `seconds`. */
async function proofChecksAlone(context: EncryptedElectionContext, bodies: Buffer[], seconds: number) {
  const texts = bodies.slice(0, 2000).map((b) => jcs((JSON.parse(b.toString()) as EncryptedSubmission).ballot));
  const pool = new ProofPool({ threads: CORES });
  try {
    // Threads started and warm.
    await Promise.all(texts.slice(0, 4 * CORES).map((t) => pool.check(context, t)));
    let checked = 0;
    let next = 0;
    const cpu0 = ownCpuSeconds();
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    const worker = async () => {
      while (performance.now() < deadline) {
        const problem = await pool.check(context, texts[next++ % texts.length]!);
        if (problem) throw new Error(`a bench ballot failed its proof check: ${problem.message}`);
        checked++;
      }
    };
    // Enough in flight that a thread never waits for the next batch.
    await Promise.all(Array.from({ length: 16 * CORES }, worker));
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = ownCpuSeconds() - cpu0;
    return {
      ballotsPerSecond: Math.round(checked / elapsed),
      cpuMsPerBallot: round((1000 * cpu) / checked, 2),
      threads: CORES,
      checked,
      seconds: round(elapsed, 2),
    };
  } finally {
    await pool.close();
  }
}

/** µs per call of the core's group operations (libsodium), one thread, nothing else of the bench running. */
function groupOperationMicros() {
  const time = (f: (i: number) => unknown, ms = 300) => {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < ms) for (let k = 0; k < 50; k++) f(n++);
    return round(((performance.now() - t0) * 1000) / n, 1);
  };
  const points = Array.from({ length: 64 }, (_, i) => mulBase(BigInt(i + 2) * 7919n));
  const scalars = points.map((_, i) => hashToScalar('bench', { i }));
  const encoded = points.map((p) => p.toString('hex'));
  return {
    variableBaseMul: time((i) => mul(scalars[i % 64]!, points[(i + 1) % 64]!)),
    baseMul: time((i) => mulBase(scalars[i % 64]!)),
    elementCheck: time((i) => elementFromHex(encoded[i % 64]!)),
  };
}

/**
 * Group operations one ballot's check costs, for one contest of `k` choices with `b` range branches
 * (encryptedBallotProblem): per choice, two element checks and a two-branch proof (each branch s·G, c·α,
 * s·H, c·(β − v·G)); the contest's proof, b branches; and the election key checked once.
 */
function groupOperationsPerBallot(k: number, b: number) {
  return { variableBaseMul: 6 * k + 3 * b, baseMul: 2 * k + b, elementCheck: 2 * k + 1 };
}

interface RunResult {
  ballotsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  seconds: number;
  accepted: number;
  otherStatuses: Record<string, number>;
  socketErrors: number;
  ranOutOfBallots: boolean;
  /** CPU seconds during the measured run. */
  cpuSeconds: Record<string, number>;
  sent: number;
}

/**
 * Waits until the API has answered everything sent before: autocannon stops at its deadline without
 * waiting for the requests in flight, which the API still verifies and commits. A resubmission goes through
 * the same queues (signature, proofs, commit), in order, so its answer comes after theirs.
 */
async function drain(url: string, body: Buffer): Promise<void> {
  const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: body.toString() };
  const r = await fetch(url, init);
  await r.text();
  if (r.status !== 200 && r.status !== 201) throw new Error(`drain: ${r.status}`);
}

/** Warm-up and drain, then the measured run (and a drain): autocannon, every request a new ballot. */
async function httpRun(
  apiUrl: string,
  apiPid: number,
  electionId: string,
  ballots: BenchBallots,
  connections: number,
): Promise<RunResult> {
  const url = ballotsUrl(apiUrl, electionId);
  const warm = await drive(url, ballots.bodies, 0, { duration: WARMUP, connections });
  await drain(url, ballots.bodies[0]!);
  const start = warm.used;
  if (start >= ballots.bodies.length) throw new Error(`${electionId}: the warm-up used every ballot`);
  const meter = cpuMeter({
    api: () => processCpuSeconds(apiPid),
    loadGenerator: ownCpuSeconds,
    postgres: postgresCpuSeconds,
  });
  const main = await drive(url, ballots.bodies, start, { duration: DURATION, connections });
  const cpuSeconds = meter.stop();
  await drain(url, ballots.bodies[0]!);
  const accepted = main.statuses[201] ?? 0;
  const latencies = main.latenciesMs.slice().sort((a, b) => a - b);
  const ranOut = start + main.used >= ballots.bodies.length;
  if (ranOut) log(`  ${electionId}: ran out of ballots after ${round(main.seconds, 2)} s (pass a larger --ballots*)`);
  return {
    ballotsPerSecond: Math.round(accepted / main.seconds),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    seconds: round(main.seconds, 2),
    accepted,
    otherStatuses: Object.fromEntries(Object.entries(main.statuses).filter(([s]) => s !== '201')),
    socketErrors: main.errors,
    ranOutOfBallots: ranOut,
    cpuSeconds,
    sent: start + main.used,
  };
}

/** Starts a child process that prints its URL; resolves with it and the process. */
async function startApi(args: string[], env: Record<string, string>, pattern: RegExp, what: string) {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const url = await waitForUrl(child, pattern, what);
  return { child, url };
}

// ---------------------------------------------------------------------------------------------------

const tmp = mkdtempSync(join(tmpdir(), 'tallyproof-bench-enc-'));
const children: ChildProcess[] = [];
let bench: BenchDatabase | null = null;

try {
  // Fixed: the manifests' hashes, hence the election keys and the cached ballots, stay the same.
  const ledgerKey = ledgerKeyFromSeed(Buffer.alloc(32, 0x5e));
  const manifests = {
    enc3: encryptedBenchManifest(ENC3, benchContest(3), ledgerKey.publicKeyHex),
    enc10: encryptedBenchManifest(ENC10, benchContest(10), ledgerKey.publicKeyHex),
    skip3: encryptedBenchManifest(SKIP3, benchContest(3), ledgerKey.publicKeyHex),
  };
  const ceremonies = {
    enc3: benchCeremony(manifests.enc3),
    enc10: benchCeremony(manifests.enc10),
    skip3: benchCeremony(manifests.skip3),
  };
  const plain = await presign(N_PLAIN, PLAIN);
  const enc3 = await encryptedBallots(ceremonies.enc3.context, N3);
  const enc10 = await encryptedBallots(ceremonies.enc10.context, N10);
  const template = JSON.parse(enc3.bodies[0]!.toString()) as EncryptedSubmission;
  const skip3 = await resignedBallots(SKIP3, template, N_SKIP);

  bench = await createBenchDatabase({ prefix: 'tp_bench_enc', tmp, log });
  const dbUrl = bench.url;
  const db = await openLedgerDatabase({ url: dbUrl, dataDir: tmp, max: 4 });
  await migrateQueueSchema(dbUrl); // the API's queue when REDIS_URL is unset

  log('creating the elections and posting the key ceremonies…');
  const plainManifest: Manifest = normalizeManifest(
    {
      version: 1,
      electionId: PLAIN,
      title: 'Encrypted ingest bench (plaintext)',
      opensAt: '2026-01-01T00:00:00.000Z',
      closesAt: '2099-01-01T00:00:00.000Z',
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
    },
    ledgerKey.publicKeyHex,
  );
  const sorted = (keys: Buffer[]) => keys.slice().sort(Buffer.compare);
  await createElection(db.app, plainManifest, sorted(plain.credentials));
  for (const [key, ballots] of [
    ['enc3', enc3],
    ['enc10', enc10],
    ['skip3', skip3],
  ] as const) {
    const { manifest } = ceremonies[key].context;
    await createElection(db.app, manifest, sorted(ballots.credentials));
    for (const envelope of ceremonies[key].envelopes) {
      const o = await postTrusteeMessage(db.app, manifest.electionId, envelope);
      if (o.kind !== 'accepted') throw new Error(`${manifest.electionId}: the board refused ${JSON.stringify(o)}`);
    }
  }

  log(`measuring the raw verify ceiling (node:crypto, all cores, ${CEILING_SECONDS} s)…`);
  const verifyCeiling = await measureVerifyCeiling(CEILING_SECONDS * 1000);
  log(`measuring the proof checks alone (ProofPool, ${CORES} threads, ${CEILING_SECONDS} s each)…`);
  const proofs3 = await proofChecksAlone(ceremonies.enc3.context, enc3.bodies, CEILING_SECONDS);
  const proofs10 = await proofChecksAlone(ceremonies.enc10.context, enc10.bodies, CEILING_SECONDS);
  log('measuring the group operations (one thread)…');
  const groupMicros = groupOperationMicros();
  /** The ms of group arithmetic in one ballot's check, and its share of the CPU a check costs. */
  const groupPart = (k: number, alone: { cpuMsPerBallot: number }) => {
    const ops = groupOperationsPerBallot(k, 1);
    const ms =
      (ops.variableBaseMul * groupMicros.variableBaseMul +
        ops.baseMul * groupMicros.baseMul +
        ops.elementCheck * groupMicros.elementCheck) /
      1000;
    return { operations: ops, groupMs: round(ms, 2), shareOfCheck: round(ms / alone.cpuMsPerBallot, 3) };
  };
  const group3 = groupPart(3, proofs3);
  const group10 = groupPart(10, proofs10);

  const apiEnv = {
    DATABASE_URL: db.appUrl, // the application role, as in production
    TALLYPROOF_DATA_DIR: tmp,
    LEDGER_KEY_SEED: ledgerKey.seed.toString('hex'),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    RATE_LIMITS: 'off', // a load test from one address
    ADMIN_TOKEN: '',
  };
  log('starting the API (api/src/server.ts)…');
  const api = await startApi(
    ['--max-semi-space-size=64', '--import', 'tsx', join(ROOT, 'api/src/server.ts')],
    apiEnv,
    /listening on (http:\/\/\S+)/,
    'API',
  );
  log(`plaintext: ${CONNECTIONS} connections, ${WARMUP} s warm-up, ${DURATION} s…`);
  const plainRun = await httpRun(api.url, api.child.pid!, PLAIN, plain, CONNECTIONS);
  log(`encrypted, 3 choices: ${ENC_CONNECTIONS} connections…`);
  const run3 = await httpRun(api.url, api.child.pid!, ENC3, enc3, ENC_CONNECTIONS);
  log('encrypted, 10 choices…');
  const run10 = await httpRun(api.url, api.child.pid!, ENC10, enc10, ENC_CONNECTIONS);
  await stopChild(api.child);

  log('starting the API with proofs skipped (bench/lib/skip-proofs-api.ts)…');
  const skipApi = await startApi(
    ['--max-semi-space-size=64', '--import', 'tsx', join(ROOT, 'bench/lib/skip-proofs-api.ts')],
    apiEnv,
    /listening on (http:\/\/\S+)/,
    'skip-proofs API',
  );
  log(`encrypted, 3 choices, proofs skipped: ${CONNECTIONS} connections…`);
  // As many connections as the plaintext run: without the proofs the path is as quick, and 64 connections
  // would cap it at 64 ÷ the commit latency.
  const runSkip = await httpRun(skipApi.url, skipApi.child.pid!, SKIP3, skip3, CONNECTIONS);
  await stopChild(skipApi.child);

  // Durable: every 201 is a row, and no more rows than ballots sent.
  const durable: Record<string, { ballotsInLedger: number; acknowledged201AtLeast: number; sent: number }> = {};
  for (const [id, run] of [
    [PLAIN, plainRun],
    [ENC3, run3],
    [ENC10, run10],
    [SKIP3, runSkip],
  ] as const) {
    const [row] = await db.admin`SELECT count(*)::int AS n FROM ballots WHERE election_id = ${id}`;
    const n = Number(row!.n);
    if (n < run.accepted || n > run.sent)
      throw new Error(`${id}: the ledger holds ${n} ballots; ${run.accepted} were acknowledged and ${run.sent} sent`);
    durable[id] = { ballotsInLedger: n, acknowledged201AtLeast: run.accepted, sent: run.sent };
  }
  await db.close();

  /** The proof checks' share of the machine's cores during a run, from the CPU they cost alone. */
  const proofShare = (run: RunResult, cpuMsPerBallot: number) =>
    round((run.accepted * cpuMsPerBallot) / 1000 / (run.seconds * CORES), 3);
  const share = (run: RunResult) =>
    Object.fromEntries(
      Object.entries(run.cpuSeconds).map(([k, s]) => [k, round(s / (run.seconds * CORES), 3)]),
    ) as Record<string, number>;
  /**
   * CPU ms per committed ballot of each process, and the rate the API and PostgreSQL would reach with the
   * cores to themselves (derived; robust to other work on a shared machine, which the rates are not).
   */
  const perBallot = (run: RunResult) => {
    const ms = Object.fromEntries(
      Object.entries(run.cpuSeconds).map(([k, sec]) => [k, round((1000 * sec) / run.accepted, 3)]),
    ) as Record<string, number>;
    const serverMs = (ms.api ?? 0) + Math.max(0, ms.postgres ?? 0);
    return { cpuMsPerBallot: ms, coresToItselfPerSecondDerived: Math.round((CORES * 1000) / serverMs) };
  };
  const withCpu = (run: RunResult) => ({ ...run, coreShare: share(run), ...perBallot(run) });
  const encrypted = (run: RunResult, alone: typeof proofs3) => {
    const cpu = perBallot(run);
    return {
      ...run,
      ratioToPlaintext: round(run.ballotsPerSecond / plainRun.ballotsPerSecond, 3),
      ratioToProofChecksAlone: round(run.ballotsPerSecond / alone.ballotsPerSecond, 3),
      coreShare: { ...share(run), proofChecks: proofShare(run, alone.cpuMsPerBallot) },
      ...cpu,
      /** The proof checks' part of the API's CPU per ballot (their CPU measured alone). */
      proofChecksShareOfApiCpu: round(alone.cpuMsPerBallot / (cpu.cpuMsPerBallot.api ?? Number.NaN), 3),
    };
  };
  // A validation stage after the 201 shares the same cores with the ingest: sustained, each ballot costs
  // its ingest and its proof checks (derived from the two measured rates, not measured as one).
  const sustainedPost201 = Math.round(1 / (1 / runSkip.ballotsPerSecond + 1 / proofs3.ballotsPerSecond));
  const result = {
    quick: QUICK,
    plaintext: withCpu(plainRun),
    encrypted3: encrypted(run3, proofs3),
    encrypted10: encrypted(run10, proofs10),
    proofChecksAlone: {
      choices3: { ...proofs3, groupArithmetic: group3 },
      choices10: { ...proofs10, groupArithmetic: group10 },
      groupOperationMicros: groupMicros,
    },
    alternativePost201Validation: {
      measured:
        'ingest with the proofs skipped (bench/lib/skip-proofs-api.ts, a bench-only process) and the proof checks alone, apart',
      ingestWithoutProofs3: withCpu(runSkip),
      proofChecksAlone3PerSecond: proofs3.ballotsPerSecond,
      sustainedPerSecondDerived: sustainedPost201,
    },
    verifyCeilingPerSecond: Math.round(verifyCeiling),
    durableCheck: durable,
    targets: { encrypted3PerSecond: TARGET_3, met: run3.ballotsPerSecond >= TARGET_3 },
    setup:
      'API child process (api/src/server.ts, defaults: verify threads = cores, proof threads = cores, app pool 10), ' +
      'autocannon in the bench process, PostgreSQL on the same machine; all share the cores below ' +
      '(coreShare.postgres counts every postgres process of the machine). ' +
      'One contest, exactly one choice selected (range proof of one branch).',
    connections: { plaintext: CONNECTIONS, encrypted: ENC_CONNECTIONS },
    warmupSeconds: WARMUP,
    cores: CORES,
    cpu: cpus()[0]?.model ?? 'unknown',
    loadAverageAtEnd: loadavg().map((x) => round(x, 2)),
    database: process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded',
    node: process.version,
    at: new Date().toISOString(),
  };

  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const line = (label: string, r: RunResult) =>
    `  ${label.padEnd(38)} ${String(r.ballotsPerSecond).padStart(6)} ballots/s  p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms` +
    (Object.keys(r.otherStatuses).length ? `  other statuses ${JSON.stringify(r.otherStatuses)}` : '') +
    (r.ranOutOfBallots ? '  (ran out of ballots)' : '');
  const cpuLine = (
    r: RunResult & {
      coreShare: Record<string, number>;
      cpuMsPerBallot: Record<string, number>;
      coresToItselfPerSecondDerived: number;
    },
  ) =>
    `      cores: ${Object.entries(r.coreShare)
      .map(([k, v]) => `${k} ${pct(v)}`)
      .join(', ')}; CPU per ballot: ${Object.entries(r.cpuMsPerBallot)
      .map(([k, v]) => `${k} ${v} ms`)
      .join(', ')} (API + PostgreSQL with the cores to themselves ≈ ${r.coresToItselfPerSecondDerived}/s)`;
  console.log(
    `Encrypted ingest over HTTP${QUICK ? ' (--quick)' : ''}: ${DURATION} s per run, ${CORES} cores, ` +
      `${CONNECTIONS} connections (plaintext) and ${ENC_CONNECTIONS} (encrypted)`,
  );
  console.log(line('plaintext (v1), 3 choices', plainRun));
  console.log(cpuLine(result.plaintext));
  console.log(
    `${line('encrypted, 3 choices', run3)}  → ${pct(result.encrypted3.ratioToPlaintext)} of plaintext, ` +
      `${pct(result.encrypted3.ratioToProofChecksAlone)} of the proof checks alone`,
  );
  console.log(cpuLine(result.encrypted3));
  console.log(
    `${line('encrypted, 10 choices', run10)}  → ${pct(result.encrypted10.ratioToPlaintext)} of plaintext, ` +
      `${pct(result.encrypted10.ratioToProofChecksAlone)} of the proof checks alone`,
  );
  console.log(cpuLine(result.encrypted10));
  console.log(
    `  ceilings in this run: raw verify ${result.verifyCeilingPerSecond}/s; proof checks alone (ProofPool, ${CORES} threads): ` +
      `3 choices ${proofs3.ballotsPerSecond}/s (${proofs3.cpuMsPerBallot} ms CPU each), ` +
      `10 choices ${proofs10.ballotsPerSecond}/s (${proofs10.cpuMsPerBallot} ms CPU each)`,
  );
  console.log(
    `  group arithmetic (libsodium): ${groupMicros.variableBaseMul} µs per variable-base multiplication, ` +
      `${groupMicros.baseMul} µs per base multiplication, ${groupMicros.elementCheck} µs per element check; ` +
      `a 3-choice check needs ${group3.operations.variableBaseMul} + ${group3.operations.baseMul} + ` +
      `${group3.operations.elementCheck} of them, ${group3.groupMs} ms = ${pct(group3.shareOfCheck)} of its CPU ` +
      `(10 choices: ${group10.groupMs} ms = ${pct(group10.shareOfCheck)})`,
  );
  console.log(line('encrypted, 3 choices, proofs skipped', runSkip));
  console.log(cpuLine(result.alternativePost201Validation.ingestWithoutProofs3));
  console.log(
    `  alternative (validation after the 201): ingest with proofs skipped ${runSkip.ballotsPerSecond}/s (3 choices), ` +
      `proof checks alone ${proofs3.ballotsPerSecond}/s; sustained when both share the cores ≈ ${sustainedPost201}/s (derived)`,
  );

  console.log(
    `  what limits the encrypted ingest: the proof checks, ${pct(result.encrypted3.proofChecksShareOfApiCpu)} of ` +
      `the API's CPU per ballot at 3 choices and ${pct(result.encrypted10.proofChecksShareOfApiCpu)} at 10 ` +
      `(${pct(result.encrypted3.coreShare.proofChecks)} and ${pct(result.encrypted10.coreShare.proofChecks)} of ` +
      `the cores' time: ballots committed × CPU per check measured alone), and in a check the group arithmetic`,
  );
  console.log(
    `  target ≥ ${TARGET_3} encrypted ballots/s at 3 choices: ${result.targets.met ? 'met' : 'not met'} (${run3.ballotsPerSecond}/s)`,
  );
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(values.out!, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  for (const c of children) await stopChild(c).catch(() => {});
  await bench?.close();
  rmSync(tmp, { recursive: true, force: true });
}
