// Worker thread: strict Ed25519 verification of batches of ballots with node:crypto, and signing of
// receipts with the ledger key. Plain JavaScript so it loads without a TypeScript loader.
// A verify batch is one transferred buffer of records:
//   [u32 messageLength][32 public key][64 signature][message]   (all little-endian)
// and the reply is one byte per record: 0 valid, otherwise an index into REASONS.
// A sign batch is [u32 messageLength][message]… and the reply the 64-byte signatures back to back.
import { parentPort, workerData } from 'node:worker_threads';
import { createPrivateKey, sign } from 'node:crypto';
import { strictVerify } from './protocol/ed25519-strict.js';

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const signingKey = workerData?.signingSeed
  ? createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.from(workerData.signingSeed)]), format: 'der', type: 'pkcs8' })
  : null;

function signBatch(msg) {
  const buf = Buffer.from(msg.buffer);
  const out = Buffer.allocUnsafe(64 * msg.count);
  let off = 0;
  for (let i = 0; i < msg.count; i++) {
    const len = buf.readUInt32LE(off);
    sign(null, buf.subarray(off + 4, off + 4 + len), signingKey).copy(out, 64 * i);
    off += 4 + len;
  }
  const result = new Uint8Array(out.buffer, out.byteOffset, out.byteLength).slice();
  parentPort.postMessage({ id: msg.id, result }, [result.buffer]);
}

export const REASONS = ['ok', 'key-length', 'key-non-canonical', 'key-small-order', 'key-not-on-curve', 'signature-length', 'r-non-canonical', 'r-small-order', 's-non-canonical', 'signature-invalid'];
const CODE = new Map(REASONS.map((r, i) => [r, i]));

parentPort?.on('message', (msg) => {
  if (msg.op === 'sign') return signBatch(msg);
  const buf = Buffer.from(msg.buffer);
  const out = new Uint8Array(msg.count);
  let off = 0;
  for (let i = 0; i < msg.count; i++) {
    const len = buf.readUInt32LE(off);
    const key = buf.subarray(off + 4, off + 36);
    const sig = buf.subarray(off + 36, off + 100);
    const message = buf.subarray(off + 100, off + 100 + len);
    off += 100 + len;
    const problem = strictVerify(key, message, sig);
    out[i] = problem === null ? 0 : CODE.get(problem) ?? 9;
  }
  parentPort.postMessage({ id: msg.id, result: out }, [out.buffer]);
});
