// CredentialCheckPool: the roll's key checks on worker threads give the inline checker's answers, and
// its crash policy: a thread that dies fails only the checks it was running (never a verdict on the keys),
// concurrent checks succeed, and the thread is replaced. Deaths come from the worker's test-only hook.
import { afterAll, describe, expect, it } from 'vitest';
import { outcome, testFaultMarker, type TestFault } from '../../worker-pool/src/test-faults.js';
import { CredentialCheckPool } from '../src/credential-check.js';
import { inlineCredentialChecker } from '../src/elections/roll.js';
import { keyPairFromSeed } from '../src/protocol/ed25519.js';

const goodKeys = Array.from({ length: 40 }, (_, i) => keyPairFromSeed(Buffer.alloc(32, i + 1)).publicKey);
const BAD = {
  'key-non-canonical': Buffer.from('ff'.repeat(31) + '7f', 'hex'), // y = 2^255 - 1 >= p
  'key-small-order': Buffer.from('01' + '00'.repeat(31), 'hex'), // the identity
  'key-not-on-curve': Buffer.from('02' + '00'.repeat(31), 'hex'), // y = 2: no x on the curve
};

const pool = new CredentialCheckPool(2);
afterAll(() => pool.close());

describe('CredentialCheckPool', () => {
  it("answers as the inline checker: null for good keys, else the first bad key's index and problem", async () => {
    expect(await pool.check([])).toBeNull();
    expect(await pool.check(goodKeys)).toBeNull();
    for (const [problem, bad] of Object.entries(BAD)) {
      for (const at of [0, 17, 39]) {
        const keys = goodKeys.slice();
        keys[at] = bad;
        keys.push(BAD['key-not-on-curve']); // a later bad key is not the one named
        const expected = { index: at, problem };
        expect(await pool.check(keys)).toEqual(expected);
        expect(await inlineCredentialChecker.check(keys)).toEqual(expected);
      }
    }
  });

  for (const [fault, error] of [
    ['exit', 'credential check worker exited with code 70'],
    ['throw', 'test fault: an uncaught error in the worker'],
  ] as [TestFault, string][]) {
    it(`a worker that dies mid-check (${fault}) fails that check only; concurrent checks succeed`, async () => {
      const own = new CredentialCheckPool(2, { testFaults: true });
      try {
        // One thread takes the crash; the other takes the concurrent checks, one part at a time.
        const crashed = outcome(own.check([testFaultMarker(fault)]));
        const concurrent = [outcome(own.check(goodKeys)), outcome(own.check([...goodKeys, BAD['key-small-order']]))];
        expect(await crashed).toEqual({ error });
        expect(await Promise.all(concurrent)).toEqual([
          { value: null },
          { value: { index: 40, problem: 'key-small-order' } },
        ]);
        // The pool goes on, the dead thread replaced.
        const after = await Promise.all(Array.from({ length: 6 }, () => own.check(goodKeys)));
        expect(after).toEqual(Array(6).fill(null));
        const offCurve = { index: 1, problem: 'key-not-on-curve' };
        expect(await own.check([goodKeys[0]!, BAD['key-not-on-curve']])).toEqual(offCurve);
      } finally {
        await own.close();
      }
    });
  }

  it('refuses checks once closed', async () => {
    const own = new CredentialCheckPool(1);
    expect(await own.check(goodKeys.slice(0, 3))).toBeNull();
    await own.close();
    await expect(own.check(goodKeys)).rejects.toThrow('credential check pool is closed');
  });
});
