// tallyproof-verify audit throughput, in two parts, both in file mode, anchored on anvil, audited with
// worker threads on all cores:
//   - plaintext: a 100,000-ballot election; next to it, in the same run, the raw Ed25519 verify rate on
//     all cores (strict encoding checks + JWK key import + crypto.verify, nothing else), and the ratio
//     audit time / signatures-alone time (target <= 1.3). Writes bench/results/verify.json.
//   - encrypted (wire format v2): 100,000 encrypted ballots of one contest of 3 choices (exactly one
//     selected), 3 trustees, threshold 2; next to it, in the same run, the proof checks alone on all cores
//     (checkBallotV2 over ballots already parsed: points, scalars, every disjunctive proof — what the audit
//     runs per ballot, nothing else), and the ratio audit time / proofs-alone time (target <= 1.3). The
//     audit also checks signatures, hashes, the transcript, sums the aggregate, checks the partial
//     decryptions and recombines the counts. The ballots are generated once by the verifier's test prover
//     on all cores and cached in the OS temp dir. Writes bench/results/verify-encrypted.json.
// The machine may be shared: ceiling and audit runs alternate for --rounds rounds and the best time of
// each is kept (every sample is recorded too).
//   npx tsx bench/verify.ts [--ballots N] [--encrypted-ballots N] [--part plaintext|encrypted|both]
//                           [--window N] [--threads N] [--rounds N] [--quick]
// --quick: 2,000 ballots of each kind (unless given), for trying; the default run is the one to report.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { Wallet } from 'ethers';
import { deployTallyAnchor, tallyAnchor } from '../contracts/index.js';
import { anvilProvider, startAnvil, type AnvilNode } from '../test/support/anvil.js';
import { WorkerPool } from '../worker-pool/src/index.js';
import { workerSource } from '../worker-pool/src/source.js';
import { runAudit } from '../verifier-cli/src/audit/audit.js';
import { FileSource } from '../verifier-cli/src/sources/files.js';
import { emptySums } from '../verifier-cli/src/v2/aggregate.js';
import { ballotV2Context } from '../verifier-cli/src/v2/ballot.js';
import { aggregateJson, jcsHash } from '../verifier-cli/src/v2/decryption.js';
import { addInto, pointHex, sodiumNativePath } from '../verifier-cli/src/v2/group.js';
import type { ManifestV2 } from '../verifier-cli/src/v2/manifest.js';
import {
  buildElection,
  electionKeyOf,
  manifestHashHex,
  mth,
  resultHashHex,
  rollRootHex,
  writeElectionFiles,
} from '../verifier-cli/test/support/election.js';
import {
  decryptMessage,
  rowLineV2,
  selectionsFor,
  setUpEncryptedElection,
  THREE_CHOICES,
  type TestManifestV2,
  type TestTally,
} from '../verifier-cli/test/v2-support/election.js';
import type { GenerateResult, GenerateTask } from './lib/verify-encrypted.worker.js';

const { values } = parseArgs({
  options: {
    ballots: { type: 'string' },
    'encrypted-ballots': { type: 'string' },
    part: { type: 'string', default: 'both' },
    quick: { type: 'boolean', default: false },
    window: { type: 'string', default: '1000' },
    threads: { type: 'string', default: String(availableParallelism()) },
    rounds: { type: 'string', default: '2' },
  },
});
const QUICK_BALLOTS = 2000;
const N = Number(values.ballots ?? (values.quick ? QUICK_BALLOTS : 100_000));
const ENCRYPTED_N = Number(values['encrypted-ballots'] ?? (values.quick ? QUICK_BALLOTS : 100_000));
const PART = values.part;
if (PART !== 'plaintext' && PART !== 'encrypted' && PART !== 'both')
  throw new Error('--part is plaintext, encrypted or both');
const WINDOW = Number(values.window);
const THREADS = Number(values.threads);
const ROUNDS = Math.max(1, Number(values.rounds));
const log = (s: string): void => void process.stderr.write(s + '\n');
const seconds = (ms: number): number => Math.round(ms) / 1000;
/** CPU time of this process (all its threads) from a process.cpuUsage() delta, in ms. */
const cpuMs = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1000;
const load1 = (): number => Math.round(loadavg()[0]! * 100) / 100;

