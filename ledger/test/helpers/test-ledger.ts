// What most ledger test files set up: a fresh database, a verify pool and an Ingestor over the app role,
// created before the file's tests and torn down after them.
import { afterAll, beforeAll, expect } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/support/db.js';
import { ballotFor, selectionsFor, testManifest, voters, type Voter } from '../../../test/support/fixtures.js';
import { Ingestor, createElection, validateRoll } from '../../src/index.js';
import type { LedgerKey } from '../../src/ledger-key.js';
import { VerifyPool } from '../../src/verify-pool.js';

export interface TestLedger {
  db: TestDatabase;
  pool: VerifyPool;
  ingestor: Ingestor;
  /** Election `id` (the test manifest) with `n` fresh voters on its roll, frozen unless `pending`. */
  newElection(id: string, n: number, opts?: { pending?: boolean }): Promise<Voter[]>;
  /** Every voter casts a ballot (selectionsFor(i)); each must be accepted. */
  castAll(id: string, vs: readonly Voter[]): Promise<void>;
}

/** Registers the file's beforeAll/afterAll; the fields are set once beforeAll has run. */
export function useTestLedger(ledgerKey: LedgerKey, opts: { threads?: number } = {}): TestLedger {
  const ledger = {
    async newElection(id: string, n: number, electionOpts: { pending?: boolean } = {}) {
      const vs = voters(n, `${id}-`);
      const roll = await validateRoll(vs.map((v) => v.credential));
      await createElection(ledger.db.app, testManifest(id, ledgerKey.publicKeyHex), roll, electionOpts);
      return vs;
    },
    async castAll(id: string, vs: readonly Voter[]) {
      const outcomes = await Promise.all(
        vs.map((v, i) => ledger.ingestor.submit(id, ballotFor(v, id, selectionsFor(i)))),
      );
      for (const o of outcomes) expect(o.kind).toBe('accepted');
    },
  } as TestLedger;
  beforeAll(async () => {
    ledger.db = await createTestDatabase();
    ledger.pool = new VerifyPool({ threads: opts.threads ?? 1 });
    ledger.ingestor = new Ingestor({ sql: ledger.db.app, ledgerKey, verifier: ledger.pool });
  });
  afterAll(async () => {
    await ledger.pool?.close();
    await ledger.db?.drop();
  });
  return ledger;
}
