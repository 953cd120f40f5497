// The database steps of an operator: migrations (the ledger's and the queue schema's) as the owner.
// `npm run migrate` (scripts/migrate.ts) runs them as a one-shot step; npm start runs them in-process,
// closes the owner connection and goes on as the application role only.
import { appPassword, appUrlFor, migrateLedger, writableHostUrl } from '../ledger/src/db/connect.js';
import { migrateQueueSchema } from '../jobs/src/index.js';

export interface MigrationResult {
  /** Ledger migrations applied by this run (empty when the database was up to date). */
  ledger: string[];
  /** The queue schema's version after the run. */
  queueVersion: number;
}

/** Every migration, over owner connections that are closed when this returns. */
export async function migrateDatabase(opts: {
  ownerUrl: string;
  appPassword: string | null;
}): Promise<MigrationResult> {
  const ledger = await migrateLedger(opts);
  // node-postgres reaches one host: the primary's, when the URL names a replicated cluster's hosts.
  const queueVersion = await migrateQueueSchema(await writableHostUrl(opts.ownerUrl));
  return { ledger, queueVersion };
}

/**
 * npm start's step (and the tests' and benchmarks'): migrate as the owner, then give the application
 * role's URL, its password from TALLYPROOF_APP_DB_PASSWORD or generated once in the data directory.
 */
export async function migrateForLocalRun(
  ownerUrl: string,
  dataDir: string,
): Promise<MigrationResult & { appUrl: string }> {
  const password = appPassword(dataDir);
  const result = await migrateDatabase({ ownerUrl, appPassword: password });
  return { ...result, appUrl: appUrlFor(ownerUrl, password) };
}
