// `npm run migrate` as compose runs it: an owner that is not a superuser and may not create roles
// migrates the ledger and the queue schema, twice without harm; the application role then passes the
// check every long-running process makes, and has no DDL right; asked to set the app role's password,
// such an owner fails with a message saying what to do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { serverUrl } from '../../test/support/db.js';
import { appUrlFor, openAppDatabase, withUser } from '../../ledger/src/db/connect.js';
import { APP_ROLE, ensureAppRole } from '../../ledger/src/db/migrate.js';

const run = promisify(execFile);
const APP_PASSWORD = process.env.TALLYPROOF_APP_DB_PASSWORD ?? null;

const repo = fileURLToPath(new URL('../..', import.meta.url));
const suffix = randomBytes(5).toString('hex');
const ownerRole = `tp_owner_${suffix}`;
const dbName = `tp_migrate_${suffix}`;
const ownerPassword = `owner-${suffix}`;
let root: postgres.Sql;
let ownerUrl: string;

beforeAll(async () => {
  root = postgres(serverUrl(), { max: 1, onnotice: () => {} });
  await root.unsafe(`CREATE ROLE ${ownerRole} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${ownerPassword}'`);
  await root.unsafe(`CREATE DATABASE ${dbName} OWNER ${ownerRole}`);
  // The superuser's part (compose: deploy/postgres/init-roles.sh): the application role exists.
  // The test server is shared: the role may exist, with the run's password (vitest.config.ts).
  await ensureAppRole(root, APP_PASSWORD); // what the superuser's init script does in compose
  const u = new URL(withUser(serverUrl(), ownerRole, ownerPassword));
  u.pathname = `/${dbName}`;
  ownerUrl = u.toString();
});

afterAll(async () => {
  await root.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await root.unsafe(`DROP ROLE IF EXISTS ${ownerRole}`);
  await root.end({ timeout: 5 });
});

function migrate(env: Record<string, string>) {
  const clean = { ...process.env, ...env };
  if (!env.TALLYPROOF_APP_DB_PASSWORD) delete clean.TALLYPROOF_APP_DB_PASSWORD;
  return run(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts'], { cwd: repo, env: clean });
}

describe('npm run migrate', () => {
  it('explains itself with --help', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts', '--help'], { cwd: repo });
    expect(stdout).toMatch(/DATABASE_OWNER_URL/);
    expect(stdout).toMatch(/TALLYPROOF_APP_DB_PASSWORD/);
  });

  it('migrates as an owner that is no superuser, and again with nothing left to do', async () => {
    const first = await migrate({ DATABASE_OWNER_URL: ownerUrl });
    expect(first.stdout).toMatch(/applied 0001_schema, .*0006_monotonic_state.*; queue schema at version \d+/);
    const second = await migrate({ DATABASE_OWNER_URL: ownerUrl });
    expect(second.stdout).toMatch(/ledger schema already up to date; queue schema at version \d+/);
  });

  it('leaves the application role fit for a long-running process, with no DDL right', async () => {
    const appUrl = new URL(appUrlFor(ownerUrl, APP_PASSWORD));
    const db = await openAppDatabase({ url: appUrl.toString(), max: 1 });
    try {
      expect(db.role).toBe(APP_ROLE);
      await expect(db.sql`CREATE TABLE mine (x int)`).rejects.toThrow(/permission denied/);
      await expect(db.sql`ALTER TABLE ballots DISABLE TRIGGER ballots_no_update`).rejects.toThrow(/must be owner/);
      await expect(db.sql`CREATE TABLE tallyproof_queue.mine (x int)`).resolves.toBeDefined(); // its own schema only
    } finally {
      await db.close();
    }
  });

  it('an owner that may not create roles cannot set the app role’s password, and says what to do', async () => {
    const failed = await migrate({ DATABASE_OWNER_URL: ownerUrl, TALLYPROOF_APP_DB_PASSWORD: 'x'.repeat(24) }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((failed as { code: number }).code).toBe(1);
    expect((failed as { stderr: string }).stderr).toMatch(/may not create the role tallyproof_app or set its password/);
  });
});
