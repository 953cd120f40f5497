// `npm run migrate`: the one step that holds the database owner's credentials. Applies the ledger's
// migrations and the queue schema, sets the application role's password when given, and exits; the API
// and the anchor worker then connect as the application role only (docs/operations.md, "Database roles").
import { Command } from 'commander';
import { ConfigError, opt, url } from '../ledger/src/config.js';
import { resolveDatabase } from '../ledger/src/db/resolve.js';
import { APP_ROLE } from '../ledger/src/db/migrate.js';
import { urlHostsText } from '../ledger/src/db/url.js';
import { migrateDatabase, migrateForLocalRun } from './database.js';
import { resolve } from 'node:path';

const program = new Command('migrate')
  .description(
    'Apply the ledger migrations and the queue schema as the database owner, then exit.\n\n' +
      'Environment:\n' +
      '  DATABASE_OWNER_URL           the owner of the ledger database (postgres://owner:…@host/db); unset: the\n' +
      '                               embedded PostgreSQL under TALLYPROOF_DATA_DIR, as npm start uses it\n' +
      `  TALLYPROOF_APP_DB_PASSWORD   optional: set the password of the application role ${APP_ROLE}\n` +
      '                               (sent as a SCRAM verifier, never as text; needs a superuser or CREATEROLE\n' +
      '                               owner). Unset: the role and its password are left as they are.\n' +
      '  TALLYPROOF_DATA_DIR          data directory of the embedded default (default .tallyproof)',
  )
  .action(async () => {
    const ownerUrl = url(process.env, 'DATABASE_OWNER_URL', ['postgres:', 'postgresql:']);
    const started = Date.now();
    if (ownerUrl) {
      const host = urlHostsText(ownerUrl);
      process.stdout.write(`migrating the ledger database at ${host} as its owner…\n`);
      const result = await migrateDatabase({ ownerUrl, appPassword: opt(process.env, 'TALLYPROOF_APP_DB_PASSWORD') });
      report(result.ledger, result.queueVersion, started);
      return;
    }
    const dataDir = resolve(opt(process.env, 'TALLYPROOF_DATA_DIR') ?? '.tallyproof');
    process.stdout.write(`migrating the embedded PostgreSQL under ${dataDir}…\n`);
    const db = await resolveDatabase({ databaseUrl: null, dataDir });
    try {
      const result = await migrateForLocalRun(db.url, dataDir);
      report(result.ledger, result.queueVersion, started);
    } finally {
      await db.stop();
    }
  });

function report(applied: string[], queueVersion: number, started: number): void {
  process.stdout.write(
    `${applied.length === 0 ? 'ledger schema already up to date' : `applied ${applied.join(', ')}`}; ` +
      `queue schema at version ${queueVersion} (${Date.now() - started} ms)\n`,
  );
}

program.parseAsync().catch((err: Error) => {
  process.stderr.write(
    err instanceof ConfigError ? `configuration error: ${err.message}\n` : `migrate failed: ${err.message}\n`,
  );
  process.exit(1);
});
