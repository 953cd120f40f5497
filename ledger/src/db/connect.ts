// Opening the ledger database: the admin connection applies migrations, the application connection
// uses the restricted role the migrations grant (no UPDATE/DELETE on ballots, no DDL).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import postgres, { type Sql } from 'postgres';
import { APP_ROLE, migrate } from './migrate.js';

export interface LedgerDatabase {
  /** Owner connection: migrations, admin tasks. */
  admin: Sql;
  /** Application connection as the restricted role. */
  app: Sql;
  appUrl: string;
  close(): Promise<void>;
}

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

export interface OpenOptions {
  /** Owner connection string (DATABASE_URL). */
  url: string;
  dataDir: string;
  /** Pool size of the application connection. */
  max?: number;
  /** Skip migrations (when another process owns them). */
  migrate?: boolean;
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

export async function openLedgerDatabase(opts: OpenOptions): Promise<LedgerDatabase> {
  const admin = postgres(opts.url, { ...POOL_OPTIONS, max: 4 });
  const password = appPassword(opts.dataDir);
  if (opts.migrate !== false) await migrate(admin, { appPassword: password });
  const appUrl = withUser(opts.url, APP_ROLE, password);
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