// The raw ceiling: what verifying the signatures alone costs on the same cores. Same strict checks as
// the verifier (S < L, canonical R and key, neither of small order), same JWK import, crypto.verify.
const RAW_WORKER = `
const { parentPort } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const L = Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex');
const SMALL = new Set(${JSON.stringify([
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
])});
const canonicalPoint = (p) => { if ((p[31] & 0x7f) !== 0x7f || p[0] < 0xed) return true; for (let i = 1; i < 31; i++) if (p[i] !== 0xff) return true; return false; };
const scalarOk = (s) => { for (let i = 31; i >= 0; i--) { if (s[i] < L[i]) return true; if (s[i] > L[i]) return false; } return false; };
let jobs;
parentPort.on('message', (m) => {
  if (m.jobs) { jobs = m.jobs.map(([k, msg, sig]) => [Buffer.from(k, 'hex'), Buffer.from(msg, 'utf8'), Buffer.from(sig, 'hex')]); parentPort.postMessage('loaded'); return; }
  let ok = 0;
  for (const [key, msg, sig] of jobs) {
    const r = sig.subarray(0, 32);
    if (!canonicalPoint(key) || SMALL.has(key.toString('hex')) || !canonicalPoint(r) || SMALL.has(r.toString('hex')) || !scalarOk(sig.subarray(32))) continue;
    const ko = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.toString('base64url') }, format: 'jwk' });
    if (verify(null, msg, ko, sig)) ok++;
  }
  parentPort.postMessage(ok);
});
`;

async function rawVerifyMs(
  jobs: [string, string, string][],
  threads: number,
): Promise<{ ms: number; cpuMs: number; valid: number }> {
  const workers = Array.from({ length: threads }, () => new Worker(RAW_WORKER, { eval: true }));
  try {
    const share = Math.ceil(jobs.length / threads);
    await Promise.all(
      workers.map((w, i) => {
        w.postMessage({ jobs: jobs.slice(i * share, (i + 1) * share) });
        return new Promise((resolve) => w.once('message', resolve));
      }),
    );
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const counts = await Promise.all(
      workers.map((w) => {
        w.postMessage('go');
        return new Promise<number>((resolve) => w.once('message', resolve));
      }),
    );
    const ms = performance.now() - t0;
    return { ms, cpuMs: cpuMs(process.cpuUsage(cpu0)), valid: counts.reduce((a, b) => a + b, 0) };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Writes bench/results/<name>, except for a --quick run, which is for trying and leaves the figures alone. */
function writeResults(name: string, result: unknown): void {
  if (values.quick) {
    console.log(`--quick: bench/results/${name} left as it was`);
    return;
  }
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`./results/${name}`, import.meta.url), JSON.stringify(result, null, 2) + '\n');
  console.log(`written bench/results/${name}`);
}

