// Versioned, idempotent migrations from ledger/migrations/*.sql, applied in name order, each in its own
// transaction, under an advisory lock so that several processes starting at once apply each one once.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
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

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802/7677, as psql's \password and
 * libpq's PQencryptPasswordConn compute it): `ALTER ROLE … PASSWORD '<verifier>'` then never sends the
 * password itself, so no server log (a failed statement is logged with its text) or
 * pg_stat_activity view can show it. Passwords are used as UTF-8 bytes: PostgreSQL's SASLprep leaves
 * ASCII passwords (all generated ones) unchanged.
 */
export function scramSha256Verifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/**
 * The application role exists (created if not), with `password` set (as a verifier) when given. Roles are
 * cluster-wide and several test databases may race to create the same one: retry on conflicts.
 */
export async function ensureAppRole(sql: Sql, password: string | null): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const [row] = await sql`SELECT 1 AS ok FROM pg_roles WHERE rolname = ${APP_ROLE}`;
      if (!row) await sql.unsafe(`CREATE ROLE ${APP_ROLE} LOGIN`);
      // The verifier only (base64 and digits: nothing to quote), never the password.
      if (password !== null)
        await sql.unsafe(`ALTER ROLE ${APP_ROLE} LOGIN PASSWORD '${scramSha256Verifier(password)}'`);
      return;
    } catch (err) {
      const code = (err as { code?: string }).code;
      // 42710 duplicate_object, XX000 "tuple concurrently updated", 23505 unique violation on pg_authid
      if (attempt < 10 && (code === '42710' || code === 'XX000' || code === '23505')) {
        await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
        continue;
      }
      if (code === '42501')
        throw new Error(
          `this database owner may not create the role ${APP_ROLE} or set its password: create the role as a ` +
            'superuser (deploy/postgres/init-roles.sh does in compose) or leave TALLYPROOF_APP_DB_PASSWORD unset',
          { cause: err },
        );
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

/**
 * What the application role needs in the queue backend's schema (made by BullMQ's own migrations, run by
 * the owner: jobs/src/queue-schema.ts): its tables and sequences, and CREATE for the per-queue sequences
 * BullMQ makes at run time. Nothing else of the database gets a DDL right. `sql` connects as the owner.
 */
export async function grantQueueSchema(sql: Sql, schema: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`grantQueueSchema: not a plain schema name: ${schema}`);
  await sql.unsafe(`GRANT USAGE, CREATE ON SCHEMA ${schema} TO ${APP_ROLE}`);
  await sql.unsafe(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${APP_ROLE}`);
  await sql.unsafe(`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ${schema} TO ${APP_ROLE}`);
  // What a later BullMQ release's migrations create (as the owner) is granted the same way.
  await sql.unsafe(
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${APP_ROLE}`,
  );
  await sql.unsafe(
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${APP_ROLE}`,
  );
}
