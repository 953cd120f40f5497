// The proof pool of the encrypted ingest (ledger/src/proof-pool.ts): the verdicts of its worker threads
// are the core's rule computed on the main thread, in order, across batches, threads and elections; its
// threads start at the first ballot; a thread that dies fails its own batch only (an outage, never a
// verdict); a closed pool fails what it holds; the Ingestor sheds load past its proof queue limit.
import { afterAll, describe, expect, it } from 'vitest';
import { outcome, testFaultMarker, type TestFault } from '../../worker-pool/src/test-faults.js';
import { voters } from '../../test/support/fixtures.js';
import { Ingestor } from '../src/index.js';
import { ledgerKeyFromSeed } from '../src/ledger-key.js';
import { ProofPool } from '../src/proof-pool.js';
import { ProtocolError } from '../src/protocol/errors.js';
import { jcs } from '../src/protocol/jcs.js';
import { manifestHash } from '../src/protocol/protocol.js';
import {
  type EncryptedBallot,
  type EncryptedElectionContext,
  encryptBallot,
  encryptedBallotProblem,
} from '../src/protocol/v2/ballot.js';
import { hex, mulBase } from '../src/protocol/v2/group.js';
import { VerifyPool } from '../src/verify-pool.js';
import { encryptedManifest } from './helpers/encrypted-election.js';

const ledgerKey = ledgerKeyFromSeed(Buffer.alloc(32, 13));

/** An election context with a key of known secret (no ceremony needed for the pool alone). */
function contextFor(electionId: string, secret: bigint): EncryptedElectionContext {
  const manifest = encryptedManifest(electionId, ledgerKey.publicKeyHex);
  return { manifest, manifestHash: manifestHash(manifest).toString('hex'), publicKey: hex(mulBase(secret)) };
}

const a = contextFor('pool-a', 11n);
const b = contextFor('pool-b', 12n);
const vs = voters(8, 'pool-');

/** Valid ballots, and copies with one proof response changed, of both elections, interleaved. */
const cases: { ctx: EncryptedElectionContext; ballot: EncryptedBallot }[] = vs.flatMap((v, i) => {
  const ctx = i % 2 === 0 ? a : b;
  const ballot = encryptBallot(ctx, v.seed, { q1: ['oui'], council: i % 3 === 0 ? [] : ['bo'] }).submission.ballot;
  const bad = structuredClone(ballot);
  const proof = bad.contests.council!.choices[i % 3]!.proof;
  proof.s[0] = proof.s[1]!;
  return [
    { ctx, ballot },
    { ctx, ballot: bad },
  ];
});

const pools: ProofPool[] = [];
afterAll(async () => {
  for (const p of pools) await p.close();
});

describe('ProofPool', () => {
  it("gives the core's verdicts, in order, across batches, threads and elections; starts at the first ballot", async () => {
    const pool = new ProofPool({ threads: 2, maxBatch: 3 });
    pools.push(pool);
    expect(pool.started).toBe(false);
    const checks = cases.map((c) => pool.check(c.ctx, jcs(c.ballot)));
    expect(pool.pending).toBe(cases.length);
    const verdicts = await Promise.all(checks);
    expect(pool.started).toBe(true);
    expect(pool.pending).toBe(0);
    expect(verdicts).toEqual(cases.map((c) => encryptedBallotProblem(c.ctx, c.ballot)));
    expect(verdicts.filter((v) => v === null)).toHaveLength(vs.length);
    for (const v of verdicts.filter((x) => x !== null)) expect(v!.code).toBe('invalid-proof');
  });

  for (const [fault, error] of [
    ['exit', 'proof worker exited with code 70'],
    ['throw', 'test fault: an uncaught error in the worker'],
  ] as [TestFault, string][]) {
    it(`a thread dying mid-batch (${fault}) fails that batch only, and the pool goes on`, async () => {
      const pool = new ProofPool({ threads: 2, maxBatch: 1, testFaults: true });
      pools.push(pool);
      // Asked in the same turn: two batches of one ballot each, on the two threads.
      const crashed = outcome(pool.check(a, testFaultMarker(fault).toString('latin1')));
      const concurrent = outcome(pool.check(cases[0]!.ctx, jcs(cases[0]!.ballot)));
      expect(await crashed).toEqual({ error });
      expect(await concurrent).toEqual({ value: null });
      const verdicts = await Promise.all(cases.map((c) => pool.check(c.ctx, jcs(c.ballot))));
      expect(verdicts).toEqual(cases.map((c) => encryptedBallotProblem(c.ctx, c.ballot)));
    });
  }

  it('close() fails the batches in flight and the ballots still queued, and refuses new ones', async () => {
    const pool = new ProofPool({ threads: 1, maxBatch: 1 });
    const checks = cases.slice(0, 5).map((c) => outcome(pool.check(c.ctx, jcs(c.ballot))));
    await new Promise((r) => setImmediate(r)); // dispatched: two batches in flight, three queued
    expect(pool.pending).toBe(5);
    await pool.close();
    const outcomes = await Promise.all(checks);
    for (const o of outcomes) expect(o).toHaveProperty('error');
    expect(outcomes.slice(2)).toEqual(Array(3).fill({ error: 'proof pool is closed' }));
    expect(await outcome(pool.check(a, jcs(cases[0]!.ballot)))).toEqual({ error: 'proof pool is closed' });
    await pool.close(); // again: nothing more to do
  });

  it('the Ingestor sheds encrypted ballots past maxProofQueue (503 overloaded) before reading them', async () => {
    const verifier = new VerifyPool({ threads: 1 });
    const pool = new ProofPool({ threads: 1 });
    pools.push(pool);
    try {
      // No database is reached: the limit is checked first.
      const ingestor = new Ingestor({ sql: null as never, ledgerKey, verifier, proofs: pool, maxProofQueue: 2 });
      const busy = cases.slice(0, 2).map((c) => pool.check(c.ctx, jcs(c.ballot)));
      const err = await ingestor.submit('pool-a', { ballot: { version: 2 }, signature: '' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe('overloaded');
      await Promise.all(busy);
    } finally {
      await verifier.close();
    }
  });
});