/** The plaintext part: writes bench/results/verify.json. */
async function plaintextBench(chain: AnvilNode, dir: string): Promise<void> {
  log(`building a ${N}-ballot election (node:crypto signing)…`);
  let t = performance.now();
  const sizes = Array.from({ length: Math.ceil(N / WINDOW) }, (_, i) => Math.min(WINDOW, N - i * WINDOW));
  const e = buildElection({ electionId: 'bench-verify', voters: N, windowSizes: sizes, signer: 'node' });
  const files = writeElectionFiles(join(dir, 'election'), e);
  const buildMs = performance.now() - t;

  log(`anchoring ${sizes.length} windows of up to ${WINDOW} ballots on anvil…`);
  t = performance.now();
  const wallet = new Wallet(chain.accounts[0]!.privateKey, anvilProvider(chain));
  const address = (await deployTallyAnchor(wallet)).address;
  const anchor = tallyAnchor(address, wallet);
  const key = electionKeyOf(e.electionId);
  // Batch the transactions: send them all with explicit nonces, then wait for the last one.
  let nonce = await wallet.getNonce();
  const sent = [
    await anchor.registerElection(key, `0x${manifestHashHex(e.manifest)}`, `0x${rollRootHex(e.roll)}`, {
      nonce: nonce++,
    }),
  ];
  for (const w of e.windows)
    sent.push(await anchor.anchorWindow(key, w.index, w.firstSeq, w.count, `0x${w.root}`, { nonce: nonce++ }));
  sent.push(await anchor.closeElection(key, `0x${resultHashHex(e.electionId, e.tally, N)}`, N, { nonce: nonce++ }));
  for (const tx of sent) await tx.wait();
  const anchorMs = performance.now() - t;

  const jobs = e.rows.map(
    (r) => [r.ballot.credential, `tallyproof:ballot:v1:${r.ballotText}`, r.signature] as [string, string, string],
  );
  const rawSamples: number[] = [];
  const auditSamples: number[] = [];
  // CPU time of the process over each sample (all threads): on a shared machine, where wall times swing
  // with the other load, the CPU ratio shows the work the audit adds, and the 1-minute load average at
  // the start of each sample shows how shared the cores were.
  const rawCpuSamples: number[] = [];
  const auditCpuSamples: number[] = [];
  const loadSamples: { raw: number; audit: number }[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    log(`round ${round}/${ROUNDS}: raw Ed25519 verify of ${N} signatures on ${THREADS} threads…`);
    const rawLoad = load1();
    const raw = await rawVerifyMs(jobs, THREADS);
    if (raw.valid !== N) throw new Error(`raw verify: ${raw.valid} of ${N} valid`);
    rawSamples.push(raw.ms);
    rawCpuSamples.push(raw.cpuMs);

    log(`round ${round}/${ROUNDS}: audit on ${THREADS} threads…`);
    const auditLoad = load1();
    loadSamples.push({ raw: rawLoad, audit: auditLoad });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const report = await runAudit({
      electionId: e.electionId,
      source: new FileSource(files),
      rpcUrl: chain.rpcUrl,
      contract: address,
      engine: 'node',
      threads: THREADS,
    });
    auditSamples.push(performance.now() - t0);
    auditCpuSamples.push(cpuMs(process.cpuUsage(cpu0)));
    log(
      `round ${round}/${ROUNDS}: raw ${seconds(raw.ms)} s, audit ${seconds(auditSamples.at(-1)!)} s (ratio ${(auditSamples.at(-1)! / raw.ms).toFixed(2)}; CPU ${seconds(raw.cpuMs)} s vs ${seconds(auditCpuSamples.at(-1)!)} s)`,
    );
    if (report.verdict !== 'pass' || report.ledger.rows !== N) {
      throw new Error(`the bench election did not pass its audit: ${JSON.stringify(report.findings.slice(0, 5))}`);
    }
  }
  const raw = { ms: Math.min(...rawSamples) };
  const auditMs = Math.min(...auditSamples);

  const ratio = auditMs / raw.ms;
  const result = {
    bench: 'verify',
    date: new Date().toISOString(),
    setup: {
      ballots: N,
      windows: sizes.length,
      windowSize: WINDOW,
      threads: THREADS,
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      chain: 'anvil (automine), same machine',
      ledgerBytes: statSync(files.ledger).size,
      rounds: ROUNDS,
      loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
    },
    audit: {
      seconds: seconds(auditMs),
      ballotsPerSecond: Math.round(N / (auditMs / 1000)),
      samplesSeconds: auditSamples.map(seconds),
      cpuSamplesSeconds: auditCpuSamples.map(seconds),
    },
    rawEd25519Verify: {
      seconds: seconds(raw.ms),
      perSecond: Math.round(N / (raw.ms / 1000)),
      threads: THREADS,
      samplesSeconds: rawSamples.map(seconds),
      cpuSamplesSeconds: rawCpuSamples.map(seconds),
    },
    ratioAuditToSignatures: Math.round(ratio * 100) / 100,
    /** Each round's audit time over the same round's raw time (the two run back to back). */
    ratioSamples: auditSamples.map((a, i) => Math.round((a / rawSamples[i]!) * 100) / 100),
    /** Best audit CPU time over best raw CPU time (process CPU, all threads). */
    cpuRatioAuditToSignatures: Math.round((Math.min(...auditCpuSamples) / Math.min(...rawCpuSamples)) * 100) / 100,
    loadAverage1mSamples: loadSamples,
    target: 1.3,
    meetsTarget: ratio <= 1.3,
    preparation: { buildSeconds: seconds(buildMs), anchorSeconds: seconds(anchorMs) },
  };
  writeResults('verify.json', result);
  console.log(
    `audit:         ${N} ballots in ${result.audit.seconds} s = ${result.audit.ballotsPerSecond} ballots/s (${THREADS} threads, best of ${ROUNDS})`,
  );
  console.log(
    `raw verify:    ${result.rawEd25519Verify.perSecond} signatures/s on ${THREADS} threads (${result.rawEd25519Verify.seconds} s, best of ${ROUNDS})`,
  );
  console.log(
    `ratio:         audit / signatures alone = ${result.ratioAuditToSignatures} (target <= 1.3: ${result.meetsTarget ? 'met' : 'NOT met'})`,
  );
  console.log(
    `per round:     ${result.ratioSamples.join(', ')}; CPU ratio (best/best) ${result.cpuRatioAuditToSignatures}`,
  );
}

