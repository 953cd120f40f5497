// Opening the ledger database. Long-running processes (the API, the anchor worker, npm start once it has
// migrated) connect only as the application role, which the migrations grant no UPDATE or DELETE on
// ballots, no DDL, and whose every write the triggers keep append-only or monotonic
// (ledger/migrations/). The owner's connection exists only while migrations run (`npm run migrate`,
// scripts/migrate.ts), and in tests and benchmarks, which play the operator.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { connect as tcpConnect, Socket } from 'node:net';
import { join } from 'node:path';
import postgres, { type Options, type Sql } from 'postgres';
import { APP_ROLE, migrate, migrationFiles } from './migrate.js';
import { editUrl, isMultiHost, singleHostUrl, urlHosts, urlHostsText, type UrlHost } from './url.js';

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

/** `url` with another user and password; a multi-host URL keeps its hosts. */
export function withUser(url: string, user: string, password: string | null): string {
  return editUrl(url, (u) => {
    u.username = encodeURIComponent(user);
    u.password = password === null ? '' : encodeURIComponent(password);
  });
}

/** The role a URL names (its user part), decoded; null when it names none. */
export function urlUser(url: string): string | null {
  const u = new URL(singleHostUrl(url));
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

/**
 * A pool on `url`. A multi-host URL (a primary and its standbys, docs/operations.md "Replication and
 * failover") connects through writablePrimarySocket; postgres.js is handed only the first host, for its
 * user, database and TLS settings.
 */
function pool(url: string, options: Options<Record<string, never>>): Sql {
  if (!isMultiHost(url)) return postgres(url, options);
  // `socket` is postgres.js's documented custom-socket option (README, "Custom socket"), absent from its types.
  const socket = writablePrimarySocket(url, options.connect_timeout ?? POOL_OPTIONS.connect_timeout);
  return postgres(oneHost(url, 0), { ...options, socket } as Options<Record<string, never>>);
}

/**
 * The `index`-th host of a multi-host URL alone, without target_session_attrs: writablePrimarySocket
 * checks the host itself, and postgres.js, given one host that fails its check, would try it again forever.
 */
function oneHost(url: string, index: number): string {
  return editUrl(singleHostUrl(url, index), (u) => u.searchParams.delete('target_session_attrs'));
}

/** A connection that could not be made: 08001, which the API answers as an outage (503). */
export class NoWritableHostError extends Error {
  override name = 'NoWritableHostError';
  readonly code = '08001'; // sqlclient_unable_to_establish_sqlconnection
}

/**
 * The sockets of a pool on a multi-host URL: each new connection goes to the host that takes writes now
 * and commits them on two machines (isWritable), asking the hosts in turn, the last such one first.
 * postgres.js 3.4.9 walks a host list itself, but its read-write test reads only
 * default_transaction_read_only, which a hot standby reports as off (a pool could settle on a standby,
 * where every write fails), and it never gives up: while no host qualifies (a failover under way) every
 * query would wait, instead of failing so that the API answers 503. Here, when no host qualifies the
 * connection fails at once (NoWritableHostError) and the pool's next connection, after its backoff, asks
 * again.
 */
function writablePrimarySocket(url: string, connectTimeoutSeconds: number): () => Promise<Socket> {
  const hosts = urlHosts(url);
  let lastWritable = 0;
  const writable = (i: number) => isWritable(oneHost(url, i), connectTimeoutSeconds);
  return async () => {
    // The last writable host first (the usual answer: one probe); else the others at once, so that an
    // unreachable host costs one connect timeout, not one per host.
    const others = hosts.map((_, i) => i).filter((i) => i !== lastWritable);
    const found = (await writable(lastWritable))
      ? [lastWritable]
      : (await Promise.all(others.map(async (i) => ((await writable(i)) ? i : -1)))).filter((i) => i >= 0);
    for (const i of found) {
      const socket = await openSocket(hosts[i]!, connectTimeoutSeconds).catch(() => null);
      if (!socket) continue;
      lastWritable = i;
      return socket;
    }
    // Failed after postgres.js has attached its listeners: the same path as a refused connection.
    const failed = new Socket();
    setImmediate(() => failed.destroy(noWritableHost(url)));
    return failed;
  };
}

function noWritableHost(url: string): NoWritableHostError {
  return new NoWritableHostError(
    `no PostgreSQL among ${urlHostsText(url)} is a primary with synchronous replication (a failover under way?)`,
  );
}

/**
 * The URL of the host of `url` that takes writes now, alone: for clients that reach one host only
 * (node-postgres, which runs the queue schema's migrations). `url` itself when it names one host.
 */
export async function writableHostUrl(url: string): Promise<string> {
  if (!isMultiHost(url)) return url;
  for (let i = 0; i < urlHosts(url).length; i++) {
    if (await isWritable(oneHost(url, i), POOL_OPTIONS.connect_timeout)) return oneHost(url, i);
  }
  throw noWritableHost(url);
}

/**
 * Whether the server at `url` (one host of a replicated cluster) is the one to write to: a primary (not
 * in recovery), taking writes (default_transaction_read_only off: pg_auto_failover keeps a node being
 * promoted read-only until the old primary is out), whose commits wait for a standby
 * (synchronous_standby_names set). The last one closes the window where a ballot would be acknowledged
 * on one machine: after a failover pg_auto_failover 2.0 opens the new primary to writes (wait_primary)
 * before it turns synchronous replication back on. A connection made then would commit alone; here it
 * waits, answered 503, until the standby is back. False when the server cannot be reached.
 */
async function isWritable(url: string, connectTimeoutSeconds: number): Promise<boolean> {
  const probe = postgres(url, {
    max: 1,
    connect_timeout: connectTimeoutSeconds,
    fetch_types: false,
    onnotice: () => {},
    connection: { application_name: 'tallyproof-probe' },
  });
  try {
    const [r] = await probe`
      SELECT pg_is_in_recovery() AS recovery, current_setting('default_transaction_read_only') AS read_only,
             current_setting('synchronous_standby_names') AS standbys`;
    return r!.recovery === false && r!.read_only === 'off' && r!.standbys !== '';
  } catch {
    return false;
  } finally {
    await probe.end({ timeout: 1 }).catch(() => {});
  }
}

function openSocket(to: UrlHost, timeoutSeconds: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: to.host, port: to.port, timeout: timeoutSeconds * 1000 });
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.once('error', fail);
    socket.once('timeout', () => fail(new Error(`connecting to ${to.host}:${to.port} timed out`)));
    socket.once('connect', () => {
      socket.off('error', fail);
      socket.setTimeout(0);
      // postgres.js names the server from these when it opens TLS (SNI) and in its errors.
      Object.assign(socket, { host: to.host, port: to.port });
      resolve(socket);
    });
  });
}

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
  const sql = pool(opts.url, {
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
  const owner = pool(opts.ownerUrl, {
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
  const admin = pool(opts.url, {
    ...POOL_OPTIONS,
    max: 4,
    connection: { application_name: 'tallyproof-operator' },
  });
  const app = pool(appUrl, { ...POOL_OPTIONS, max: opts.max ?? 10 });
  return {
    admin,
    app,
    appUrl,
    async close() {
      await Promise.all([app.end({ timeout: 5 }), admin.end({ timeout: 5 })]);
    },
  };
}
