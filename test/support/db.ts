// A fresh database per test file on the run's PostgreSQL server, migrated, and dropped afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { openLedgerDatabase, type LedgerDatabase } from '../../ledger/src/db/connect.js';
import { migrateQueueSchema } from '../../jobs/src/index.js';

export interface TestDatabase extends LedgerDatabase {
  /** Owner connection string of the test database (superuser on the test server): the test plays the operator. */
  url: string;
  dataDir: string;
  drop(): Promise<void>;
}

export function serverUrl(): string {
  return inject('databaseUrl');
}

export async function createTestDatabase(opts: { max?: number } = {}): Promise<TestDatabase> {
  const base = serverUrl();
  const name = `tp_test_${randomBytes(6).toString('hex')}`;
  const root = postgres(base, { max: 1, onnotice: () => {} });
  await root.unsafe(`CREATE DATABASE ${name}`);
  const u = new URL(base);
  u.pathname = `/${name}`;
  const url = u.toString();
  const dataDir = mkdtempSync(join(tmpdir(), 'tallyproof-test-data-'));
  const db = await openLedgerDatabase({ url, dataDir, max: opts.max });
  await migrateQueueSchema(url);
  return {
    ...db,
    url,
    dataDir,
    async drop() {
      await db.close();
      await root.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await root.end({ timeout: 5 });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
