// A fresh database for one bench run: on DATABASE_URL's server (or the one given), else on an embedded
// PostgreSQL started in the run's temporary directory; dropped again at the end.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import postgres, { type Sql } from 'postgres';
import { startEmbeddedPostgres } from '../../ledger/src/db/embedded.js';

export interface BenchDatabase {
  /** The database's name: `<prefix>_<8 hex>`. */
  name: string;
  /** The database's URL (the server's user: its owner). */
  url: string;
  /** A connection to the server itself, for server-wide reads (pg_stat_activity, WAL positions …). */
  root: Sql;
  /**
   * Drop the database (kept with `keep`), end `root` and stop the embedded server if this started one. A
   * failed drop is logged, never thrown: the bench's own result stands.
   */
  close(opts?: { keep?: boolean }): Promise<void>;
}

export async function createBenchDatabase(opts: {
  prefix: string;
  /** The run's temporary directory: the embedded server's data goes in `<tmp>/pg`. */
  tmp: string;
  log: (line: string) => void;
  /** The server; default DATABASE_URL, else an embedded one. */
  serverUrl?: string;
  /** The name to create (default: a fresh one). */
  name?: string;
}): Promise<BenchDatabase> {
  let serverUrl = opts.serverUrl ?? process.env.DATABASE_URL;
  let stopEmbedded = async () => {};
  if (!serverUrl) {
    opts.log('starting embedded PostgreSQL…');
    const pg = await startEmbeddedPostgres({ dir: join(opts.tmp, 'pg') });
    serverUrl = pg.url;
    stopEmbedded = pg.stop;
  }
  const name = opts.name ?? `${opts.prefix}_${randomBytes(4).toString('hex')}`;
  const root = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await root.unsafe(`CREATE DATABASE ${name}`);
  } catch (err) {
    await root.end();
    await stopEmbedded();
    throw err;
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    root,
    async close({ keep = false } = {}) {
      if (keep) opts.log(`kept the database ${name} (--keep)`);
      else
        await root
          .unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
          .catch((err: Error) => opts.log(`could not drop ${name}: ${err.message}`));
      await root.end();
      await stopEmbedded();
    },
  };
}
