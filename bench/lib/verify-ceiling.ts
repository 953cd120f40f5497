// The raw Ed25519 verify ceiling: node:crypto in one worker thread per core, each importing the key per
// call as the ingest path does (a JWK KeyObject). Reported next to every ingest figure, measured in the
// same run, so ratios stay honest on whatever machine runs the bench.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createPublicKey, verify, generateKeyPairSync, sign } = require('node:crypto');
const keys = [];
for (let i = 0; i < 64; i++) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const x = publicKey.export({ format: 'jwk' }).x;
  const msg = Buffer.from('tallyproof:ballot:v1:{"credential":"' + x + '","electionId":"bench","selections":{"q1":["oui"]},"version":1}');
  keys.push({ x, msg, sig: sign(null, msg, privateKey) });
}
const deadline = Date.now() + workerData.ms;
let n = 0;
while (Date.now() < deadline) {
  for (let i = 0; i < 64; i++) {
    const k = keys[i];
    const ko = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: k.x }, format: 'jwk' });
    if (!verify(null, k.msg, ko, k.sig)) throw new Error('bad');
  }
  n += 64;
}
parentPort.postMessage(n);
`;

/** Verifies per second with all cores busy for `ms`. */
export async function measureVerifyCeiling(ms = 3000, threads = availableParallelism()): Promise<number> {
  const started = Date.now();
  const counts = await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { ms } });
          w.once('message', (n: number) => {
            resolve(n);
            void w.terminate();
          });
          w.once('error', reject);
        }),
    ),
  );
  const seconds = (Date.now() - started) / 1000;
  return counts.reduce((a, b) => a + b, 0) / seconds;
}
