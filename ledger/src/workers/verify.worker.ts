// Worker thread of VerifyPool (../verify-pool.ts): strict Ed25519 verification of batches of ballots with
// node:crypto, and signing of receipts with the ledger key (workerData.signingSeed).
// A verify batch is one transferred buffer of records:
//   [u32 messageLength][32 public key][64 signature][message]   (all little-endian)
// and the reply one byte per record: 0 valid, otherwise the problem's index in ED25519_PROBLEMS.
// A sign batch is [u32 messageLength][message]… and the reply the 64-byte signatures back to back.
import { sign } from 'node:crypto';
import { workerData } from 'node:worker_threads';
import { dieMidTask, testFaultIn, testFaultsOn } from '../../../worker-pool/src/test-faults.js';
import { transfer } from '../../../worker-pool/src/transfer.js';
import { ed25519ProblemCode, privateKeyFromSeed, strictVerify } from '../protocol/ed25519.js';

export interface VerifyTask {
  op: 'verify' | 'sign';
  count: number;
  buffer: ArrayBuffer;
}

const { signingSeed } = (workerData ?? {}) as { signingSeed?: Uint8Array | null };
const signingKey = signingSeed ? privateKeyFromSeed(signingSeed) : null;
const testFaults = testFaultsOn(workerData);

export default function handle(task: VerifyTask): Uint8Array | Promise<never> {
  return task.op === 'sign' ? signBatch(task) : verifyBatch(task);
}

function verifyBatch(task: VerifyTask): Uint8Array | Promise<never> {
  const buf = Buffer.from(task.buffer);
  const out = new Uint8Array(task.count);
  let off = 0;
  for (let i = 0; i < task.count; i++) {
    const len = buf.readUInt32LE(off);
    const key = buf.subarray(off + 4, off + 36);
    const sig = buf.subarray(off + 36, off + 100);
    const message = buf.subarray(off + 100, off + 100 + len);
    off += 100 + len;
    const fault = testFaults ? testFaultIn(message) : null;
    if (fault !== null) return dieMidTask(fault);
    out[i] = ed25519ProblemCode(strictVerify(key, message, sig));
  }
  return transfer(out, [out.buffer]);
}

function signBatch(task: VerifyTask): Uint8Array {
  if (signingKey === null) throw new Error('this verify worker has no signing key');
  const buf = Buffer.from(task.buffer);
  const out = new Uint8Array(64 * task.count);
  let off = 0;
  for (let i = 0; i < task.count; i++) {
    const len = buf.readUInt32LE(off);
    out.set(sign(null, buf.subarray(off + 4, off + 4 + len), signingKey), 64 * i);
    off += 4 + len;
  }
  return transfer(out, [out.buffer]);
}
