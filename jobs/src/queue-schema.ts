// The PostgreSQL queue backend's schema (QUEUE_SCHEMA), created and upgraded by the owner during
// migrations (scripts/migrate.ts), never by a long-running process: the API and the worker connect as
// the application role, which may use the queue tables and create the per-queue sequences BullMQ makes
// at run time in that schema (the grants are the ledger's: ledger/src/db/migrate.ts, grantQueueSchema).
import { createRequire } from 'node:module';
import { runMigrations, type PgModule } from 'bullmq';
import postgres from 'postgres';
import { grantQueueSchema } from '../../ledger/src/db/migrate.js';
import { QUEUE_SCHEMA } from './contract.js';

// node-postgres (BullMQ's own driver) typed by BullMQ's structural types, without @types/pg.
const pg = createRequire(import.meta.url)('pg') as PgModule;

/** Applies BullMQ's migrations to QUEUE_SCHEMA as the owner, then the application role's grants. Returns its schema version. */
export async function migrateQueueSchema(ownerUrl: string): Promise<number> {
  const pool = new pg.Pool({ connectionString: ownerUrl, max: 1, application_name: 'tallyproof-migrate' });
  pool.on('error', () => {}); // a loss mid-migration surfaces as the failed query
  let version: number;
  try {
    const client = await pool.connect();
    try {
      version = await runMigrations(client, QUEUE_SCHEMA);
    } finally {
      client.release();
    }
  } finally {
    await pool.end().catch(() => undefined);
  }
  const sql = postgres(ownerUrl, {
    max: 1,
    onnotice: () => {},
    connection: { application_name: 'tallyproof-migrate' },
  });
  try {
    await grantQueueSchema(sql, QUEUE_SCHEMA);
  } finally {
    await sql.end({ timeout: 5 });
  }
  return version;
}
