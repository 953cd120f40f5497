// Worker thread of CredentialCheckPool (../credential-check.ts): checks a roll's keys the way the wire
// format wants a credential (protocol.ts credentialProblem: canonical, not of small order, on the curve).
// The on-curve check decompresses the point (a square root in GF(2^255-19), ~110 µs in JavaScript), which
// is why a large roll is spread over threads. Input: n keys of 32 bytes back to back; output: one byte per
// key, 0 acceptable, otherwise the problem's index in ED25519_PROBLEMS.
import { workerData } from 'node:worker_threads';
import { dieMidTask, testFaultIn, testFaultsOn } from '../../../worker-pool/src/test-faults.js';
import { transfer } from '../../../worker-pool/src/transfer.js';
import { ed25519ProblemCode } from '../protocol/ed25519.js';
import { credentialProblem } from '../protocol/protocol.js';

const testFaults = testFaultsOn(workerData);

export default function check(keys: ArrayBuffer): Uint8Array | Promise<never> {
  const bytes = new Uint8Array(keys);
  const n = bytes.length / 32;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const key = bytes.subarray(32 * i, 32 * i + 32);
    const fault = testFaults ? testFaultIn(key) : null;
    if (fault !== null) return dieMidTask(fault);
    out[i] = ed25519ProblemCode(credentialProblem(key));
  }
  return transfer(out, [out.buffer]);
}
