// Loading a large roll through the API: rollPending election, NDJSON uploads in parts, finalize. Prints
// keys/s, the finalize time and the API process's peak memory, and extrapolates to 10 million keys.
//
//   npx tsx bench/roll-upload.ts [--keys 1000000] [--part 250000]
//
// The API runs as a child process (api/src/server.ts) on a fresh database (DATABASE_URL, else embedded);
// keys are generated here (valid points, api/test/helpers/keys.ts) and streamed, so neither side holds
// an upload in memory. Writes bench/results/roll-upload.json.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { migrateForLocalRun } from '../scripts/database.js';
import { MerkleRootBuilder } from '../ledger/src/protocol/merkle.js';
import { normalizeManifest } from '../ledger/src/protocol/protocol.js';
import { ledgerKeyFromSeed } from '../ledger/src/ledger-key.js';
import { validKeys } from '../api/test/helpers/keys.js';
import { type BenchDatabase, createBenchDatabase } from './lib/bench-database.js';

const { values } = parseArgs({
  options: { keys: { type: 'string', default: '1000000' }, part: { type: 'string', default: '250000' } },
});
const N = Number(values.keys);
const PART = Number(values.part);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const TOKEN = 'bench-admin-token-' + randomBytes(8).toString('hex');
const log = (s: string) => process.stderr.write(s + '\n');

/** VmRSS / VmHWM (peak) of a process, in MiB. */
function memory(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: Math.round(kb('VmRSS') / 1024), peakMiB: Math.round(kb('VmHWM') / 1024) };
}

const tmp = mkdtempSync(join(tmpdir(), 'tallyproof-bench-roll-'));
let bench: BenchDatabase | null = null;
let api: ReturnType<typeof spawn> | null = null;
try {
  log(`generating ${N} valid keys…`);
  const keys = validKeys(N, `bench-roll-${N}`);
  bench = await createBenchDatabase({ prefix: 'tp_bench_roll', tmp, log });
  // The operator's step, then the API as the application role, as in production.
  const { appUrl } = await migrateForLocalRun(bench.url, tmp);
  const seed = randomBytes(32);
  api = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'api/src/server.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: appUrl,
      TALLYPROOF_DATA_DIR: tmp,
      LEDGER_KEY_SEED: seed.toString('hex'),
      ADMIN_TOKEN: TOKEN,
      PORT: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    api!.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    api!.once('exit', (code) => reject(new Error(`API exited with ${code}`)));
  });
  const pid = api.pid!;
  const headers = { authorization: `Bearer ${TOKEN}` };
  const now = Date.now();
  const manifest = normalizeManifest(
    {
      version: 1,
      electionId: 'bench-roll',
      title: 'Roll bench',
      opensAt: new Date(now + 3600_000).toISOString(),
      closesAt: new Date(now + 7200_000).toISOString(),
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
    ledgerKeyFromSeed(seed).publicKeyHex,
  );
  const created = await fetch(`${url}/api/v1/elections`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ manifest, rollPending: true }),
  });
  if (created.status !== 201) throw new Error(`create: ${created.status} ${await created.text()}`);
  const before = memory(pid);

  log(`uploading in parts of ${PART} keys…`);
  const t0 = Date.now();
  for (let start = 0; start < N; start += PART) {
    const part = keys.slice(start, Math.min(N, start + PART));
    let i = 0;
    // Streamed request body: 4,096 lines per chunk, generated as the socket drains.
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (i >= part.length) return controller.close();
        let text = '';
        for (const end = Math.min(part.length, i + 4096); i < end; i++) text += `"${part[i]!.toString('hex')}"\n`;
        controller.enqueue(Buffer.from(text));
      },
    });
    const ts = Date.now();
    const res = await fetch(`${url}/api/v1/elections/bench-roll/roll`, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/x-ndjson' },
      body,
      duplex: 'half',
    } as RequestInit);
    const r = (await res.json()) as { added?: number; rollSize?: number };
    if (res.status !== 200 || r.added !== part.length) throw new Error(`upload: ${res.status} ${JSON.stringify(r)}`);
    log(`  ${r.rollSize} keys (${Math.round(part.length / ((Date.now() - ts) / 1000))} keys/s for this part)`);
  }
  const uploadSeconds = (Date.now() - t0) / 1000;
  const t1 = Date.now();
  const fin = await fetch(`${url}/api/v1/elections/bench-roll/roll/finalize`, { method: 'POST', headers });
  const finBody = (await fin.json()) as { rollRoot: string; rollSize: number };
  const finalizeSeconds = (Date.now() - t1) / 1000;
  const after = memory(pid);
  const builder = new MerkleRootBuilder();
  for (const k of keys.slice().sort(Buffer.compare)) builder.push(k);
  if (finBody.rollRoot !== builder.root().toString('hex') || finBody.rollSize !== N)
    throw new Error(`finalize: ${JSON.stringify(finBody)} does not match the local rollRoot`);

  const keysPerSecond = N / uploadSeconds;
  const result = {
    keys: N,
    partKeys: PART,
    uploadSeconds: Number(uploadSeconds.toFixed(1)),
    keysPerSecond: Math.round(keysPerSecond),
    finalizeSeconds: Number(finalizeSeconds.toFixed(1)),
    apiRssBeforeMiB: before.rssMiB,
    apiPeakRssMiB: after.peakMiB,
    extrapolated10M: {
      uploadMinutes: Number((10_000_000 / keysPerSecond / 60).toFixed(1)),
      finalizeMinutes: Number(((finalizeSeconds * 10_000_000) / N / 60).toFixed(1)),
      note: 'linear extrapolation from this run (same machine); memory is bounded by the keys in flight per upload (10,000), not by the roll size',
    },
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    database: process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded',
    node: process.version,
    at: new Date().toISOString(),
  };
  console.log(
    `roll upload: ${N} keys in ${result.uploadSeconds} s (${result.keysPerSecond} keys/s, checked on ${result.cores} threads), finalize ${result.finalizeSeconds} s, API peak RSS ${result.apiPeakRssMiB} MiB (${result.apiRssBeforeMiB} MiB before)`,
  );
  console.log(
    `  10,000,000 keys at this rate: upload ≈ ${result.extrapolated10M.uploadMinutes} min, finalize ≈ ${result.extrapolated10M.finalizeMinutes} min`,
  );
  writeFileSync(join(ROOT, 'bench/results/roll-upload.json'), JSON.stringify(result, null, 2) + '\n');
} finally {
  if (api && api.exitCode === null) {
    const exited = new Promise((r) => api!.once('exit', r));
    api.kill('SIGTERM');
    await exited;
  }
  await bench?.close();
  rmSync(tmp, { recursive: true, force: true });
}
