// The postgres.js fixes applied at install (scripts/patch-postgres.mjs): a connection whose backend is
// terminated fails its queries with a connection error, and the process and the pool carry on.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, inject, it } from 'vitest';
import postgres from 'postgres';
import { isConnectionLoss } from '../src/db/connection-loss.js';
import { until } from '../../test/support/wait.js';

const within = <T>(p: Promise<T>, ms = 5000) =>
  Promise.race([p, new Promise<'hung'>((r) => setTimeout(() => r('hung'), ms))]);

describe('postgres.js with a terminated backend', () => {
  it('is patched in every build the package ships', () => {
    const entry = createRequire(import.meta.url).resolve('postgres');
    for (const build of ['src', 'cjs/src']) {
      const file = entry.replace(/cjs\/src\/index\.js$/, `${build}/connection.js`);
      expect(readFileSync(file, 'utf8').startsWith('/* tallyproof: patched'), file).toBe(true);
    }
  });

  it('fails a transaction and a reserved connection cleanly, and the pool goes on answering', async () => {
    const url = inject('databaseUrl');
    const sql = postgres(url, { max: 2, onnotice: () => {} });
    const killer = postgres(url, { max: 1, onnotice: () => {} });
    try {
      // a transaction whose backend dies under it
      let pid = 0;
      const tx = sql
        .begin(async (t) => {
          [{ pid }] = await t`SELECT pg_backend_pid() AS pid`;
          await Promise.all([t`SELECT pg_sleep(5)`, t`SELECT ${1}::int + ${2}::int AS x`]);
        })
        .then(
          () => null,
          (err: unknown) => err,
        );
      // Kill it once it sleeps (a condition, not a clock: on a busy machine the first query may take a while).
      await until('the transaction to reach pg_sleep', async () => {
        if (!pid) return false;
        const [a] = await killer`SELECT query FROM pg_stat_activity WHERE pid = ${pid} AND state = 'active'`;
        return Boolean(a && String(a.query).includes('pg_sleep'));
      });
      await killer`SELECT pg_terminate_backend(${pid})`;
      const err = await within(tx);
      expect(err).not.toBe('hung');
      expect(isConnectionLoss(err)).toBe(true);

      // a reserved connection whose backend dies, used again (this killed the process before the fix)
      const reserved = await sql.reserve();
      const [{ pid: rpid }] = await reserved`SELECT pg_backend_pid() AS pid`;
      await killer`SELECT pg_terminate_backend(${rpid})`;
      await new Promise((r) => setTimeout(r, 200));
      const again = await within(
        reserved`SELECT 1 AS one`.then(
          () => 'answered',
          (e: unknown) => e,
        ),
      );
      expect(again).not.toBe('hung');
      reserved.release();

      // the pool answers again (a dead connection may fail one query on its way out)
      const answers: unknown[] = [];
      for (let i = 0; i < 4; i++)
        answers.push(
          await within(
            sql`SELECT 1 AS one`.then(
              (r) => r[0]!.one,
              (e: unknown) => e,
            ),
          ),
        );
      expect(answers.slice(-2)).toEqual([1, 1]);
    } finally {
      await sql.end({ timeout: 1 });
      await killer.end({ timeout: 1 });
    }
  });
});
