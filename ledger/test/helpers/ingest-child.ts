// A separate ingesting process for the concurrency test: submits the ballots named on its command line
// into one election through its own Ingestor and database pool, and prints its outcomes as JSON.
import postgres from 'postgres';
import { VerifyPool } from '../../src/verify-pool.js';
import { ledgerKeyFromSeed } from '../../src/ledger-key.js';
import { ballotFor, selectionsFor, voter } from '../../../test/support/fixtures.js';
import { Ingestor } from '../../src/index.js';

const [appUrl, electionId, seedHex, planJson] = process.argv.slice(2) as [string, string, string, string];
const plan = JSON.parse(planJson) as { voter: number; variant: number }[];
const sql = postgres(appUrl, { max: 4, onnotice: () => {} });
const verifier = new VerifyPool({ threads: 1, signingSeed: Buffer.from(seedHex, 'hex') });
const ingestor = new Ingestor({
  sql,
  ledgerKey: ledgerKeyFromSeed(Buffer.from(seedHex, 'hex')),
  verifier,
  maxBatch: 200,
});
const outcomes = await Promise.all(
  plan.map(async (p) => {
    const sub = ballotFor(voter(p.voter), electionId, selectionsFor(p.voter + p.variant));
    const o = await ingestor.submit(electionId, sub);
    return {
      voter: p.voter,
      variant: p.variant,
      kind: o.kind,
      seq: 'receipt' in o ? o.receipt.seq : null,
      receipt: 'receipt' in o ? o.receipt : null,
      attemptCount: o.kind === 'duplicate' ? o.attemptCount : null,
    };
  }),
);
process.stdout.write(JSON.stringify(outcomes));
await verifier.close();
await sql.end({ timeout: 5 });