// ---------------------------------------------------------------------------------------------
// The encrypted part
// ---------------------------------------------------------------------------------------------

const ENCRYPTED_ID = 'bench-verify-encrypted';
/** Ballots per generation task. */
const GENERATE_BATCH = 250;

interface CachedRow {
  seq: number;
  ballotHash: string;
  ballotText: string;
  signature: string;
  credential: string;
}

/**
 * The bench election's ballots: from the cache in the OS temp dir (named by the manifest hash, H and
 * the count: the election is deterministic), or generated on every core and cached.
 */
async function encryptedRows(
  manifest: TestManifestV2,
  publicKey: string,
  n: number,
): Promise<{ rows: CachedRow[]; sums: Uint8Array }> {
  const tag = createHash('sha256')
    .update(`${manifestHashHex(manifest)}/${publicKey}`)
    .digest('hex')
    .slice(0, 16);
  const file = join(tmpdir(), `tallyproof-bench-verify-encrypted-${tag}-${n}.ndjson`);
  const sumsFile = `${file}.sums`;
  if (existsSync(file) && existsSync(sumsFile)) {
    log(`using ${n} encrypted ballots from ${file}`);
    const rows = readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => JSON.parse(l) as CachedRow);
    return { rows, sums: new Uint8Array(readFileSync(sumsFile)) };
  }
  log(
    `generating ${n} encrypted ballots on ${THREADS} threads with the verifier's test prover (cached for later runs)…`,
  );
  const t0 = performance.now();
  const pool = new WorkerPool<GenerateTask, GenerateResult>({
    name: 'bench generate worker',
    entry: new URL('./lib/verify-encrypted.worker.ts', import.meta.url),
    threads: THREADS,
    workerData: { sodiumNative: sodiumNativePath() },
  });
  const sums = emptySums(manifest.contests.reduce((k, c) => k + c.choices.length, 0));
  const parts: string[] = [];
  try {
    const tasks: Promise<void>[] = [];
    let done = 0;
    for (let from = 0, t = 0; from < n; from += GENERATE_BATCH, t++) {
      const task: GenerateTask = { manifest, publicKey, from, to: Math.min(n, from + GENERATE_BATCH) };
      tasks.push(
        pool.run(task).then((r) => {
          parts[t] = r.lines;
          for (let p = 0; p < sums.length; p += 32) addInto(sums, p, r.sums, p);
          done += task.to - task.from;
          if (done % 10_000 < GENERATE_BATCH) log(`  ${done}/${n} (${seconds(performance.now() - t0)} s)`);
        }),
      );
    }
    await Promise.all(tasks);
  } finally {
    await pool.close();
  }
  const text = parts.join('\n');
  writeFileSync(file, text);
  writeFileSync(sumsFile, sums);
  log(`  generated in ${seconds(performance.now() - t0)} s`);
  return { rows: text.split('\n').map((l) => JSON.parse(l) as CachedRow), sums };
}

