// Encrypted elections and their ballots for bench/ingest-encrypted.ts. Everything is deterministic (fixed
// manifest times, ledger key, trustee keys and ceremony randomness), so the election key H and therefore
// the ballots are the same from run to run: they are generated once in worker threads and cached under
// the OS temp dir, named by the manifest hash and H.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkerPool } from '../../worker-pool/src/index.js';
import { keyPairFromSeed, strictVerify } from '../../ledger/src/protocol/ed25519.js';
import { type Contest, type Manifest, manifestHash, normalizeManifest } from '../../ledger/src/protocol/protocol.js';
import {
  type EncryptedElectionContext,
  type EncryptedSubmission,
  encryptedBallotMessage,
  encryptedBallotProblem,
} from '../../ledger/src/protocol/v2/ballot.js';
import * as v2 from '../../ledger/src/protocol/v2/index.js';
import type { EncryptTask } from './encrypt.worker.js';

const log = (s: string) => process.stderr.write(s + '\n');

const TRUSTEES = ['t1', 't2', 't3'];
const trusteeSeed = (id: string) => createHash('sha256').update(`tallyproof bench trustee ${id}`).digest();

/** One contest `q1` of `n` choices, exactly one selected (as bench/ingest-http.ts's referendum). */
export function benchContest(n: number): Contest {
  const choices = Array.from({ length: n }, (_, i) => ({ id: `c${i}`, label: `Choice ${i}` }));
  return { id: 'q1', title: `${n} choices`, choices, minSelections: 1, maxSelections: 1 };
}

/** A version 2 manifest of fixed times (open from 2026 to 2099), three trustees, threshold 2. */
export function encryptedBenchManifest(electionId: string, contest: Contest, ledgerKeyHex: string): Manifest {
  const trustees = TRUSTEES.map((id) => ({ id, key: keyPairFromSeed(trusteeSeed(id)).publicKey.toString('hex') }));
  return normalizeManifest(
    {
      version: 2,
      electionId,
      title: `Encrypted ingest bench (${contest.choices.length} choices)`,
      contests: [contest],
      opensAt: '2026-01-01T00:00:00.000Z',
      closesAt: '2099-01-01T00:00:00.000Z',
      ballotMode: 'encrypted',
      trustees,
      threshold: 2,
    },
    ledgerKeyHex,
  );
}

/**
 * The key ceremony of the election, run with the core's functions from fixed randomness: every trustee
 * envelope in the order to post them, and the context ballots are encrypted in.
 */
export function benchCeremony(manifest: Manifest): {
  envelopes: v2.TrusteeEnvelope[];
  context: EncryptedElectionContext;
} {
  const mh = manifestHash(manifest).toString('hex');
  const rng = v2.seededScalars(`bench ceremony ${manifest.electionId}`);
  const envelopes: v2.TrusteeEnvelope[] = [];
  const post = (message: v2.TrusteeMessage, id: string): void => {
    envelopes.push(v2.signTrusteeMessage(trusteeSeed(id), message));
  };
  const secrets = TRUSTEES.map((id) => {
    const { message, secrets: s } = v2.makeKeygenCommit(manifest, mh, id, rng);
    post(message, id);
    return s;
  });
  const commits = v2.commitsOf(envelopes);
  for (const [i, id] of TRUSTEES.entries()) post(v2.makeKeygenShares(manifest, mh, id, secrets[i]!, commits, rng), id);
  const shares = envelopes.filter((e) => e.message.kind === 'keygen-shares').map((e) => e.message as v2.KeygenShares);
  for (const [i, id] of TRUSTEES.entries())
    post(v2.makeKeygenConfirm(manifest, mh, id, secrets[i]!, commits, shares).message, id);
  const publicKey = v2.electionPublicKey(manifest, envelopes);
  if (!publicKey) throw new Error('the bench key ceremony did not complete');
  return { envelopes, context: { manifest, manifestHash: mh, publicKey } };
}

export interface BenchBallots {
  credentials: Buffer[];
  bodies: Buffer[];
}

/**
 * Runs `tasks` on one worker thread per core; the lines of every task, in task order, one string per task
 * (hundreds of thousands of ballots are more than one JavaScript string can hold).
 */
