// The verify pool's crash policy: a worker thread that dies mid-batch fails that batch's callers (an
// outage, 503 upstream, never a verdict); other callers at the same time get their verdicts; the thread
// is replaced and the pool goes on verifying and signing. The deaths come from the worker's test-only
// fault hook (VerifyPool `testFaults`).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { outcome, testFaultMarker, type TestFault } from '../../worker-pool/src/test-faults.js';
import { ledgerKeyFromSeed } from '../src/ledger-key.js';
import { receiptMessage, signReceipt } from '../src/protocol/protocol.js';
import { VerifyPool } from '../src/verify-pool.js';

interface Case {
  publicKey: string;
  signature: string;
  message: string;
  valid: boolean;
  reason: string | null;
}
const VECTORS = new URL('../../docs/test-vectors/ed25519-strict.json', import.meta.url);
const cases = JSON.parse(readFileSync(VECTORS, 'utf8')).cases as Case[];
const valid = cases.find((c) => c.valid)!;
const bytes = (hex: string): Buffer => Buffer.from(hex, 'hex');
const key = ledgerKeyFromSeed(Buffer.alloc(32, 9));

describe('VerifyPool crash policy', () => {
  for (const [fault, error] of [
    ['exit', 'verify worker exited with code 70'],
    ['throw', 'test fault: an uncaught error in the worker'],
  ] as [TestFault, string][]) {
    it(`a worker dying mid-batch (${fault}) fails that batch only; a concurrent caller gets its verdict`, async () => {
      const pool = new VerifyPool({ threads: 2, signingSeed: key.seed, testFaults: true });
      try {
        // Asked in the same turn: two batches of one request, handed to the two idle threads.
        const crashed = outcome(pool.verify(bytes(valid.publicKey), bytes(valid.signature), testFaultMarker(fault)));
        const concurrent = outcome(pool.verify(bytes(valid.publicKey), bytes(valid.signature), bytes(valid.message)));
        expect(await crashed).toEqual({ error });
        expect(await concurrent).toEqual({ value: null });

        // The pool goes on: every vector's verdict across batches and threads, and receipt signing.
        const many = [...cases, ...cases, ...cases, ...cases];
        const verify = (c: Case) => pool.verify(bytes(c.publicKey), bytes(c.signature), bytes(c.message));
        const verdicts = await Promise.all(many.map(verify));
        expect(verdicts).toEqual(many.map((c) => (c.valid ? null : c.reason)));
        const receivedAt = '2026-01-01T00:00:00.000Z';
        const bodies = Array.from({ length: 9 }, (_, seq) => ({
          version: 1 as const,
          electionId: 'crash',
          seq,
          ballotHash: 'cd'.repeat(32),
          receivedAt,
        }));
        const sigs = await pool.sign(bodies.map(receiptMessage));
        expect(sigs.map((s) => s.toString('hex'))).toEqual(bodies.map((b) => signReceipt(key.privateKey, b).signature));
      } finally {
        await pool.close();
      }
    });
  }

  it('close() fails requests still queued, and refuses new ones', async () => {
    const pool = new VerifyPool({ threads: 1 });
    await pool.verify(bytes(valid.publicKey), bytes(valid.signature), bytes(valid.message));
    const queued = outcome(pool.verify(bytes(valid.publicKey), bytes(valid.signature), bytes(valid.message)));
    await pool.close();
    expect(await queued).toEqual({ error: 'verify pool is closed' });
    expect(await outcome(pool.verify(bytes(valid.publicKey), bytes(valid.signature), bytes(valid.message)))).toEqual({
      error: 'verify pool is closed',
    });
  });
});
