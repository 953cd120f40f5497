// Versioned, idempotent migrations from ledger/migrations/*.sql, applied in name order, each in its own
// transaction, under an advisory lock so that several processes starting at once apply each one once.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Sql } from 'postgres';

export const APP_ROLE = 'tallyproof_app';
const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));
const LOCK_KEY = 0x7a11_9f00;

export function migrationFiles(): { version: string; sql: string }[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_.+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: f.replace(/\.sql$/, ''), sql: readFileSync(MIGRATIONS_DIR + f, 'utf8') }));
}

/** Roles are cluster-wide and several test databases may race to create the same one: retry on conflicts. */
async function ensureAppRole(sql: Sql, password: string | null): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const [row] = await sql`SELECT 1 AS ok FROM pg_roles WHERE rolname = ${APP_ROLE}`;
      if (!row) await sql.unsafe(`CREATE ROLE ${APP_ROLE} LOGIN`);
      if (password !== null)
        await sql.unsafe(`ALTER ROLE ${APP_ROLE} LOGIN PASSWORD '${password.replace(/'/g, "''")}'`);
      return;
    } catch (err) {
      const code = (err as { code?: string }).code;
      // 42710 duplicate_object, XX000 "tuple concurrently updated", 23505 unique violation on pg_authid
      if (attempt < 10 && (code === '42710' || code === 'XX000' || code === '23505')) {
        await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
        continue;
      }
      throw err;
    }
  }
}

/** Apply pending migrations. `sql` must connect as the database owner (not the app role). Returns the versions applied. */
export async function migrate(sql: Sql, opts: { appPassword: string | null }): Promise<string[]> {
  await ensureAppRole(sql, opts.appPassword);
  const applied: string[] = [];
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${LOCK_KEY})`;
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`;
  });
  for (const m of migrationFiles()) {
    await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${LOCK_KEY})`;
      const [done] = await tx`SELECT 1 AS ok FROM schema_migrations WHERE version = ${m.version}`;
      if (done) return;
      await tx.unsafe(m.sql);
      await tx`INSERT INTO schema_migrations (version) VALUES (${m.version})`;
      applied.push(m.version);
    });
  }
  return applied;
}
