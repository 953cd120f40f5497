// The API as api/src/server.ts builds it, with one difference for one measurement of
// bench/ingest-encrypted.ts: the Ingestor's proof checks answer "valid" without looking. It measures what
// the rest of the ingest path can do with encrypted ballots (what a route that left the proofs to a
// validation stage after the 201 could take). A bench-only process: no production setting does this.
//
//   DATABASE_URL=<app role> LEDGER_KEY_SEED=<hex> tsx bench/lib/skip-proofs-api.ts
import { openAppDatabase } from '../../ledger/src/db/connect.js';
import { ledgerKeyFromSeed } from '../../ledger/src/ledger-key.js';
import { ProofPool } from '../../ledger/src/proof-pool.js';
import type { BallotProblem, EncryptedElectionContext } from '../../ledger/src/protocol/v2/ballot.js';
import { buildApp } from '../../api/src/app.js';
import { loadApiConfig } from '../../api/src/config.js';

/** Every ballot valid, no thread started. */
class SkippedProofChecks extends ProofPool {
  override check(_context: EncryptedElectionContext, _ballotJcs: string): Promise<BallotProblem | null> {
    return Promise.resolve(null);
  }
}

const config = loadApiConfig();
const seed = process.env.LEDGER_KEY_SEED;
if (!config.databaseUrl || !seed) throw new Error('DATABASE_URL and LEDGER_KEY_SEED are needed');
const ledger = await openAppDatabase({ url: config.databaseUrl, max: config.databasePoolSize });
const app = await buildApp({
  sql: ledger.sql,
  ledgerKey: ledgerKeyFromSeed(Buffer.from(seed, 'hex')),
  verifyThreads: config.verifyThreads,
  rateLimits: false,
  poolSize: config.databasePoolSize,
  ingest: { proofs: new SkippedProofChecks() },
  logger: { level: 'warn' },
});
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(
  `skip-proofs API listening on http://127.0.0.1:${typeof address === 'object' ? address?.port : 0}\n`,
);
process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => ledger.close())
    .then(() => process.exit(0));
});
