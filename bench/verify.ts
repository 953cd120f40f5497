// tallyproof-verify audit throughput: a 100,000-ballot election in file mode, anchored on anvil, audited
// with worker threads on all cores; next to it, in the same run, the raw Ed25519 verify rate on all
// cores (strict encoding checks + JWK key import + crypto.verify, nothing else), and the ratio
// audit time / signatures-alone time (target <= 1.3). Prints the figures, writes bench/results/verify.json.
// The machine may be shared: raw and audit runs alternate for --rounds rounds and the best time of
// each is kept (every sample is recorded too).
//   npx tsx bench/verify.ts [--ballots N] [--window N] [--threads N] [--rounds N]
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { Wallet } from 'ethers';
import { deployTallyAnchor, tallyAnchor } from '../contracts/index.js';
import { anvilProvider, startAnvil } from '../test/support/anvil.js';
import { runAudit } from '../verifier-cli/src/audit/audit.js';
import { FileSource } from '../verifier-cli/src/sources/files.js';
import {
  buildElection,
  electionKeyOf,
  manifestHashHex,
  resultHashHex,
  rollRootHex,
  writeElectionFiles,
} from '../verifier-cli/test/support/election.js';

const { values } = parseArgs({
  options: {
    ballots: { type: 'string', default: '100000' },
    window: { type: 'string', default: '1000' },
    threads: { type: 'string', default: String(availableParallelism()) },
    rounds: { type: 'string', default: '2' },
  },
});
const N = Number(values.ballots);
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

const dir = mkdtempSync(join(tmpdir(), 'tallyproof-bench-verify-'));
const chain = await startAnvil();
try {
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
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/verify.json', import.meta.url), JSON.stringify(result, null, 2) + '\n');
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
  console.log(`written bench/results/verify.json`);
} finally {
  await chain.stop();
  rmSync(dir, { recursive: true, force: true });
}
