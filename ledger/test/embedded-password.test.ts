// The embedded PostgreSQL's superuser password is random per data directory, kept in a file only this
// user can read; a data directory from before (the fixed password) is moved to a random one on start.
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { embeddedPasswordFile, startEmbeddedPostgres } from '../src/db/embedded.js';

const root = mkdtempSync(join(tmpdir(), 'tallyproof-embedded-pw-'));
chmodSync(root, 0o755); // as root, the server runs as a `postgres` user that must reach its directory
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function canLogIn(port: number, password: string): Promise<boolean> {
  const sql = postgres({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres', max: 1 });
  try {
    await sql`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

describe('embedded PostgreSQL superuser password', () => {
  it('is random for a new data directory, mode 0600, and the same on the next start', async () => {
    const dir = join(root, 'fresh', 'data');
    const first = await startEmbeddedPostgres({ dir });
    const file = embeddedPasswordFile(dir);
    const password = readFileSync(file, 'utf8').trim();
    try {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(first.url).toContain(encodeURIComponent(password));
      expect(await canLogIn(first.port, 'tallyproof-embedded')).toBe(false);
    } finally {
      await first.stop();
    }
    const second = await startEmbeddedPostgres({ dir });
    try {
      expect(await canLogIn(second.port, password)).toBe(true);
    } finally {
      await second.stop();
    }
  });

  it('replaces the fixed password of an older data directory with a random one', async () => {
    const dir = join(root, 'legacy', 'data');
    const old = await startEmbeddedPostgres({ dir, password: 'tallyproof-embedded' }); // as before
    await old.stop();
    expect(existsSync(embeddedPasswordFile(dir))).toBe(false);
    const upgraded = await startEmbeddedPostgres({ dir });
    try {
      const password = readFileSync(embeddedPasswordFile(dir), 'utf8').trim();
      expect(password).not.toBe('tallyproof-embedded');
      expect(await canLogIn(upgraded.port, password)).toBe(true);
      expect(await canLogIn(upgraded.port, 'tallyproof-embedded')).toBe(false);
    } finally {
      await upgraded.stop();
    }
  });
});