/** The proof checks alone, on `threads` plain workers, each with its share of the ballots already parsed. */
async function proofsAloneMs(
  texts: string[],
  context: ReturnType<typeof ballotV2Context>,
  threads: number,
): Promise<{ ms: number; cpuMs: number; valid: number }> {
  const source = await workerSource(new URL('./lib/verify-encrypted-proofs.worker.ts', import.meta.url), 'bundle');
  const workerData = { context, sodiumNative: sodiumNativePath() };
  const workers = Array.from({ length: threads }, () => new Worker(source, { workerData }));
  try {
    const share = Math.ceil(texts.length / threads);
    await Promise.all(
      workers.map((w, i) => {
        w.postMessage({ load: texts.slice(i * share, (i + 1) * share) });
        return new Promise((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        });
      }),
    );
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const counts = await Promise.all(
      workers.map((w) => {
        w.postMessage({ go: true });
        return new Promise<number>((resolve) => w.once('message', resolve));
      }),
    );
    const ms = performance.now() - t0;
    return { ms, cpuMs: cpuMs(process.cpuUsage(cpu0)), valid: counts.reduce((a, b) => a + b, 0) };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** The encrypted part: writes bench/results/verify-encrypted.json. */
async function encryptedBench(chain: AnvilNode, dir: string): Promise<void> {
  const n = ENCRYPTED_N;
  const setup = setUpEncryptedElection({
    electionId: ENCRYPTED_ID,
    voters: n,
    windowSizes: [],
    contests: THREE_CHOICES,
    seed: ENCRYPTED_ID,
    fixedTimes: true,
  });
  const manifest = setup.manifest as unknown as ManifestV2;
  const manifestHash = manifestHashHex(manifest);
  const publicKey = pointHex(setup.ceremony.publicKey);
  let t = performance.now();
  const { rows, sums } = await encryptedRows(setup.manifest, publicKey, n);
  const generateMs = performance.now() - t;
  if (rows.length !== n) throw new Error(`the cache holds ${rows.length} ballots, not ${n}`);

  log(`writing the encrypted election's files (aggregate, 2 of 3 trustees decrypting)…`);
  t = performance.now();
  const receivedAt = new Date().toISOString();
  const sizes = Array.from({ length: Math.ceil(n / WINDOW) }, (_, i) => Math.min(WINDOW, n - i * WINDOW));
  const windows = sizes.map((count, index) => {
    const firstSeq = index * WINDOW;
    const leaves = rows.slice(firstSeq, firstSeq + count).map((r) => Buffer.from(r.ballotHash, 'hex'));
    return { index, firstSeq, count, root: mth(leaves).toString('hex') };
  });
  const aggregate = aggregateJson(manifest, manifestHash, publicKey, { sums, totalBallots: n });
  const decrypts = setup.trustees.slice(0, 2).map((trustee) => decryptMessage(setup.manifest, trustee, aggregate));
  const tally: TestTally = Object.fromEntries(
    THREE_CHOICES.map((c) => [c.id, Object.fromEntries(c.choices.map((k) => [k.id, 0]))]),
  );
  for (let i = 0; i < n; i++)
    for (const [c, ks] of Object.entries(selectionsFor(i, THREE_CHOICES))) for (const k of ks) tally[c]![k]!++;
  const aggregateHash = jcsHash(aggregate);
  const roll = rows.map((r) => r.credential);
  const files = {
    ledger: join(dir, 'encrypted-ledger.ndjson'),
    manifest: join(dir, 'encrypted-manifest.json'),
    roll: join(dir, 'encrypted-roll.json'),
    results: join(dir, 'encrypted-results.json'),
    trusteeMessages: join(dir, 'encrypted-trustee-messages.json'),
    aggregate: join(dir, 'encrypted-aggregate.json'),
    decryption: join(dir, 'encrypted-decryption.json'),
  };
  writeFileSync(files.ledger, rows.map((r) => rowLineV2({ ...r, receivedAt })).join('\n') + '\n');
  writeFileSync(files.manifest, JSON.stringify(manifest));
  writeFileSync(files.roll, JSON.stringify(roll));
  const combined = setup.trustees.slice(0, 2).map((x) => x.id);
  writeFileSync(
    files.results,
    JSON.stringify({
      electionId: ENCRYPTED_ID,
      tally,
      totalBallots: n,
      anchoredBallots: n,
      asOfSeq: n - 1,
      contests: Object.fromEntries(THREE_CHOICES.map((c) => [c.id, { ballotsCounted: n, blank: null }])),
      ballotMode: 'encrypted',
      decryption: { status: 'complete', threshold: 2, received: combined, aggregateHash },
    }),
  );
  writeFileSync(
    files.trusteeMessages,
    JSON.stringify({
      electionId: ENCRYPTED_ID,
      threshold: manifest.threshold,
      trustees: manifest.trustees,
      publicKey,
      verificationKeys: Object.fromEntries([...setup.ceremony.verificationKeys].map(([id, x]) => [id, pointHex(x)])),
      keyCeremony: 'complete',
      messages: [...setup.ceremony.messages, ...decrypts],
      refused: [],
    }),
  );
  writeFileSync(files.aggregate, JSON.stringify(aggregate));
  writeFileSync(
    files.decryption,
    JSON.stringify({ version: 2, electionId: ENCRYPTED_ID, aggregateHash, trustees: combined, tally, totalBallots: n }),
  );
  const writeMs = performance.now() - t;

  log(`anchoring ${sizes.length} windows of up to ${WINDOW} encrypted ballots on anvil…`);
  t = performance.now();
  const wallet = new Wallet(chain.accounts[0]!.privateKey, anvilProvider(chain));
  const address = (await deployTallyAnchor(wallet)).address;
  const anchor = tallyAnchor(address, wallet);
  const key = electionKeyOf(ENCRYPTED_ID);
  let nonce = await wallet.getNonce();
  const sent = [await anchor.registerElection(key, `0x${manifestHash}`, `0x${rollRootHex(roll)}`, { nonce: nonce++ })];
  for (const w of windows)
    sent.push(await anchor.anchorWindow(key, w.index, w.firstSeq, w.count, `0x${w.root}`, { nonce: nonce++ }));
  sent.push(await anchor.closeElection(key, `0x${resultHashHex(ENCRYPTED_ID, tally, n)}`, n, { nonce: nonce++ }));
  for (const tx of sent) await tx.wait();
  const anchorMs = performance.now() - t;

  const context = ballotV2Context(manifest, manifestHash, publicKey);
  const texts = rows.map((r) => r.ballotText);
  const proofSamples: number[] = [];
  const auditSamples: number[] = [];
  const proofCpuSamples: number[] = [];
  const auditCpuSamples: number[] = [];
  const loadSamples: { proofs: number; audit: number }[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    log(`round ${round}/${ROUNDS}: the proof checks alone of ${n} encrypted ballots on ${THREADS} threads…`);
    const proofsLoad = load1();
    const alone = await proofsAloneMs(texts, context, THREADS);
    if (alone.valid !== n) throw new Error(`proofs alone: ${alone.valid} of ${n} valid`);
    proofSamples.push(alone.ms);
    proofCpuSamples.push(alone.cpuMs);

    log(`round ${round}/${ROUNDS}: the encrypted audit on ${THREADS} threads…`);
    const auditLoad = load1();
    loadSamples.push({ proofs: proofsLoad, audit: auditLoad });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const report = await runAudit({
      electionId: ENCRYPTED_ID,
      source: new FileSource(files),
      rpcUrl: chain.rpcUrl,
      contract: address,
      engine: 'node',
      threads: THREADS,
    });
    auditSamples.push(performance.now() - t0);
    auditCpuSamples.push(cpuMs(process.cpuUsage(cpu0)));
    log(
      `round ${round}/${ROUNDS}: proofs alone ${seconds(alone.ms)} s, audit ${seconds(auditSamples.at(-1)!)} s (ratio ${(auditSamples.at(-1)! / alone.ms).toFixed(2)}; CPU ${seconds(alone.cpuMs)} s vs ${seconds(auditCpuSamples.at(-1)!)} s)`,
    );
    if (report.verdict !== 'pass' || report.ledger.rows !== n || report.encryption?.aggregate !== 'matches') {
      throw new Error(
        `the encrypted bench election did not pass its audit: ${JSON.stringify(report.findings.slice(0, 5))}`,
      );
    }
    if (JSON.stringify(report.recount?.tally) !== JSON.stringify(tally))
      throw new Error('the encrypted audit decrypted another tally');
  }
  const proofsMs = Math.min(...proofSamples);
  const auditMs = Math.min(...auditSamples);
  const ratio = auditMs / proofsMs;
  const result = {
    bench: 'verify-encrypted',
    date: new Date().toISOString(),
    setup: {
      ballots: n,
      contest: '1 contest of 3 choices, exactly 1 selected (3 choice proofs of 2 branches, 1 contest proof of 1)',
      trustees: '3, threshold 2, decrypted by 2',
      windows: sizes.length,
      windowSize: WINDOW,
      threads: THREADS,
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      group: 'edwards25519 prime-order subgroup, libsodium (sodium-native)',
      chain: 'anvil (automine), same machine',
      ledgerBytes: statSync(files.ledger).size,
      rounds: ROUNDS,
      loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
    },
    audit: {
      seconds: seconds(auditMs),
      ballotsPerSecond: Math.round(n / (auditMs / 1000)),
      samplesSeconds: auditSamples.map(seconds),
      cpuSamplesSeconds: auditCpuSamples.map(seconds),
    },
    proofChecksAlone: {
      seconds: seconds(proofsMs),
      ballotsPerSecond: Math.round(n / (proofsMs / 1000)),
      msPerBallotPerThread: Math.round(((proofsMs * THREADS) / n) * 1000) / 1000,
      threads: THREADS,
      samplesSeconds: proofSamples.map(seconds),
      cpuSamplesSeconds: proofCpuSamples.map(seconds),
    },
    ratioAuditToProofs: Math.round(ratio * 100) / 100,
    /** Each round's audit time over the same round's proofs-alone time (the two run back to back). */
    ratioSamples: auditSamples.map((a, i) => Math.round((a / proofSamples[i]!) * 100) / 100),
    /** Best audit CPU time over best proofs-alone CPU time (process CPU, all threads). */
    cpuRatioAuditToProofs: Math.round((Math.min(...auditCpuSamples) / Math.min(...proofCpuSamples)) * 100) / 100,
    loadAverage1mSamples: loadSamples,
    target: 1.3,
    meetsTarget: ratio <= 1.3,
    quick: values.quick,
    preparation: {
      generateOrLoadSeconds: seconds(generateMs),
      writeFilesSeconds: seconds(writeMs),
      anchorSeconds: seconds(anchorMs),
    },
  };
  writeResults('verify-encrypted.json', result);
  console.log(
    `encrypted audit: ${n} ballots in ${result.audit.seconds} s = ${result.audit.ballotsPerSecond} ballots/s (${THREADS} threads, best of ${ROUNDS})`,
  );
  console.log(
    `proofs alone:    ${result.proofChecksAlone.ballotsPerSecond} ballots/s on ${THREADS} threads (${result.proofChecksAlone.seconds} s, ${result.proofChecksAlone.msPerBallotPerThread} ms per ballot per thread)`,
  );
  console.log(
    `ratio:           audit / proofs alone = ${result.ratioAuditToProofs} (target <= 1.3: ${result.meetsTarget ? 'met' : 'NOT met'})`,
  );
  console.log(
    `per round:       ${result.ratioSamples.join(', ')}; CPU ratio (best/best) ${result.cpuRatioAuditToProofs}`,
  );
}

const dir = mkdtempSync(join(tmpdir(), 'tallyproof-bench-verify-'));
const chain = await startAnvil();
try {
  if (PART !== 'encrypted') await plaintextBench(chain, dir);
  if (PART !== 'plaintext') await encryptedBench(chain, dir);
} finally {
  await chain.stop();
  rmSync(dir, { recursive: true, force: true });
}
