// Opening the ledger database. Long-running processes (the API, the anchor worker, npm start once it has
// migrated) connect only as the application role, which the migrations grant no UPDATE or DELETE on
// ballots, no DDL, and whose every write the triggers keep append-only or monotonic
// (ledger/migrations/). The owner's connection exists only while migrations run (`npm run migrate`,
// scripts/migrate.ts), and in tests and benchmarks, which play the operator.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import postgres, { type Sql } from 'postgres';
import { APP_ROLE, migrate, migrationFiles } from './migrate.js';

/** The app role's password: TALLYPROOF_APP_DB_PASSWORD, else one generated once and kept in the data directory. */
export function appPassword(dataDir: string): string {
  const fromEnv = process.env.TALLYPROOF_APP_DB_PASSWORD;
  if (fromEnv) return fromEnv;
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'app-db-password');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const pw = randomBytes(24).toString('base64url');
  writeFileSync(file, pw + '\n', { mode: 0o600 });
  return pw;
}

export function withUser(url: string, user: string, password: string | null): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = password === null ? '' : encodeURIComponent(password);
  return u.toString();
}

/** The role a URL names (its user part), decoded; null when it names none. */
export function urlUser(url: string): string | null {
  const u = new URL(url);
  return u.username ? decodeURIComponent(u.username) : null;
}

/**
 * Connection options shared by every pool. postgres.js by default backs off up to 20 s between reconnect
 * attempts, counted across the pool, so a 3 s PostgreSQL restart could leave requests hanging 10–20 s
 * afterwards; a short capped backoff lets the API answer 503 quickly and recover within a second.
 */
export const POOL_OPTIONS = {
  onnotice: () => {},
  connect_timeout: 5,
  backoff: (attempt: number) => Math.min(0.05 * 2 ** attempt, 1),
} as const;

/** Why a connection may not serve a long-running process; thrown before any request is taken. */
export class DatabaseRoleError extends Error {
  override name = 'DatabaseRoleError';
}

/**
 * Refuses a connection that is not fit for a long-running process: a superuser, the owner of the ledger
 * tables (or a member of the owner role: it could disable the triggers), or a database whose migrations
 * are not all applied. Resolves with the role's name.
 */
export async function checkAppConnection(sql: Sql): Promise<string> {
  const [me] = await sql`
    SELECT current_user AS role, r.rolsuper AS superuser, r.rolcreaterole AS createrole,
           (SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'ballots') AS owner
    FROM pg_roles r WHERE r.rolname = current_user`;
  const role = me!.role as string;
  const fix =
    `connect as the application role ${APP_ROLE} (DATABASE_URL=postgres://${APP_ROLE}:…@host/db) after ` +
    '`npm run migrate` has run with the owner’s DATABASE_OWNER_URL (docs/operations.md, "Database roles")';
  if (me!.owner === null)
    throw new DatabaseRoleError(`the ledger tables do not exist in this database: run \`npm run migrate\` first`);
  if (me!.superuser) throw new DatabaseRoleError(`the database role "${role}" is a superuser; ${fix}`);
  if (me!.createrole) throw new DatabaseRoleError(`the database role "${role}" may create roles; ${fix}`);
  const [owns] = await sql`SELECT pg_has_role(current_user, ${me!.owner as string}, 'USAGE') AS ok`;
  if (owns!.ok) throw new DatabaseRoleError(`the database role "${role}" owns the ledger tables; ${fix}`);
  const applied = new Set((await sql`SELECT version FROM schema_migrations`).map((r) => r.version as string));
  const pending = migrationFiles()
    .map((m) => m.version)
    .filter((v) => !applied.has(v));
  if (pending.length > 0)
    throw new DatabaseRoleError(`migrations not applied yet: ${pending.join(', ')}; run \`npm run migrate\``);
  return role;
}

export interface AppDatabase {
  /** The application role's pool. */
  sql: Sql;
  url: string;
  role: string;
  close(): Promise<void>;
}

/**
 * The pool of a long-running process, as the application role, checked (checkAppConnection) before it is
 * handed out. `applicationName` shows in pg_stat_activity.
 */
export async function openAppDatabase(opts: {
  url: string;
  max?: number;
  applicationName?: string;
}): Promise<AppDatabase> {
  const sql = postgres(opts.url, {
    ...POOL_OPTIONS,
    max: opts.max ?? 10,
    connection: { application_name: opts.applicationName ?? 'tallyproof' },
  });
  try {
    const role = await checkAppConnection(sql);
    return { sql, url: opts.url, role, close: () => sql.end({ timeout: 5 }) };
  } catch (err) {
    await sql.end({ timeout: 1 });
    throw err;
  }
}

/**
 * Applies the ledger migrations over a short-lived owner connection, closed before this returns. With
 * `appPassword` the application role's password is set (as a SCRAM verifier); null leaves it as it is.
 */
export async function migrateLedger(opts: { ownerUrl: string; appPassword: string | null }): Promise<string[]> {
  const owner = postgres(opts.ownerUrl, {
    ...POOL_OPTIONS,
    max: 2,
    connection: { application_name: 'tallyproof-migrate' },
  });
  try {
    return await migrate(owner, { appPassword: opts.appPassword });
  } finally {
    await owner.end({ timeout: 5 });
  }
}

/** The application role's URL on the owner URL's server and database. */
export function appUrlFor(ownerUrl: string, password: string | null): string {
  return withUser(ownerUrl, APP_ROLE, password);
}

/** Owner and application connections together: only tests and benchmarks, which play the operator, hold both. */
export interface LedgerDatabase {
  /** Owner connection: migrations, admin tasks. */
  admin: Sql;
  /** Application connection as the restricted role. */
  app: Sql;
  appUrl: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Owner connection string. */
  url: string;
  dataDir: string;
  /** Pool size of the application connection. */
  max?: number;
}

/** Migrates, then opens both pools (tests and benchmarks only: a process serving traffic uses openAppDatabase). */
export async function openLedgerDatabase(opts: OpenOptions): Promise<LedgerDatabase> {
  const password = appPassword(opts.dataDir);
  await migrateLedger({ ownerUrl: opts.url, appPassword: password });
  const appUrl = appUrlFor(opts.url, password);
  const admin = postgres(opts.url, {
    ...POOL_OPTIONS,
    max: 4,
    connection: { application_name: 'tallyproof-operator' },
  });
  const app = postgres(appUrl, { ...POOL_OPTIONS, max: opts.max ?? 10 });
  return {
    admin,
    app,
    appUrl,
    async close() {
      await Promise.all([app.end({ timeout: 5 }), admin.end({ timeout: 5 })]);
    },
  };
}
