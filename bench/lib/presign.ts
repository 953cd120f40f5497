// Pre-signed ballots for the HTTP ingest bench: child processes (plain node, one per core) generate voter
// keys and sign one ballot each; cached under the OS temp dir, so quick re-runs start at once.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyStrict } from '../../ledger/src/protocol/ed25519.js';
import { ballotMessage, type Submission } from '../../ledger/src/protocol/protocol.js';

const log = (s: string) => process.stderr.write(s + '\n');

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

export async function presign(n: number, ELECTION: string): Promise<{ credentials: Buffer[]; bodies: Buffer[] }> {
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
    const parts = await Promise.all(
      Array.from(
        { length: threads },
        (_, w) =>
          new Promise<string>((resolve, reject) => {
            const spec = JSON.stringify({ from: w * per, to: Math.min(n, (w + 1) * per), electionId: ELECTION });
            const child = spawn(process.execPath, ['--expose-gc', '-e', SIGNER_SOURCE, spec], {
              stdio: ['ignore', 'pipe', 'inherit'],
            });
            const chunks: Buffer[] = [];
            child.stdout!.on('data', (d: Buffer) => chunks.push(d));
            child.once('error', reject);
            // 'close', not 'exit': all of the child's stdout has been read by then.
            child.once('close', (code) =>
              code === 0
                ? resolve(Buffer.concat(chunks).toString('utf8'))
                : reject(new Error(`signer exited with ${code}`)),
            );
          }),
      ),
    );
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
    if (!verifyStrict(credentials[i]!, ballotMessage(sub.ballot), Buffer.from(sub.signature, 'hex')))
      throw new Error('pre-signed ballot does not verify');
  }
  return { credentials, bodies };
}
