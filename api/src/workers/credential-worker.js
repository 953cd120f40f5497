// Worker thread: checks credential keys for a roll (wire format: canonical encoding of a curve point that
// is not of small order). The on-curve check decompresses the point (a square root in GF(2^255-19),
// ~110 µs in JavaScript), which is why a large roll is spread over threads. Plain JavaScript so that it
// loads without a TypeScript loader. Input: n keys of 32 bytes back to back; output: one byte per key,
// 0 acceptable, otherwise an index into PROBLEMS.
import { parentPort } from 'node:worker_threads';
import { ed25519 } from '@noble/curves/ed25519.js';
import { publicKeyProblem } from '../../../ledger/src/protocol/ed25519-strict.js';

const PROBLEMS = ['ok', 'key-length', 'key-non-canonical', 'key-small-order', 'key-not-on-curve'];
const CODE = new Map(PROBLEMS.map((p, i) => [p, i]));

parentPort?.on('message', (msg) => {
  const keys = new Uint8Array(msg.buffer);
  const n = keys.length / 32;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const key = keys.subarray(32 * i, 32 * i + 32);
    const problem = publicKeyProblem(key);
    if (problem) {
      out[i] = CODE.get(problem) ?? 4;
      continue;
    }
    try {
      ed25519.Point.fromBytes(key, false); // zip215 = false: strict RFC 8032 decoding
    } catch {
      out[i] = 4;
    }
  }
  parentPort.postMessage({ id: msg.id, result: out }, [out.buffer]);
});
