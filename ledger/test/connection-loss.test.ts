import { describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { inject } from 'vitest';
import { isConnectionLoss } from '../src/db/connection-loss.js';

describe('isConnectionLoss', () => {
  it('recognises PostgreSQL shutting down and lost sockets, nothing else', () => {
    const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
    expect(isConnectionLoss(withCode('terminating connection due to administrator command', '57P01'))).toBe(true);
    expect(isConnectionLoss(withCode('the database system is shutting down', '57P03'))).toBe(true);
    expect(isConnectionLoss(withCode('write CONNECTION_CLOSED 127.0.0.1:5432', 'CONNECTION_CLOSED'))).toBe(true);
    // not ours to survive: a broken stdout pipe, a reset HTTP peer
    expect(isConnectionLoss(withCode('write EPIPE', 'EPIPE'))).toBe(false);
    expect(isConnectionLoss(withCode('read ECONNRESET', 'ECONNRESET'))).toBe(false);
    expect(isConnectionLoss(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionLoss(withCode('duplicate key value violates unique constraint', '23505'))).toBe(false);
    expect(isConnectionLoss(new TypeError('x is not a function'))).toBe(false);
    expect(isConnectionLoss('57P01')).toBe(false);
  });

  it('recognises the error a real server gives a terminated backend', async () => {
    const url = inject('databaseUrl');
    const victim = postgres(url, { max: 1, onnotice: () => {} });
    const killer = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const [{ pid }] = await victim`SELECT pg_backend_pid() AS pid`;
      const pending = victim`SELECT pg_sleep(10)`.catch((err: unknown) => err);
      await new Promise((r) => setTimeout(r, 200));
      await killer`SELECT pg_terminate_backend(${pid})`;
      expect(isConnectionLoss(await pending)).toBe(true);
    } finally {
      await victim.end({ timeout: 1 });
      await killer.end({ timeout: 1 });
    }
  });
});
