// Which PostgreSQL: DATABASE_URL when given, else the embedded one under <dataDir>/postgres.
import { join } from 'node:path';
import { startEmbeddedPostgres } from './embedded.js';

export interface ResolvedDatabase {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

export async function resolveDatabase(opts: {
  databaseUrl: string | null;
  dataDir: string;
  port?: number;
}): Promise<ResolvedDatabase> {
  if (opts.databaseUrl) return { url: opts.databaseUrl, embedded: false, stop: async () => {} };
  const db = await startEmbeddedPostgres({ dir: join(opts.dataDir, 'postgres'), port: opts.port });
  return { url: db.url, embedded: true, stop: () => db.stop() };
}