async function generate(tasks: EncryptTask[]): Promise<string[]> {
  const pool = new WorkerPool<EncryptTask, string>({
    name: 'bench encrypt worker',
    entry: new URL('./encrypt.worker.ts', import.meta.url),
    threads: availableParallelism(),
  });
  try {
    return (await Promise.all(tasks.map((t) => pool.run(t)))).filter((p) => p.length > 0);
  } finally {
    await pool.close();
  }
}

function ranges(n: number, size: number): { from: number; to: number }[] {
  const out: { from: number; to: number }[] = [];
  for (let from = 0; from < n; from += size) out.push({ from, to: Math.min(n, from + size) });
  return out;
}

/** Lines `credential<TAB>body`, read from the bytes (never as one string). */
function parse(data: Buffer): BenchBallots {
  const credentials: Buffer[] = [];
  const bodies: Buffer[] = [];
  for (let start = 0; start < data.length; ) {
    let end = data.indexOf(10, start);
    if (end < 0) end = data.length;
    const line = data.subarray(start, end);
    start = end + 1;
    if (line.length === 0) continue;
    const tab = line.indexOf(9);
    credentials.push(Buffer.from(line.subarray(0, tab).toString('latin1'), 'hex'));
    bodies.push(Buffer.from(line.subarray(tab + 1)));
  }
  return { credentials, bodies };
}

async function cached(file: string, what: string, make: () => Promise<string[]>): Promise<BenchBallots> {
  if (existsSync(file)) {
    log(`using ${what} from ${file}`);
    return parse(readFileSync(file));
  }
  log(`generating ${what} on ${availableParallelism()} threads (cached for later runs)…`);
  const t0 = Date.now();
  const parts = await make();
  // Written whole under a temporary name, then renamed: an interrupted run leaves no half file to reuse.
  const fd = openSync(`${file}.tmp`, 'w');
  try {
    for (const part of parts) writeSync(fd, `${part}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(`${file}.tmp`, file);
  log(`  ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return parse(readFileSync(file));
}

/** `n` encrypted, proved and signed ballots of the election (one per credential), valid under the rule. */
export async function encryptedBallots(context: EncryptedElectionContext, n: number): Promise<BenchBallots> {
  const id = context.manifest.electionId;
  const tag = createHash('sha256').update(`${context.manifestHash}/${context.publicKey}`).digest('hex').slice(0, 16);
  const file = join(tmpdir(), `tallyproof-bench-enc-${id}-${tag}-${n}.tsv`);
  const out = await cached(file, `${n} encrypted ballots of ${id}`, () =>
    generate(ranges(n, 200).map((r) => ({ op: 'encrypt', context, ...r }))),
  );
  // Spot-check against the server's rule: the server must accept these.
  for (const i of [0, out.bodies.length - 1]) {
    const sub = JSON.parse(out.bodies[i]!.toString()) as EncryptedSubmission;
    const problem = encryptedBallotProblem(context, sub.ballot);
    if (problem) throw new Error(`pre-generated ballot ${i} is invalid: ${problem.message}`);
    const sig = strictVerify(
      out.credentials[i]!,
      encryptedBallotMessage(sub.ballot),
      Buffer.from(sub.signature, 'hex'),
    );
    if (sig) throw new Error(`pre-generated ballot ${i} has a bad signature: ${sig}`);
  }
  return out;
}

/**
 * `n` ballots for the run that skips the proofs: `template`'s ciphertexts and proofs under new credentials,
 * each signed (a signature costs ~50 µs where encrypting costs ms). Only the run that checks no proof may
 * use them: the proofs are bound to the template's credential.
 */
export function resignedBallots(electionId: string, template: EncryptedSubmission, n: number): Promise<BenchBallots> {
  const tag = createHash('sha256').update(JSON.stringify(template)).digest('hex').slice(0, 16);
  const file = join(tmpdir(), `tallyproof-bench-enc-resigned-${electionId}-${tag}-${n}.tsv`);
  return cached(file, `${n} re-signed ballots of ${electionId}`, () =>
    generate(ranges(n, 5000).map((r) => ({ op: 'resign', electionId, template: template.ballot, ...r }))),
  );
}
