import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { VerifyPool } from '../src/verify-pool.js';
import { ledgerKeyFromSeed } from '../src/ledger-key.js';
import { receiptMessage, signReceipt } from '../src/protocol/protocol.js';
import { testFaultMarker } from '../../worker-pool/src/test-faults.js';

const vectors = JSON.parse(
  readFileSync(new URL('../../docs/test-vectors/ed25519-strict.json', import.meta.url), 'utf8'),
);
const key = ledgerKeyFromSeed(Buffer.alloc(32, 4));
const pool = new VerifyPool({ threads: 2, maxBatch: 3, signingSeed: key.seed });
afterAll(() => pool.close());

describe('VerifyPool (worker threads)', () => {
  it('gives every strict Ed25519 vector its verdict, in order, across batches and workers', async () => {
    const cases = [...vectors.cases, ...vectors.cases, ...vectors.cases];
    const verdicts = await Promise.all(
      cases.map((c: { publicKey: string; signature: string; message: string }) =>
        pool.verify(Buffer.from(c.publicKey, 'hex'), Buffer.from(c.signature, 'hex'), Buffer.from(c.message, 'hex')),
      ),
    );
    expect(verdicts).toEqual(cases.map((c: { valid: boolean; reason: string | null }) => (c.valid ? null : c.reason)));
  });

  it('signs receipts exactly as the main thread does (Ed25519 is deterministic)', async () => {
    const bodies = Array.from({ length: 25 }, (_, seq) => ({
      version: 1 as const,
      electionId: 'e',
      seq,
      ballotHash: 'ab'.repeat(32),
      receivedAt: '2026-01-01T00:00:00.000Z',
    }));
    const sigs = await pool.sign(bodies.map(receiptMessage));
    expect(sigs.map((s) => s.toString('hex'))).toEqual(bodies.map((b) => signReceipt(key.privateKey, b).signature));
  });

  it('fails the work of a worker that dies, never hangs, and replaces the worker', async () => {
    const own = new VerifyPool({ threads: 1, maxBatch: 500, testFaults: true });
    try {
      const c = vectors.cases.find((x: { valid: boolean }) => x.valid);
      const args = () =>
        [Buffer.from(c.publicKey, 'hex'), Buffer.from(c.signature, 'hex'), Buffer.from(c.message, 'hex')] as const;
      // The last message makes the worker exit in the middle of the batch (a test-only hook).
      const [credential, sig] = args();
      const requests = Array.from({ length: 400 }, () => own.verify(...args()));
      requests.push(own.verify(credential, sig, testFaultMarker('exit')));
      const outcomes = await Promise.all(
        requests.map((r) =>
          r.then(
            () => 'verified',
            (err: Error) => err.message,
          ),
        ),
      );
      expect(outcomes.every((o) => o === 'verified' || /verify worker exited/.test(o))).toBe(true);
      expect(outcomes.some((o) => o !== 'verified')).toBe(true);
      // the replacement takes new work
      expect(await own.verify(...args())).toBeNull();
    } finally {
      await own.close();
    }
  });
});
