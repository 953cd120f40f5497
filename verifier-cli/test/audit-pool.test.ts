// The audit's worker pool (src/audit/pool.ts on worker-pool/): its crash policy — a thread that dies
// mid-block fails that block only, a concurrent block is checked, and the pool goes on — and worker.ts
// started through tsx, worker-pool's fallback without esbuild. Deaths come from the worker's test-only hook.
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { WorkerPool } from '../../worker-pool/src/index.js';
import { outcome, testFaultMarker, type TestFault } from '../../worker-pool/src/test-faults.js';
import { RowCheckPool } from '../src/audit/pool.js';
import { unpackRows } from '../src/audit/packed-rows.js';
import { checkLedgerBlock, type RowContext } from '../src/audit/row-check.js';
import { windowRoot } from '../src/audit/windows.js';
import type { BatchReply, BatchRequest, CheckWorkerData } from '../src/audit/worker.js';
import { toHex } from '../src/hex.js';
import { ballotRules } from '../src/protocol.js';
import { castBallot, makeManifest, makeVoter, rowLine, selectionsFor } from './support/election.js';

const manifest = makeManifest('pool-2026', toHex(ed25519.getPublicKey(new Uint8Array(32))));
const context: RowContext = { rules: ballotRules(manifest as never), engine: 'node' };
const cast = (i: number) => castBallot(makeVoter(`pool-${i}`), manifest.electionId, selectionsFor(i), i);
const rows = Array.from({ length: 6 }, (_, i) => cast(i));
const block = (): Buffer => Buffer.from([...rows.map(rowLine), 'garbage'].join('\n'));

describe('RowCheckPool crash policy', () => {
  for (const [fault, error] of [
    ['exit', 'check worker exited with code 70'],
    ['throw', 'test fault: an uncaught error in the worker'],
  ] as [TestFault, string][]) {
    it(`a worker that dies mid-block (${fault}) fails that block only; a concurrent block is checked`, async () => {
      const pool = new RowCheckPool(context, 2, { testFaults: true });
      try {
        const expected = checkLedgerBlock(block(), 1, context);
        // Handed out together: each to one of the two idle threads.
        const crashed = outcome(pool.check(testFaultMarker(fault), 1));
        const concurrent = pool.check(block(), 1);
        expect(await crashed).toEqual({ error });
        expect(unpackRows(await concurrent)).toEqual(expected);
        // The pool goes on, the dead thread replaced: blocks, roll points, a tree head.
        const blocks = await Promise.all(Array.from({ length: 8 }, () => pool.check(block(), 1)));
        for (const packed of blocks) expect(unpackRows(packed)).toEqual(expected);
        const offCurve = '02' + '00'.repeat(31);
        const refused = 'roll key 020000000000… is refused (key-not-on-curve)';
        expect(await pool.checkRollPoints([offCurve])).toEqual([refused]);
        const leaves = Buffer.concat(rows.map((r) => Buffer.from(r.ballotHash, 'hex')));
        expect(toHex(await pool.treeHead(leaves))).toBe(windowRoot(rows.map((r) => r.ballotHash)));
      } finally {
        await pool.close();
      }
    });
  }
});

describe('the check worker', () => {
  it('also runs through tsx (the fallback without esbuild)', async () => {
    const workerData: CheckWorkerData = { context };
    const pool = new WorkerPool<BatchRequest, BatchReply>({
      name: 'check worker',
      entry: new URL('../src/audit/worker.ts', import.meta.url),
      threads: 1,
      typescript: 'tsx',
      workerData,
    });
    try {
      const reply = await pool.run({ kind: 'rows', firstLine: 1, bytes: Buffer.from(rowLine(rows[0]!)) });
      expect(unpackRows(reply.rows!)).toMatchObject([{ seq: 0, signatureValid: true, problems: [] }]);
    } finally {
      await pool.close();
    }
  });
});
