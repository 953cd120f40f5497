// One PostgreSQL server for the whole run: DATABASE_URL when set (CI sets it to the machine's
// PostgreSQL 15), else an embedded one in a temp dir, removed afterwards. Each test file then creates
// and drops its own database on it (test/support/db.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../ledger/src/db/embedded.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    databaseKind: 'external' | 'embedded';
  }
}

export default async function setup(project: TestProject) {
  if (process.env.DATABASE_URL) {
    project.provide('databaseUrl', process.env.DATABASE_URL);
    project.provide('databaseKind', 'external');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tallyproof-test-pg-'));
  const db = await startEmbeddedPostgres({ dir: join(dir, 'data') });
  project.provide('databaseUrl', db.url);
  project.provide('databaseKind', 'embedded');
  return async () => {
    await db.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
